// A bounded soak: `wiretest exporter` (a subprocess, plugins isolated)
// probes 20 targets once a second for 10 s. No probe leaks a connection
// (the server sees every one closed, the exporter's open files stay as
// many), a plugin process (their number stays bounded and flat) or a cached
// client (one per module and target), and the exporter's RSS stays flat.
// The exporter runs with its V8 heap capped, as README says to run it: V8
// otherwise grows its heap while it has room (113 -> 222 MiB in the full
// 100 targets x 60 s, with the heap after a full GC flat at 8 MiB; see
// BENCHMARKS.md), and its plugin processes get their heap capped by the
// exporter itself (EXPORTER_PLUGIN_HEAP_MIB).
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { MAIN } from "../_support/deno_process.ts";
import { freePort, waitFor, waitForTcp } from "../_support/peer.ts";
import { get, samples } from "./_exporter.ts";
import { EXPORTER_PLUGIN_HEAP_MIB } from "../../lib/cli/exporter_command.ts";

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

function openFiles(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

function commandLine(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
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
      "--v8-flags=--max-old-space-size=64",
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
    const files: number[] = [];
    const heapFlags = new Set<string>();
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
      const plugins = children(child.pid).flatMap((pid) => {
        // The bridge Worker's deno child processes, and what they run.
        try {
          return commandLine(pid).includes("--no-prompt") ? [pid] : [];
        } catch {
          return [];
        }
      });
      for (const pid of plugins) {
        heapFlags.add(/--max-old-space-size=(\d+)/.exec(commandLine(pid))?.[1] ?? "none");
      }
      processes.push(children(child.pid).length);
      files.push(openFiles(child.pid));
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
    // One cached client per module and target, not one per scrape.
    assert.equal(own.get("wiretest_exporter_prepared_clients"), TARGETS);
    // Open files (sockets to the scraper, the plugins, the peers): no more at the end than early on.
    assert.ok(files.at(-1)! <= Math.max(...files.slice(0, 3)), `open files by round: ${files}`);
    // Every plugin process has its V8 heap capped by the exporter.
    assert.deepEqual([...heapFlags], [String(EXPORTER_PLUGIN_HEAP_MIB)]);
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
