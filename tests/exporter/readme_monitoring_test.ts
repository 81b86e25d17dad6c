// README's Monitoring section, run: its exporter.yaml and command serve
// probes, its prometheus.yml passes promtool and scrapes them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN, ROOT } from "../_support/deno_process.ts";
import { freePort, ignoreWithout, spawnPeer, waitForTcp } from "../_support/peer.ts";
import { get, samples } from "./_exporter.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { query, startPrometheus } from "./_peers.ts";

const README = await Deno.readTextFile(join(ROOT, "README.md"));
const SECTION = README.slice(
  README.indexOf("\n## Monitoring\n"),
  README.indexOf("\n## The plugins\n"),
);
/** The command README shows; readme_commands_test.ts counts it as run here. */
export const EXPORTER_COMMAND = "wiretest exporter --config exporter.yaml --listen 127.0.0.1:9115";

function yamlBlock(file: string): string {
  const block = [...SECTION.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1])
    .find((text) => text.startsWith(`# ${file}\n`));
  assert.ok(block, `README's Monitoring section has a ${file} block`);
  return block;
}

Deno.test({
  name:
    "README Monitoring: exporter.yaml and the command serve probes; Prometheus scrapes them as prometheus.yml says",
  ignore: ignoreWithout("python3", "prometheus", "promtool"),
}, async () => {
  assert.ok(SECTION.includes("```sh\n" + EXPORTER_COMMAND + "\n```"));
  const dir = await Deno.makeTempDir({ prefix: "wiretest_readme_monitoring_" });
  try {
    await Deno.writeTextFile(join(dir, "exporter.yaml"), yamlBlock("exporter.yaml"));
    await Deno.mkdir(join(dir, "sub"));
    const webPort = freePort();
    await using _web = spawnPeer("python3", [
      "-m",
      "http.server",
      String(webPort),
      "--bind",
      "127.0.0.1",
    ], { cwd: dir });
    await waitForTcp(webPort);
    const port = freePort();
    // The README command, with this checkout's CLI for `wiretest` and a free port.
    const args = EXPORTER_COMMAND.replace("9115", String(port)).split(" ").slice(1);
    await using _exporter = spawnPeer(Deno.execPath(), ["run", "-A", MAIN, ...args], { cwd: dir });
    await waitForTcp(port, 30_000);
    const base = `http://127.0.0.1:${port}`;
    const web = samples(
      (await get(`${base}/probe?module=http_2xx&target=127.0.0.1:${webPort}/`)).text,
    );
    assert.equal(web.get("probe_success"), 1);
    assert.equal(web.get("probe_http_status_code"), 200);
    // http_2xx follows redirects, as blackbox_exporter's does (python's
    // server answers a folder without its "/" with 301).
    const moved = samples(
      (await get(`${base}/probe?module=http_2xx&target=127.0.0.1:${webPort}/sub`)).text,
    );
    assert.equal(moved.get("probe_http_redirects"), 1);
    assert.equal(moved.get("probe_http_status_code"), 200);
    assert.equal(moved.get("probe_success"), 1);
    // Without Prometheus' header (curl), 120 s minus --timeout-offset (a
    // port nothing listens on: refused at once).
    const untimed = samples(
      (await get(`${base}/probe?module=echo&target=127.0.0.1:${freePort()}`)).text,
    );
    assert.equal(untimed.get("probe_timeout_seconds"), 119.5);
    // Without a module, a scrape uses http_2xx, as README says.
    const unnamed = samples((await get(`${base}/probe?target=127.0.0.1:${webPort}/sub`)).text);
    assert.equal(unnamed.get("probe_http_redirects"), 1);
    // udp_echo sends no warm-up: each scrape's datagrams are its timed
    // pings only (the udp-ping server counts warm-up ones apart).
    const udp = await (await inProcessExecutor(builtinRegistry()).prepare("udp-ping", "server", {}))
      .serve();
    try {
      const pinged = samples(
        (await get(`${base}/probe?module=udp_echo&target=${formatAddress(udp.address)}`)).text,
      );
      assert.equal(pinged.get("probe_success"), 1);
      assert.equal(pinged.get("probe_udp_ping_loss_ratio"), 0);
      assert.deepEqual([udp.stats().datagrams_in, udp.stats().warm_up_in], [20, 0]);
    } finally {
      await udp.close();
    }
    // The module's target patterns refuse what they do not name.
    const refused = await get(`${base}/probe?module=https_local&target=https://127.0.0.1/`);
    assert.equal(refused.status, 400);

    const scrape = yamlBlock("prometheus.yml")
      .replace("127.0.0.1:8080", `127.0.0.1:${webPort}`)
      .replace("127.0.0.1:9115", `127.0.0.1:${port}`);
    const checked = new Deno.Command("promtool", {
      args: ["check", "config", "/dev/stdin"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = checked.stdin.getWriter();
    await writer.write(new TextEncoder().encode(scrape));
    await writer.close();
    const result = await checked.output();
    assert.equal(
      result.code,
      0,
      new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr),
    );

    await using prometheus = await startPrometheus(
      `global: { scrape_interval: 1s, scrape_timeout: 1s }\n${scrape}`,
    );
    // Until a scrape succeeded (30 s at most): the first may not, when a
    // loaded machine makes its probe outlast the scrape's 1 s less 0.5 s.
    let success: { metric: Record<string, string>; value: number }[] = [];
    const scraped = () => success.length === 1 && success[0].value === 1;
    for (let i = 0; i < 60 && !scraped(); i++) {
      success = await query(prometheus.base, "probe_success");
      if (!scraped()) await new Promise((ok) => setTimeout(ok, 500));
    }
    assert.equal(success.length, 1);
    assert.equal(success[0].metric.instance, `http://127.0.0.1:${webPort}/`);
    assert.equal(success[0].value, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "README Monitoring: the alert on verified certificates only is valid PromQL (promtool)",
  ignore: ignoreWithout("promtool"),
}, async () => {
  const expr = /`(probe_ssl_earliest_cert_expiry - time\(\)[^`]*probe_success == 1)`/
    .exec(SECTION.replace(/\s+/g, " "))?.[1];
  assert.ok(expr, "README's Monitoring section shows the alert");
  const rules =
    `groups:\n  - name: readme\n    rules:\n      - alert: CertificateExpiresSoon\n        expr: ${
      JSON.stringify(expr)
    }\n`;
  const dir = await Deno.makeTempDir({ prefix: "wiretest_readme_rules_" });
  try {
    await Deno.writeTextFile(join(dir, "rules.yml"), rules);
    const checked = await new Deno.Command("promtool", {
      args: ["check", "rules", join(dir, "rules.yml")],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const output = new TextDecoder().decode(checked.stdout) +
      new TextDecoder().decode(checked.stderr);
    assert.equal(checked.code, 0, output);
    assert.match(output, /SUCCESS: 1 rules found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
