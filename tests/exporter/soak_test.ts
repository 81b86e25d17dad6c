// A bounded soak: `wiretest exporter` (a subprocess, plugins isolated)
// probes 20 targets once a second for 10 s. No probe leaks a connection
// (the server sees every one closed) or a plugin process (their number
// stays bounded and flat), and the exporter's RSS stays flat.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { MAIN } from "../_support/deno_process.ts";
import { freePort, waitFor, waitForTcp } from "../_support/peer.ts";
import { get, samples } from "./_exporter.ts";

const TARGETS = 20;
const ROUNDS = 10;

function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry.name));
    } catch { /* ended meanwhile */ }
  }
  return found;
}

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

Deno.test("exporter soak: 20 targets each second for 10 s leak no connection or process, RSS flat", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_soak_" });
  await Deno.writeTextFile(
    `${dir}/exporter.yaml`,
    "modules:\n  http_2xx:\n    plugin: http-probe\n    timeout: 5s\n",
  );
  const server =
    await (await inProcessExecutor(builtinRegistry()).prepare("http-probe", "server", {}))
      .serve();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "exporter",
      "--config",
      `${dir}/exporter.yaml`,
      "--listen",
      `127.0.0.1:${port}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const errors = (async () => {
    let text = "";
    for (;;) {
      const { value, done } = await stderr.read();
      if (done) return text;
      text += value;
    }
  })();
  try {
    await waitForTcp(port, 30_000);
    const base = `http://127.0.0.1:${port}`;
    const address = formatAddress(server.address);
    const rss: number[] = [];
    const processes: number[] = [];
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = Date.now();
      const answers = await Promise.all(
        Array.from(
          { length: TARGETS },
          (_, i) =>
            get(`${base}/probe?module=http_2xx&target=http://${address}/t${i}`, {
              "X-Prometheus-Scrape-Timeout-Seconds": "5",
            }),
        ),
      );
      failures += answers.filter((a) => samples(a.text).get("probe_success") !== 1).length;
      rss.push(rssBytes(child.pid));
      processes.push(children(child.pid).length);
      await new Promise((ok) => setTimeout(ok, Math.max(0, 1000 - (Date.now() - started))));
    }
    assert.equal(failures, 0);
    // Every probe's connection was opened and closed.
    await waitFor(() => server.stats().active === 0, "the probes' connections to close", 10_000);
    assert.equal(server.stats().requests, TARGETS * ROUNDS);
    const own = samples((await get(`${base}/metrics`)).text);
    assert.equal(
      own.get('wiretest_exporter_probes_total{module="http_2xx",result="success"}'),
      200,
    );
    assert.equal(own.get("wiretest_exporter_probes_in_flight"), 0);
    // Plugin processes: bounded by the concurrency, and no more at the end than after warm-up.
    assert.ok(Math.max(...processes) <= 16, `plugin processes ${processes}`);
    assert.ok(processes.at(-1)! <= processes[2], `plugin processes ${processes}`);
    // RSS flat: the last rounds within 25 MiB of the third (after warm-up).
    const grown = Math.max(...rss.slice(3)) - rss[2];
    assert.ok(
      grown < 25 * 1024 * 1024,
      `RSS MiB by round: ${rss.map((b) => (b / 2 ** 20).toFixed(1))}`,
    );
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* ended */ }
    await child.status;
    clearTimeout(killer);
    await errors;
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
