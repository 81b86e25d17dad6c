// wiretest exporter over real sockets: Prometheus' /probe protocol against
// live servers (ours, python3), plugins isolated, expositions checked by
// promtool.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import type { Executor } from "../../lib/executor/executor.ts";
import { startExporter } from "../../lib/exporter/server.ts";
import { freePort, ignoreWithout, spawnPeer, waitFor } from "../_support/peer.ts";
import { get, promtoolCheck, samples, testExporter } from "./_exporter.ts";
import { makeCertificates } from "../_support/certs.ts";
import { commandOutput } from "../_support/command.ts";

const CONFIG = `modules:
  http_2xx:
    plugin: http-probe
    timeout: 5s
    expect:
      metrics.status: 200..299
  http_body:
    plugin: http-probe
    expect:
      facts.body_text: "/welcome/"
  local_only:
    plugin: http-probe
    targets: ["http://127\\\\.0\\\\.0\\\\.1:[0-9]+/.*"]
  udp:
    plugin: udp-ping
    # 3 s: no echo of a loaded machine comes late (every one is asserted received).
    with: { count: 20, intervalMs: 5, timeoutMs: 3000 }
  echo:
    plugin: echo
    with: { count: 3 }
`;

async function httpServer(body = "hello") {
  const service =
    await (await inProcessExecutor(builtinRegistry()).prepare("http-probe", "server", { body }))
      .serve();
  return { url: `http://${formatAddress(service.address)}/`, service };
}

Deno.test({
  name: "exporter: /probe answers blackbox's http metrics for a live server, valid for promtool",
  ignore: ignoreWithout("promtool"),
}, async () => {
  await using ex = await testExporter(CONFIG);
  const { url, service } = await httpServer("hello");
  try {
    const target = encodeURIComponent(url);
    const answer = await get(`${ex.base}/probe?module=http_2xx&target=${target}`);
    assert.equal(answer.status, 200);
    assert.match(answer.type, /^text\/plain; version=0\.0\.4/);
    const values = samples(answer.text);
    assert.equal(values.get("probe_success"), 1);
    assert.equal(values.get("probe_http_status_code"), 200);
    assert.equal(values.get("probe_http_content_length"), 5);
    assert.equal(values.get("probe_http_uncompressed_body_length"), 5);
    assert.equal(values.get("probe_http_redirects"), 0);
    assert.equal(values.get("probe_http_ssl"), 0);
    assert.equal(values.get("probe_http_version"), 1.1);
    assert.equal(values.get("probe_ip_protocol"), 4);
    assert.equal(values.get("probe_timeout_seconds"), 5);
    for (const phase of ["resolve", "connect", "tls", "processing", "transfer"]) {
      const value = values.get(`probe_http_duration_seconds{phase="${phase}"}`);
      assert.ok(value !== undefined && value >= 0, `phase ${phase}: ${value}`);
    }
    assert.ok(values.get('probe_http_duration_seconds{phase="connect"}')! > 0);
    // The plugin's own metrics, in base units: only those no blackbox
    // family above carries (a second series of the same number is waste).
    assert.deepEqual(
      [...new Set([...values.keys()].filter((k) => k.startsWith("probe_http_probe_")))].sort(),
      [
        "probe_http_probe_connections",
        "probe_http_probe_header_bytes",
        "probe_http_probe_redirect_seconds",
        "probe_http_probe_requests",
        "probe_http_probe_tls_inspections",
        "probe_http_probe_total_seconds",
      ],
    );
    assert.ok(values.get("probe_http_probe_total_seconds")! < 5);
    const checked = await promtoolCheck(answer.text);
    assert.equal(checked.code, 0, checked.output);

    const open = await get(`${ex.base}/probe?module=http_2xx&target=${target}`, {
      accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    });
    assert.match(open.type, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(open.text.endsWith("# EOF\n"));
    assert.equal(samples(open.text.replace("# EOF\n", "")).get("probe_success"), 1);
  } finally {
    await service.close();
  }
});

Deno.test("exporter: expectations decide probe_success; a failed body match is probe_failed_due_to_regex", async () => {
  await using ex = await testExporter(CONFIG);
  const { url, service } = await httpServer("hello");
  const other = await httpServer("welcome home");
  try {
    const miss = samples((await get(`${ex.base}/probe?module=http_body&target=${url}`)).text);
    assert.equal(miss.get("probe_success"), 0);
    assert.equal(miss.get("probe_failed_due_to_regex"), 1);
    assert.equal(miss.get("probe_http_status_code"), 200);
    const hit = samples((await get(`${ex.base}/probe?module=http_body&target=${other.url}`)).text);
    assert.equal(hit.get("probe_success"), 1);
    assert.equal(hit.get("probe_failed_due_to_regex"), 0);
  } finally {
    await service.close();
    await other.service.close();
  }
});

Deno.test("exporter: unknown module, missing, malformed or disallowed target answer 400 like blackbox", async () => {
  await using ex = await testExporter(CONFIG);
  const unknown = await get(`${ex.base}/probe?module=nope&target=127.0.0.1:1`);
  assert.equal(unknown.status, 400);
  assert.equal(unknown.text, 'Unknown module "nope"\n');
  const missing = await get(`${ex.base}/probe?module=echo`);
  assert.equal(missing.status, 400);
  assert.equal(missing.text, "Target parameter is missing\n");
  const malformed = await get(
    `${ex.base}/probe?module=echo&target=${encodeURIComponent("no port")}`,
  );
  assert.equal(malformed.status, 400);
  assert.match(malformed.text, /^Cannot probe target "no port" with module "echo": /);
  const disallowed = await get(`${ex.base}/probe?module=local_only&target=http://10.0.0.1:80/`);
  assert.equal(disallowed.status, 400);
  assert.equal(
    disallowed.text,
    'Target "http://10.0.0.1:80/" is not allowed by module "local_only": a target must match its pattern "http://127\\\\.0\\\\.0\\\\.1:[0-9]+/.*"\n',
  );
  const own = samples((await get(`${ex.base}/metrics`)).text);
  assert.equal(own.get('wiretest_exporter_bad_requests_total{reason="unknown_module"}'), 1);
  assert.equal(own.get('wiretest_exporter_bad_requests_total{reason="malformed_target"}'), 1);
  assert.equal(own.get('wiretest_exporter_bad_requests_total{reason="target_not_allowed"}'), 1);
});

Deno.test("exporter: a target with an IPv6 zone id is a malformed target (400) for every plugin, named", async () => {
  await using ex = await testExporter(CONFIG);
  for (
    const [module, target] of [
      ["echo", "[fe80::1%lo]:7"],
      // Was probe_success 0 with an untyped "Invalid URL" in the debug log.
      ["udp", "[fe80::1%lo]:7"],
      ["http_2xx", "http://[fe80::1%25lo]:7/"],
      ["http_2xx", "[fe80::1%lo]:7"],
    ]
  ) {
    const answer = await get(
      `${ex.base}/probe?module=${module}&target=${encodeURIComponent(target)}`,
    );
    assert.equal(answer.status, 400, `${module} ${target}: ${answer.text}`);
    assert.ok(
      answer.text.startsWith(
        `Cannot probe target ${JSON.stringify(target)} with module "${module}": `,
      ),
      answer.text,
    );
    assert.match(
      answer.text,
      /has an IPv6 zone id \("%(25)?lo"\), which wiretest does not support/,
    );
  }
});

Deno.test("exporter: a hanging target answers before the scrape timeout with probe_success 0", async () => {
  await using ex = await testExporter(CONFIG);
  // Accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const answer = await get(
      `${ex.base}/probe?module=http_2xx&target=http://127.0.0.1:${listener.addr.port}/`,
      { "X-Prometheus-Scrape-Timeout-Seconds": "2" },
    );
    assert.equal(answer.status, 200);
    const values = samples(answer.text);
    assert.equal(values.get("probe_success"), 0);
    // blackbox's offset: the module's 5 s is longer than 2 s - 0.5 s.
    assert.equal(values.get("probe_timeout_seconds"), 1.5);
    // Ended by that deadline, not the module's 5 s (with room for a loaded
    // machine to answer late: the 1.5 s itself is probe_timeout_seconds).
    assert.ok(values.get("probe_duration_seconds")! < 4, answer.text);
    assert.equal(held.length, 1);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    held.forEach((c) => c.close());
  }
});

Deno.test("exporter: a malformed scrape timeout header is a 400 (blackbox: 500) with blackbox's text", async () => {
  await using ex = await testExporter(CONFIG);
  const answer = await get(`${ex.base}/probe?module=echo&target=127.0.0.1:1`, {
    "X-Prometheus-Scrape-Timeout-Seconds": "soon",
  });
  assert.equal(answer.status, 400);
  assert.match(answer.text, /^Failed to parse timeout from Prometheus header: /);
});

// Until the peer echoes a datagram (bounded: 5 s).
async function udpEchoReady(port: number): Promise<void> {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const received = socket.receive().then(() => true, () => false);
  try {
    for (let i = 0; i < 50; i++) {
      await socket.send(new Uint8Array([1]), { hostname: "127.0.0.1", port, transport: "udp" });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        received,
        new Promise<false>((ok) => timer = setTimeout(() => ok(false), 100)),
      ]);
      clearTimeout(timer);
      if (got) return;
    }
  } finally {
    socket.close();
    await received;
  }
  throw new Error(`Cannot reach the UDP echo on 127.0.0.1:${port} within 5 s`);
}

Deno.test({
  name: "exporter: udp-ping against a python3 UDP echo gives loss, rtt quantiles, jitter",
  ignore: ignoreWithout("python3", "promtool"),
}, async () => {
  await using ex = await testExporter(CONFIG);
  const port = freePort("udp");
  await using _peer = spawnPeer("python3", [
    "-c",
    `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("127.0.0.1",${port}))\nprint("ready",flush=True)\nwhile True:\n  d,a=s.recvfrom(65535)\n  s.sendto(d,a)\n`,
  ]);
  await udpEchoReady(port);
  const answer = await get(`${ex.base}/probe?module=udp&target=127.0.0.1:${port}`);
  const values = samples(answer.text);
  assert.equal(values.get("probe_success"), 1);
  assert.equal(values.get("probe_udp_ping_sent"), 20);
  assert.equal(values.get("probe_udp_ping_received"), 20);
  assert.equal(values.get("probe_udp_ping_loss_ratio"), 0);
  assert.ok(values.get('probe_udp_ping_rtt_seconds{quantile="0.99"}')! > 0);
  assert.ok(values.has("probe_udp_ping_jitter_seconds"));
  assert.equal(values.get("probe_udp_ping_duplicates"), 0);
  assert.equal(values.get("probe_udp_ping_reordered"), 0);
  // Counted on the libc path the exporter's udp-ping takes (its manifest grants FFI for libc).
  assert.equal(values.get("probe_udp_ping_receive_drops"), 0);
  assert.equal((await promtoolCheck(answer.text)).code, 0);
  // Nothing answers on a closed port: every ping is lost.
  const lost = samples(
    (await get(`${ex.base}/probe?module=udp&target=127.0.0.1:${freePort("udp")}`)).text,
  );
  assert.equal(lost.get("probe_success"), 0);
  assert.equal(lost.get("probe_udp_ping_loss_ratio"), 1);
});

Deno.test({
  name:
    "exporter: echo against wiretest's echo server, and debug=true gives log, metrics, outcome, module",
  ignore: ignoreWithout("promtool"),
}, async () => {
  await using ex = await testExporter(CONFIG);
  const service = await (await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {}))
    .serve();
  try {
    const target = formatAddress(service.address);
    const answer = await get(`${ex.base}/probe?module=echo&target=${target}`);
    const values = samples(answer.text);
    assert.equal(values.get("probe_success"), 1);
    assert.equal(values.get("probe_echo_round_trips"), 3);
    const checked = await promtoolCheck(answer.text);
    assert.equal(checked.code, 0, checked.output);
    assert.equal(values.get("probe_echo_mismatches_bytes"), 0);
    const debug = await get(`${ex.base}/probe?module=echo&target=${target}&debug=true`);
    assert.equal(debug.status, 200);
    assert.match(debug.text, /^Logs for the probe:\n/);
    assert.match(debug.text, /msg="Probe succeeded/);
    assert.match(debug.text, /\n\n\nMetrics that would have been returned:\n# HELP probe_success /);
    assert.match(debug.text, /\n\n\nOutcome:\n\{\n {2}"ok": true,/);
    assert.match(debug.text, /\n\n\nModule configuration:\nplugin: echo\n/);
    // A later scrape names the plugin's metrics from its declarations too
    // (kept once answered).
    const third = samples((await get(`${ex.base}/probe?module=echo&target=${target}`)).text);
    assert.equal(third.get("probe_echo_mismatches_bytes"), 0);
  } finally {
    await service.close();
  }
});

Deno.test("exporter: an invalid reload keeps the old config and names file:line:column", async () => {
  await using ex = await testExporter(CONFIG);
  const service = await (await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {}))
    .serve();
  try {
    const target = formatAddress(service.address);
    await Deno.writeTextFile(
      ex.configFile,
      "modules:\n  echo:\n    plugin: echo\n    with: { count: -1 }\n    timout: 5s\n",
    );
    const refused = await fetch(`${ex.base}/-/reload`, { method: "POST" });
    const text = await refused.text();
    assert.equal(refused.status, 500);
    // Both problems in one pass: the param's and the field's.
    assert.match(text, /: 2 problems\n {2}.*exporter\.yaml:4:20: "modules\.echo\.with\.count" /);
    assert.match(text, /\n {2}.*exporter\.yaml:5:5: "modules\.echo\.timout" is not a known field/);
    const own = samples((await get(`${ex.base}/metrics`)).text);
    assert.equal(own.get("wiretest_exporter_config_last_reload_successful"), 0);
    // The old config still serves.
    const still = samples((await get(`${ex.base}/probe?module=echo&target=${target}`)).text);
    assert.equal(still.get("probe_echo_round_trips"), 3);

    await Deno.writeTextFile(
      ex.configFile,
      "modules:\n  echo:\n    plugin: echo\n    with: { count: -1 }\n",
    );
    const params = await fetch(`${ex.base}/-/reload`, { method: "POST" });
    assert.equal(params.status, 500);
    assert.match(await params.text(), /exporter\.yaml:4:20": "modules\.echo\.with\.count" /);

    await Deno.writeTextFile(
      ex.configFile,
      "modules:\n  echo5:\n    plugin: echo\n    with: { count: 5 }\n",
    );
    const accepted = await fetch(`${ex.base}/-/reload`, { method: "POST" });
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
    const five = samples((await get(`${ex.base}/probe?module=echo5&target=${target}`)).text);
    assert.equal(five.get("probe_echo_round_trips"), 5);
    assert.equal((await get(`${ex.base}/probe?module=echo&target=${target}`)).status, 400);
  } finally {
    await service.close();
  }
});

Deno.test({
  name:
    "exporter: /metrics counts probes by module and result, with process RSS and CPU, valid for promtool",
  ignore: ignoreWithout("promtool"),
}, async () => {
  await using ex = await testExporter(CONFIG);
  await get(`${ex.base}/probe?module=echo&target=127.0.0.1:${freePort()}`);
  const own = await get(`${ex.base}/metrics`);
  const values = samples(own.text);
  assert.equal(values.get('wiretest_exporter_probes_total{module="echo",result="failure"}'), 1);
  assert.ok(values.get("process_resident_memory_bytes")! > 1_000_000);
  assert.ok(values.get("process_cpu_seconds_total")! > 0);
  assert.equal(values.get("wiretest_exporter_probes_in_flight"), 0);
  const checked = await promtoolCheck(own.text);
  assert.equal(checked.code, 0, checked.output);
});

Deno.test("exporter: probes wait for a free slot beyond --max-concurrent and all answer", async () => {
  await using ex = await testExporter(CONFIG, { maxConcurrentProbes: 2 });
  const service = await (await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {}))
    .serve();
  try {
    const target = formatAddress(service.address);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => get(`${ex.base}/probe?module=echo&target=${target}`)),
    );
    for (const answer of answers) assert.equal(samples(answer.text).get("probe_success"), 1);
    await waitFor(() => service.stats().active === 0, "the echo connections to close");
    assert.equal(service.stats().connections, 6);
  } finally {
    await service.close();
  }
});

Deno.test("exporter: a module and target are prepared once across scrapes, again after a reload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_prepare_" });
  const registry = builtinRegistry();
  const inner = inProcessExecutor(registry);
  const prepared: string[] = [];
  const counting: Executor = {
    isolated: false,
    prepare: ((plugin: string, role: "client" | "server", params: unknown) => {
      prepared.push(JSON.stringify(params));
      return inner.prepare(plugin, role, params);
    }) as Executor["prepare"],
    describe: (plugin) => inner.describe(plugin),
  };
  const service = await (await inner.prepare("echo", "server", {})).serve();
  try {
    await Deno.writeTextFile(`${dir}/e.yaml`, "modules:\n  echo:\n    plugin: echo\n");
    await using exporter = await startExporter({
      configFile: `${dir}/e.yaml`,
      port: 0,
      executor: counting,
    });
    const base = `http://127.0.0.1:${exporter.port}`;
    const target = formatAddress(service.address);
    const atLoad = prepared.length;
    for (let i = 0; i < 3; i++) {
      const values = samples((await get(`${base}/probe?module=echo&target=${target}`)).text);
      assert.equal(values.get("probe_success"), 1);
    }
    assert.equal(prepared.length - atLoad, 1);
    await exporter.reload();
    const afterReload = prepared.length;
    await get(`${base}/probe?module=echo&target=${target}`);
    assert.equal(prepared.length - afterReload, 1);
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "exporter: an https probe's certificate metrics are the measured connection's certificate as openssl reads it, on either TLS client",
  ignore: ignoreWithout("openssl"),
}, async () => {
  await using certs = await makeCertificates({ days: 10 });
  const service = await (await inProcessExecutor(builtinRegistry()).prepare(
    "http-probe",
    "server",
    { body: "tls", certFile: certs.certFile, keyFile: certs.keyFile },
  )).serve();
  try {
    await using ex = await testExporter(`modules:
  https_2xx:
    plugin: http-probe
    timeout: 5s
    with: { caFile: "${certs.caCertFile}" }
  https_node:
    plugin: http-probe
    timeout: 5s
    with: { caFile: "${certs.caCertFile}", tlsClient: node }
`);
    const target = encodeURIComponent(
      `https://localhost:${(service.address as Deno.NetAddr).port}/`,
    );
    const out = await commandOutput("openssl", {
      args: ["x509", "-in", certs.certFile, "-noout", "-fingerprint", "-sha256", "-enddate"],
    }, 10_000);
    const text = new TextDecoder().decode(out.stdout);
    const fingerprint = /^sha256 Fingerprint=(.*)$/m.exec(text)![1].replaceAll(":", "")
      .toLowerCase();
    const expiry = Date.parse(/^notAfter=(.*)$/m.exec(text)![1]) / 1000;
    // The default: a handshake-only inspection, then the measured connection
    // (its certificate checked equal to the inspection's); node: one connection.
    let connections = 0;
    for (const [module, perProbe] of [["https_2xx", 2], ["https_node", 1]] as const) {
      for (let probe = 1; probe <= 3; probe++) {
        const answer = await get(`${ex.base}/probe?module=${module}&target=${target}`);
        const values = samples(answer.text);
        assert.equal(values.get("probe_success"), 1, answer.text);
        assert.equal(values.get("probe_ssl_earliest_cert_expiry"), expiry);
        const chain = [...values.keys()].find((key) =>
          key.startsWith("probe_ssl_last_chain_info{")
        );
        assert.match(chain!, new RegExp(`fingerprint_sha256="${fingerprint}"`));
        assert.match(answer.text, /^probe_tls_version_info\{version="TLS 1\.3"\} 1$/m);
        connections += perProbe;
        assert.equal(service.stats().connections, connections, `${module} probe ${probe}`);
      }
    }
  } finally {
    await service.close();
  }
});
