// `wiretest load` and `wiretest report merge` as users run them: real
// subprocesses against a real echo server, each bounded in time.
import assert from "node:assert/strict";
import { deno, MAIN } from "./_support/deno_process.ts";
import { freePort } from "./_support/peer.ts";
import { builtinRegistry } from "../plugins/manifest.ts";
import { startServer } from "../lib/plugin/run.ts";
import type { Service } from "../lib/plugin/types.ts";
import { formatAddress } from "../lib/transport/mod.ts";
import { roundFloat } from "../lib/_internal/round_float.ts";

// A JSON value that is a fraction, and those written with more digits than roundFloat() keeps.
const FRACTION = /:\s*(-?\d+\.\d+(?:e-?\d+)?)/g;
const unrounded = (json: string): string[] =>
  [...json.matchAll(FRACTION)].map((m) => m[1]).filter((t) => String(roundFloat(Number(t))) !== t);

const wiretest = (args: string[]) => deno(["run", "-A", MAIN, ...args], { timeoutMs: 120_000 });

async function withEcho(
  f: (target: string, server: Service) => Promise<void>,
): Promise<void> {
  const server = await startServer(await builtinRegistry().load("echo"), {});
  try {
    await f(formatAddress(server.address), server);
  } finally {
    await server.close();
  }
}

/**
 * Waits until the echo server has read twice the bytes it had when first
 * seen reading: iterations are ending. A fixed wait instead could end
 * before a loaded machine had started the CLI (and its Ctrl-C handler).
 */
async function underWay(server: Service): Promise<void> {
  const end = Date.now() + 45_000;
  let first = 0;
  while (Date.now() < end) {
    const bytes = server.stats().bytes_in ?? 0;
    if (first === 0) first = bytes;
    else if (bytes >= 2 * first) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("Cannot interrupt the load run: no iteration ended within 45 s");
}

Deno.test("wiretest load: closed model, a threshold met exits 0 and one breached exits 1", async () => {
  await withEcho(async (target) => {
    const ok = await wiretest([
      "load",
      "echo",
      target,
      "--vus",
      "2",
      "--iterations",
      "50",
      "--no-isolation",
      "--threshold",
      "metrics.error_rate: < 0.1%",
      "--threshold",
      "metrics.iterations: == 50",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^50 iterations, 0 errors/m);
    const breached = await wiretest([
      "load",
      "echo",
      target,
      "--vus",
      "1",
      "--iterations",
      "5",
      "--no-isolation",
      "--threshold",
      "metrics.rate: >= 1e9",
    ]);
    assert.equal(breached.code, 1);
    assert.match(
      breached.stderr,
      /threshold: --threshold:1:1: "metrics\.rate" is [\d.]+, expected >= 1e9/,
    );
  });
});

Deno.test("wiretest load --json: metrics for thresholds, corrected and uncorrected latency", async () => {
  await withEcho(async (target) => {
    const r = await wiretest([
      "load",
      "echo",
      target,
      "--rate",
      "50",
      "--duration",
      "1s",
      "--no-isolation",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.model, "open");
    assert.equal(json.iterations, 50);
    assert.equal(json.metrics.asked_rate, 50);
    assert.equal(json.metrics.error_rate, 0);
    assert.equal(typeof json.metrics.rtt_p99_ms, "number");
    assert.equal(typeof json.metrics.rtt_uncorrected_p99_ms, "number");
    assert.equal(json.series.length >= 1, true);
    // Written rounded (lib/_internal/round_float.ts): no performance.now() noise.
    assert.ok([...r.stdout.matchAll(FRACTION)].length >= 5, r.stdout);
    assert.deepEqual(unrounded(r.stdout), []);
  });
});

Deno.test("wiretest load refuses bad plans with exit 2 and one line", async () => {
  const cases: [string[], RegExp][] = [
    [["--vus", "0", "--duration", "1s"], /"vus" must be at least 1/],
    [["--vus", "-2", "--duration", "1s"], /"vus"/],
    [["--rate", "1e12", "--duration", "1s"], /"rate" must be at least 1e-9 and at most 1000000/],
    // Above 0, yet refused: the message says what is accepted, not "above 0".
    [
      ["--rate", "1e-12", "--duration", "1s"],
      /"rate" must be at least 1e-9 and at most 1000000, got "1e-12"/,
    ],
    [["--rate", "0", "--duration", "1s"], /"rate" must be at least 1e-9/],
    [["--rate", "-5", "--duration", "1s"], /"rate" must be at least 1e-9/],
    [["--vus", "1e12", "--duration", "1s"], /"vus" must be at least 1 and at most 10000/],
    [["--vus", "1", "--duration", "0s"], /"duration" must be above 0/],
    [["--vus", "1", "--duration", "10"], /add a unit/],
    [["--vus", "x", "--duration", "1s"], /--vus: "x" is not a number/],
    [["--vus", "3", "--duration", "1s", "--shard", "4/4"], /shard 4\/4 gets no VUs/],
  ];
  for (const [flags, message] of cases) {
    const r = await wiretest(["load", "echo", "127.0.0.1:9", "--no-isolation", ...flags]);
    assert.equal(r.code, 2, flags.join(" "));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

Deno.test("wiretest load: a refused target counts errors by type and exits 1", async () => {
  const port = freePort();
  const r = await wiretest([
    "load",
    "echo",
    `127.0.0.1:${port}`,
    "--vus",
    "2",
    "--duration",
    "1s",
    "--no-isolation",
    "--json",
  ]);
  assert.equal(r.code, 1);
  const json = JSON.parse(r.stdout);
  assert.equal(json.errors, json.iterations);
  assert.ok(json.iterations >= 2 && json.iterations <= 16, `attempts ${json.iterations}`);
  assert.deepEqual(Object.values(json.errorsByType), [json.errors]);
});

Deno.test("wiretest load --shard i/n --hdr-log, then report merge adds the shards", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withEcho(async (target) => {
      let total = 0;
      for (const shard of ["1/2", "2/2"]) {
        const r = await wiretest([
          "load",
          "echo",
          target,
          "--vus",
          "3",
          "--iterations",
          "41",
          "--no-isolation",
          "--json",
          "--shard",
          shard,
          "--hdr-log",
          `${dir}/${shard[0]}.hlog`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const json = JSON.parse(r.stdout);
        assert.equal(json.vusUsed, shard === "1/2" ? 2 : 1);
        total += json.iterations;
      }
      assert.equal(total, 41);
      const merged = await wiretest([
        "report",
        "merge",
        `${dir}/1.hlog`,
        `${dir}/2.hlog`,
        "--json",
      ]);
      assert.equal(merged.code, 0, merged.stderr);
      const json = JSON.parse(merged.stdout);
      assert.equal(json.logs, 2);
      // The closed model's one latency: no coordinated-omission correction to name.
      assert.equal(json.model, "closed");
      assert.equal(json.latency.count, 41);
      assert.deepEqual([json.corrected, json.uncorrected], [undefined, undefined]);
      assert.deepEqual(unrounded(merged.stdout), []);
      const text = await wiretest(["report", "merge", `${dir}/1.hlog`, `${dir}/2.hlog`]);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.trimEnd().split("\n");
      assert.equal(lines[0], "2 logs, 41 latencies (closed model)");
      assert.match(lines[1], /^latency +p50 /);
      assert.equal(lines.length, 2, text.stdout);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest load: Ctrl-C mid-run prints the partial summary and exits 130", async () => {
  await withEcho(async (target, server) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "load",
        "echo",
        target,
        "--vus",
        "1",
        "--duration",
        "1h",
        "--no-isolation",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      // Interrupt once the run is under way.
      await underWay(server);
      child.kill("SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
      assert.match(new TextDecoder().decode(out.stdout), /iterations, 0 errors .*\(interrupted\)/);
    } finally {
      clearTimeout(killer);
    }
  });
});

Deno.test("wiretest load isolated: the VU loop runs in the plugin's process, a connection per VU, interval logs cross", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startServer(await builtinRegistry().load("echo"), {});
  try {
    const r = await wiretest([
      "load",
      "echo",
      formatAddress(server.address),
      "--vus",
      "3",
      "--duration",
      "1500ms",
      "--json",
      "--hdr-log",
      `${dir}/run.hlog`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.errors, 0);
    // One whole client run per iteration would open one connection each.
    assert.equal(server.stats().connections, 3);
    assert.equal(server.stats().bytes_in * 2, json.bytes);
    assert.ok(json.iterations > 3, `iterations ${json.iterations}`);
    const log = await Deno.readTextFile(`${dir}/run.hlog`);
    // Each second's histogram came back from the plugin's process: the
    // closed model's one latency, one untagged line a second.
    const lines = log.split("\n").filter((l) => /^(Tag=[^,]+,)?\d+\.\d{3},/.test(l));
    assert.ok(lines.length >= 2, log);
    assert.ok(lines.every((l) => !l.startsWith("Tag=")), log);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest load isolated: Ctrl-C stops the run in the plugin's process, prints the partial summary, exits 130", async () => {
  await withEcho(async (target, server) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "load", "echo", target, "--vus", "1", "--duration", "1h"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      await underWay(server);
      child.kill("SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
      assert.match(
        new TextDecoder().decode(out.stdout),
        /[1-9]\d* iterations, 0 errors .*\(interrupted\)/,
      );
    } finally {
      clearTimeout(killer);
    }
  });
});

Deno.test("wiretest load <plugin> --help says what one iteration is, read from the plugin's process", async () => {
  const ping = await wiretest(["load", "udp-ping", "--help"]);
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, /^One iteration: One ping round trip on the VU's socket/m);
  const send = await wiretest(["load", "file-send", "--help"]);
  assert.equal(send.code, 0, send.stderr);
  assert.match(send.stdout, /^One iteration: one whole client run/m);
});

Deno.test("wiretest load refuses params the plugin's load session would ignore (echo --count, --connections; udp-ping --interval-ms), exit 2", async () => {
  for (
    const [args, flags] of [
      [["echo", "127.0.0.1:7", "--count", "5", "--connections", "4"], "--count, --connections"],
      [["udp-ping", "127.0.0.1:7", "--interval-ms", "5"], "--interval-ms"],
    ] as const
  ) {
    for (const isolation of [[], ["--no-isolation"]]) {
      const run = await deno(
        ["run", "-A", MAIN, "load", ...args, "--vus", "1", "--duration", "1s", ...isolation],
        { timeoutMs: 60_000 },
      );
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, "");
      assert.equal(
        run.stderr.trim().split("\n").filter((l) => !l.startsWith("Task ")).length,
        1,
        run.stderr,
      );
      assert.match(
        run.stderr,
        new RegExp(
          `^error: Cannot run load of plugin "${
            args[0]
          }": ${flags} belongs? to a single run and would be ignored under load`,
        ),
      );
    }
  }
});

Deno.test("wiretest report merge of open-model shards names corrected and uncorrected latency", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withEcho(async (target) => {
      for (const shard of ["1/2", "2/2"]) {
        const r = await wiretest([
          "load",
          "echo",
          target,
          "--rate",
          "40",
          "--duration",
          "1s",
          "--no-isolation",
          "--json",
          "--shard",
          shard,
          "--hdr-log",
          `${dir}/${shard[0]}.hlog`,
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      const log = await Deno.readTextFile(`${dir}/1.hlog`);
      assert.ok(log.includes("\nTag=corrected,") && log.includes("\nTag=uncorrected,"), log);
      const json = JSON.parse(
        (await wiretest(["report", "merge", `${dir}/1.hlog`, `${dir}/2.hlog`, "--json"])).stdout,
      );
      assert.equal(json.model, "open");
      assert.equal(json.corrected.count, json.uncorrected.count);
      assert.ok(json.corrected.count >= 20, `${json.corrected.count} latencies`);
      const text = await wiretest(["report", "merge", `${dir}/1.hlog`, `${dir}/2.hlog`]);
      const lines = text.stdout.trimEnd().split("\n");
      assert.match(lines[0], /^2 logs, \d+ latencies \(open model\)$/);
      assert.match(lines[1], /^corrected +p50 /);
      assert.match(lines[2], /^uncorrected +p50 /);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
