// The exporter attacked: a third-party plugin whose metrics collide or
// number hundreds of thousands, absurd scrape timeouts, a module whose
// `targets` a redirect would escape, reloads racing. Real sockets on
// loopback, plugins isolated as `wiretest exporter` runs them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { registryWith } from "../../lib/cli/_load_plugin.ts";
import { IsolationPool } from "../../lib/plugin/isolation.ts";
import { isolatedExecutor } from "../../lib/executor/isolated_executor.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import {
  type Exporter,
  MAX_PROBE_TIMEOUT_S,
  probeTimeoutSeconds,
  startExporter,
} from "../../lib/exporter/server.ts";
import { ExporterConfigError, parseExporterConfig } from "../../lib/exporter/config.ts";
import { MAX_OUTCOME_METRICS } from "../../lib/exporter/probe_metrics.ts";
import { ignoreWithout } from "../_support/peer.ts";
import { get, promtoolCheck, testExporter } from "./_exporter.ts";
import { MarkedChildren } from "../_support/children.ts";

const DEFINE = new URL("../../lib/plugin/define_plugin.ts", import.meta.url).href;

// One plugin, named by `name`, reporting what `mode` says.
const plugin = (name: string) =>
  `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
export default definePlugin({
  name: ${JSON.stringify(name)},
  version: "1.0.0",
  description: "Reports hostile metrics.",
  client: {
    params: z.object({ target: z.string(), mode: z.string() }),
    run: (params) => {
      // Deaf: never ends, whatever its signal says.
      if (params.mode === "deaf") return new Promise(() => {});
      const metrics = {};
      console.log("probe_success 1");
      if (params.mode === "collide") {
        // rtt_p9 and rtt_p90 are both quantile 0.9; wait_ms and wait_seconds,
        // loss_pct and loss_ratio one name each; "seconds" of a plugin named
        // "duration" is probe_duration_seconds.
        Object.assign(metrics, {
          seconds: 99, rtt_p9_ms: 1, rtt_p90_ms: 2, wait_ms: 3, wait_seconds: 4,
          loss_pct: 5, loss_ratio: 0.1, nan: NaN, inf: Infinity,
        });
      } else {
        for (let i = 0; i < 200000; i++) metrics["m" + i] = i;
      }
      return Promise.resolve({ ok: true, metrics, facts: {} });
    },
  },
});
`;

// A plugin whose params check never ends for the target "spin": its
// process hangs, busy, and answers nothing more.
const STUCK = `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
export default definePlugin({
  name: "stuck",
  version: "1.0.0",
  description: "Hangs its process on one target.",
  client: {
    params: z.object({
      target: z.string().refine((t) => {
        if (t === "spin") for (;;) { /* busy */ }
        return true;
      }),
    }),
    run: () => Promise.resolve({ ok: true, metrics: { round_trip_ms: 1 }, facts: {} }),
  },
});
`;

// These plugins' processes: their manifest grants an environment variable
// of its own, which their command lines name (other test files run in
// parallel in this process, with children of their own).
const ours = new MarkedChildren(`WIRETEST_HOSTILE_EXPORTER_${crypto.randomUUID().slice(0, 8)}`);

async function withPluginExporter(
  config: string,
  run: (base: string, exporter: Exporter, configFile: string) => Promise<void>,
  inProcess = false,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_hostile_exporter_" });
  const entry = (module: string, description: string) => ({
    module,
    description,
    roles: ["client"],
    apiVersion: 1,
    permissions: { env: [ours.token] },
  });
  await Deno.writeTextFile(join(dir, "duration.ts"), plugin("duration"));
  await Deno.writeTextFile(join(dir, "stuck.ts"), STUCK);
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({
      plugins: {
        duration: entry("./duration.ts", "Reports hostile metrics."),
        stuck: entry("./stuck.ts", "Hangs its process on one target."),
      },
    }),
  );
  await Deno.writeTextFile(join(dir, "exporter.yaml"), config);
  // As `wiretest exporter` runs them: roles share a plugin's process.
  await using pool = new IsolationPool({ maxIdlePerPlugin: 1, rolesPerProcess: 8 });
  try {
    await using exporter = await startExporter({
      configFile: join(dir, "exporter.yaml"),
      port: 0,
      executor: inProcess
        ? inProcessExecutor(await registryWith([join(dir, "manifest.json")]))
        : isolatedExecutor(await registryWith([join(dir, "manifest.json")]), { pool }),
    });
    await run(`http://127.0.0.1:${exporter.port}`, exporter, join(dir, "exporter.yaml"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Every series (name and labels) of an exposition, each once: Prometheus
// refuses a series written twice in one scrape.
function assertSeriesOnce(text: string): Map<string, string> {
  const series = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const name = line.slice(0, space);
    assert.ok(!series.has(name), `series ${name} written twice:\n${text}`);
    series.set(name, line.slice(space + 1));
  }
  return series;
}

Deno.test({
  name:
    "exporter: a plugin whose metrics collide (with each other, with probe_duration_seconds) writes each series once",
  ignore: ignoreWithout("promtool"),
}, async () => {
  await withPluginExporter(
    "modules:\n  dur:\n    plugin: duration\n    with: { mode: collide }\n",
    async (base) => {
      for (const accept of ["text/plain", "application/openmetrics-text"]) {
        const answer = await get(`${base}/probe?module=dur&target=x`, { accept });
        assert.equal(answer.status, 200, answer.text);
        const series = assertSeriesOnce(answer.text.replace("# EOF\n", ""));
        assert.equal(series.get("probe_success"), "1");
        // The exporter's own duration, not the plugin's 99.
        assert.ok(Number(series.get("probe_duration_seconds")) < 99, answer.text);
        assert.equal(series.get('probe_duration_rtt_seconds{quantile="0.9"}'), "0.001");
        assert.equal(series.get("probe_duration_wait_seconds"), "0.003");
        assert.equal(series.get("probe_duration_nan"), "NaN");
        assert.equal(series.get("probe_duration_inf"), "+Inf");
        // The plugin's stdout is its log, never the exposition.
        assert.equal(answer.text.match(/^probe_success /gm)?.length, 1);
        // promtool reads the text format only (OpenMetrics escapes HELP's quotes).
        if (accept === "text/plain") {
          const checked = await promtoolCheck(answer.text);
          assert.equal(checked.code, 0, checked.output);
        }
      }
    },
  );
});

Deno.test("exporter: a plugin reporting 200000 metrics gets its first 10000 exported, not a 500", async () => {
  await withPluginExporter(
    "modules:\n  many:\n    plugin: duration\n    with: { mode: many }\n",
    async (base) => {
      const answer = await get(`${base}/probe?module=many&target=x`);
      assert.equal(answer.status, 200, answer.text.slice(0, 500));
      const series = assertSeriesOnce(answer.text);
      assert.equal(series.get("probe_success"), "1");
      assert.equal(series.get("probe_duration_m0"), "0");
      assert.equal(series.get(`probe_duration_m${MAX_OUTCOME_METRICS - 1}`), "9999");
      assert.equal(series.has(`probe_duration_m${MAX_OUTCOME_METRICS}`), false);
      const debug = await get(`${base}/probe?module=many&target=x&debug=true`);
      assert.match(
        debug.text,
        /The outcome has 200000 metrics: only the first 10000 are exported/,
      );
    },
  );
});

Deno.test("exporter: a plugin run that never ends, even aborted, is answered as timed out after the scrape's timeout", async () => {
  await withPluginExporter(
    "modules:\n  deaf:\n    plugin: duration\n    with: { mode: deaf }\n",
    async (base) => {
      // 1.5 s scrape timeout, 0.5 s offset: the probe's deadline is 1 s away.
      const response = await fetch(`${base}/probe?module=deaf&target=x&debug=true`, {
        headers: { "X-Prometheus-Scrape-Timeout-Seconds": "1.5" },
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      assert.equal(response.status, 200, text.slice(0, 500));
      assert.match(text, /^probe_success 0$/m);
      assert.match(text, /TimeoutError: The probe did not end within its timeout/);
    },
    true,
  );
});

Deno.test("probeTimeoutSeconds() keeps an absurd scrape timeout within what a timer can wait", () => {
  // Go's ParseFloat takes "Inf" and "Infinity", as blackbox then does.
  for (const header of ["1e308", "1e7", "3000000", "Infinity", "+inf"]) {
    assert.equal(probeTimeoutSeconds(header, undefined, 0.5), MAX_PROBE_TIMEOUT_S);
    assert.equal(probeTimeoutSeconds(header, 1e12, 0.5), MAX_PROBE_TIMEOUT_S);
  }
  assert.equal(probeTimeoutSeconds("2000000", undefined, 0.5), 1999999.5);
  assert.equal(probeTimeoutSeconds("-5", undefined, 0.5), 0);
  assert.throws(() => probeTimeoutSeconds("NaN", undefined, 0.5), SyntaxError);
  assert.equal(probeTimeoutSeconds("-Inf", 2000, 0.5), 2);
  assert.throws(() => probeTimeoutSeconds("1e400", undefined, 0.5), RangeError);
});

Deno.test("exporter: a scrape timeout of 1e308 s still runs the probe to its plugin's own timeout", async () => {
  // A listener that accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await using ex = await testExporter(
      "modules:\n  slow:\n    plugin: http-probe\n    with: { timeoutMs: 300 }\n",
    );
    const target = `http://127.0.0.1:${listener.addr.port}/`;
    const answer = await get(`${ex.base}/probe?module=slow&target=${target}&debug=true`, {
      "x-prometheus-scrape-timeout-seconds": "1e308",
    });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, new RegExp(`^probe_timeout_seconds ${MAX_PROBE_TIMEOUT_S}$`, "m"));
    // The plugin's own read timeout ended it, not a deadline already passed.
    assert.match(answer.text, /timed out after 3\d\d ms/);
    assert.doesNotMatch(answer.text, /The probe's timeout passed/);
    assert.match(answer.text, /^probe_success 0$/m);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("exporter config: a module with targets cannot follow redirects (a redirect escapes the targets)", () => {
  const text = `modules:
  local:
    plugin: http-probe
    with: { followRedirects: true }
    targets: ["http://127\\\\.0\\\\.0\\\\.1:8080/.*"]
  free:
    plugin: http-probe
    with: { followRedirects: true }
`;
  assert.throws(() => parseExporterConfig(text, "exporter.yaml"), (error: unknown) => {
    assert.ok(error instanceof ExporterConfigError);
    assert.deepEqual(error.problems, [
      'exporter.yaml:4:30: "modules.local.with.followRedirects" cannot be true with "targets": a redirect could lead the probe to a target the module does not allow',
    ]);
    return true;
  });
});

Deno.test("exporter: reloads asked in a row end with the config the file has last", async () => {
  await using ex = await testExporter("modules:\n  first:\n    plugin: echo\n");
  // Slow to reload: three plugins whose processes are not started yet.
  await Deno.writeTextFile(
    ex.configFile,
    "modules:\n  a:\n    plugin: http-probe\n  b:\n    plugin: udp-ping\n  c:\n    plugin: file-send\n" +
      `    with: { file: ${JSON.stringify(ex.configFile)} }\n`,
  );
  const slow = ex.exporter.reload();
  // The slow reload has read its file and prepares its modules.
  await new Promise((resolve) => setTimeout(resolve, 30));
  // Quick: echo's process is warm.
  await Deno.writeTextFile(ex.configFile, "modules:\n  last:\n    plugin: echo\n");
  const fast = ex.exporter.reload();
  await Promise.all([slow, fast]);
  const index = await get(`${ex.base}/`);
  assert.match(index.text, /modules last\n/);
});

// The exporter's own gauge, read from /metrics.
async function inFlight(base: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).text;
  return Number(/^wiretest_exporter_probes_in_flight (\S+)$/m.exec(text)?.[1]);
}

Deno.test("exporter: scrapes abandoned by their scraper stop, and free the queue for the next", async () => {
  // A target that accepts and never answers: each probe would take
  // http-probe's 10 s, the module has no shorter timeout.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const live = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("up"),
  );
  try {
    await using ex = await testExporter(
      "modules:\n  http:\n    plugin: http-probe\n",
      { maxConcurrentProbes: 1 },
    );
    const scrapers: Deno.Conn[] = [];
    const request = new TextEncoder().encode(
      `GET /probe?module=http&target=http://127.0.0.1:${listener.addr.port}/ HTTP/1.1\r\n` +
        "Host: exporter\r\n\r\n",
    );
    for (let i = 0; i < 5; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: ex.exporter.port });
      await conn.write(request);
      scrapers.push(conn);
    }
    for (let i = 0; i < 200 && await inFlight(ex.base) !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await inFlight(ex.base), 1);
    // Prometheus gave up on them.
    for (const conn of scrapers) conn.close();
    let running = 1;
    for (let i = 0; i < 500 && running !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      running = await inFlight(ex.base);
    }
    assert.equal(running, 0, "the abandoned probes still run or wait");
    const answer = await get(
      `${ex.base}/probe?module=http&target=http://127.0.0.1:${live.addr.port}/`,
      { "x-prometheus-scrape-timeout-seconds": "3" },
    );
    assert.match(answer.text, /^probe_success 1$/m);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
    await live.shutdown();
  }
});

Deno.test("exporter: a plugin process that hangs is killed, later scrapes get a fresh one, and a reload naming it loads", async () => {
  await withPluginExporter(
    "modules:\n  stuck:\n    plugin: stuck\n    timeout: 1s\n",
    async (base, exporter) => {
      for (let round = 0; round < 2; round++) {
        // The scrape hangs the plugin's process in its params check.
        // Looked at while the scrape runs, so the stuck process is remembered
        // and found again if it is killed but not reaped.
        const watching = setInterval(() => ours.list(), 50);
        const answer = await get(`${base}/probe?module=stuck&target=spin&debug=true`);
        clearInterval(watching);
        assert.equal(answer.status, 200, answer.text);
        assert.match(answer.text, /^probe_success 0$/m);
        assert.match(answer.text, /TimeoutError/);
        // Its process is killed at the deadline and the grace; a fresh one
        // then serves: later scrapes are answered, and succeed again.
        let success = "";
        for (let i = 0; i < 20 && success !== "1"; i++) {
          const next = await get(`${base}/probe?module=stuck&target=other${i}`);
          assert.equal(next.status, 200, next.text);
          success = /^probe_success (\d)$/m.exec(next.text)?.[1] ?? "";
          if (success !== "1") await new Promise((resolve) => setTimeout(resolve, 250));
        }
        assert.equal(success, "1");
        // A reload naming the plugin is checked by a process that answers.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const reloaded = await Promise.race([
          exporter.reload().then(() => "reloaded", (error: Error) => error.message),
          new Promise((resolve) => timer = setTimeout(() => resolve("still waiting"), 15_000)),
        ]);
        clearTimeout(timer);
        assert.equal(reloaded, "reloaded");
      }
      // Every process hung was killed and reaped: the plugin's one live
      // process at most (the duration plugin never ran).
      const children = ours.list();
      assert.ok(children.length <= 1, JSON.stringify(children));
      assert.ok(children.every((c) => c.state !== "Z"), JSON.stringify(children));
    },
  );
});

Deno.test("exporter: a scraper's 1,500 repeated targets, 100 headers or a 60 KB header are probed; a URL over 64 KiB gets an empty 400 and the next scrape its probe", async () => {
  // A closed port: every probe fails fast, and nothing leaves loopback.
  await using wiretest = await testExporter(
    "modules:\n  echo:\n    plugin: echo\n    timeout: 5s\n",
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const target = `127.0.0.1:${listener.addr.port}`;
  listener.close();
  const probe = `${wiretest.base}/probe?module=echo&target=${target}`;
  // The first target counts (blackbox's Go reads it so): the log says which.
  const repeated = await get(`${probe}&debug=true${`&target=127.0.0.1:9`.repeat(1_500)}`);
  assert.equal(repeated.status, 200, repeated.text);
  assert.match(repeated.text, new RegExp(`target="${RegExp.escape(target)}"`));
  assert.doesNotMatch(repeated.text, /127\.0\.0\.1:9"/);
  const manyHeaders = Object.fromEntries(
    Array.from({ length: 100 }, (_, i) => [`x-h${i}`, "v".repeat(100)]),
  );
  for (const headers of [manyHeaders, { "x-junk": "a".repeat(60_000) }]) {
    const answer = await get(probe, headers);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^probe_success 0$/m);
  }
  // Deno's HTTP server refuses a request line over 64 KiB before the
  // exporter sees it (blackbox takes a head of up to 1 MiB): README, "Monitoring".
  // (fetch refuses such a URL itself: written on a raw socket, bounded 20 s.)
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: wiretest.exporter.port });
  const timer = setTimeout(() => conn.close(), 20_000);
  try {
    const line = `GET /probe?module=echo&target=${target}&x=${"a".repeat(66_000)} HTTP/1.1`;
    await conn.write(new TextEncoder().encode(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`));
    // The server closes with the request unread: the answer may be followed by a reset.
    let answer = "";
    const buffer = new Uint8Array(4096);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        answer += new TextDecoder().decode(buffer.subarray(0, n));
      }
    } catch (error) {
      // A reset can overtake the answer: then the reset is the refusal.
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
    }
    if (answer !== "") {
      assert.match(answer, /^HTTP\/1\.1 400 /, answer.slice(0, 200));
      assert.match(answer, /\r\ncontent-length: 0\r\n/i, answer.slice(0, 200));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the read's end */ }
  }
  const after = await get(probe);
  assert.equal(after.status, 200);
  assert.match(after.text, /^probe_success 0$/m);
});
