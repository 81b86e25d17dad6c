// A real Prometheus scrapes wiretest's exporter with the standard
// blackbox relabelling config: nginx over HTTP and HTTPS, a python3 UDP
// echo, a wiretest echo server. Assertions read Prometheus' HTTP API.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { freePort, ignoreWithout, spawnPeer } from "../_support/peer.ts";
import { testExporter } from "./_exporter.ts";
import { query, type QueryResult, startNginx, startPrometheus } from "./_peers.ts";

const UDP_ECHO = (port: number) =>
  `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("127.0.0.1",${port}))\nwhile True:\n  d,a=s.recvfrom(65535)\n  s.sendto(d,a)\n`;

// The relabelling every blackbox_exporter setup uses: the listed target
// becomes the `target` param and the `instance` label; the exporter is
// what is scraped.
function job(name: string, module: string, targets: string[], exporter: string): string {
  return `  - job_name: ${name}
    metrics_path: /probe
    params: { module: [${module}] }
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${exporter}
`;
}

Deno.test({
  name:
    "Prometheus scrapes wiretest's exporter with blackbox relabelling: nginx http/https, UDP echo, echo",
  ignore: ignoreWithout("prometheus", "nginx", "python3"),
}, async () => {
  await using nginx = await startNginx();
  const udpPort = freePort("udp");
  await using _udp = spawnPeer("python3", ["-c", UDP_ECHO(udpPort)]);
  const echo = await (await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {}))
    .serve();
  await using exporter = await testExporter(`modules:
  http_2xx:
    plugin: http-probe
    with: { caFile: "${nginx.certs.caCertFile}" }
    expect:
      metrics.status: 200..299
  udp:
    plugin: udp-ping
    with: { count: 10, intervalMs: 10, timeoutMs: 1000 }
  echo:
    plugin: echo
    with: { count: 5 }
`);
  const address = `127.0.0.1:${exporter.exporter.port}`;
  try {
    // Scrapes of 3 s (probes of 2.5 s): the last scrape is what is asserted,
    // and one over its timeout on a loaded machine would read up 0.
    await using prometheus = await startPrometheus(`global:
  scrape_interval: 3s
  scrape_timeout: 3s
scrape_configs:
${job("http", "http_2xx", [nginx.http, nginx.https], address)}${
      job("udp", "udp", [`127.0.0.1:${udpPort}`], address)
    }${job("echo", "echo", [formatAddress(echo.address)], address)}`);
    // Until every target has been scraped at least twice (bounded: 40 s).
    let success: QueryResult[] = [];
    for (let i = 0; i < 80; i++) {
      success = await query(prometheus.base, "probe_success");
      const scrapes = await query(prometheus.base, "count_over_time(probe_success[1m])");
      if (scrapes.length === 4 && scrapes.every((r) => r.value >= 2)) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const by = (results: QueryResult[]) =>
      new Map(results.map((r) => [`${r.metric.job} ${r.metric.instance}`, r]));
    const ok = by(success);
    assert.equal(ok.get(`http ${nginx.http}`)?.value, 1, JSON.stringify(success));
    assert.equal(ok.get(`http ${nginx.https}`)?.value, 1);
    assert.equal(ok.get(`udp 127.0.0.1:${udpPort}`)?.value, 1);
    assert.equal(ok.get(`echo ${formatAddress(echo.address)}`)?.value, 1);

    const phases = await query(prometheus.base, 'probe_http_duration_seconds{phase="tls"}');
    const tls = by(phases);
    assert.equal(tls.get(`http ${nginx.http}`)?.value, 0);
    assert.ok(tls.get(`http ${nginx.https}`)!.value > 0);
    const connect = await query(prometheus.base, 'probe_http_duration_seconds{phase="connect"}');
    assert.equal(connect.length, 2);
    assert.ok(connect.every((r) => r.value > 0));

    // The leaf's notAfter, read by openssl, is what Prometheus stored.
    const end = new Deno.Command("openssl", {
      args: ["x509", "-noout", "-enddate", "-in", nginx.certs.certFile],
    }).outputSync();
    const notAfter = Date.parse(new TextDecoder().decode(end.stdout).replace("notAfter=", "")) /
      1000;
    const expiry = await query(prometheus.base, "probe_ssl_earliest_cert_expiry");
    assert.equal(expiry.length, 1);
    assert.equal(expiry[0].metric.instance, nginx.https);
    assert.equal(expiry[0].value, notAfter);

    const loss = await query(prometheus.base, "probe_udp_ping_loss_ratio");
    assert.equal(loss.length, 1);
    assert.equal(loss[0].value, 0);
    const rtt = await query(prometheus.base, 'probe_udp_ping_rtt_seconds{quantile="0.99"}');
    assert.ok(rtt[0].value > 0);
    const trips = await query(prometheus.base, "probe_echo_round_trips");
    assert.equal(trips[0].value, 5);
    // Prometheus found nothing to complain of in the expositions.
    const up = await query(prometheus.base, "up");
    assert.equal(up.length, 4);
    assert.ok(up.every((r) => r.value === 1), JSON.stringify(up));
  } finally {
    await echo.close();
  }
});
