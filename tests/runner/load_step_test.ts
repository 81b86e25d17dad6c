// A fixture step's `load:` block: parsed with located errors, run by the
// runner (in-process and isolated) against our echo service and socat, its
// `expect:` judged as thresholds on the load's metrics, a breach failing the
// fixture (exit 1), `abortOnBreach` stopping the run, and the per-second
// series carried in the JSON lines for the HTML report.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseFixture } from "../../lib/fixture/parse_fixture.ts";
import { FixtureErrors } from "../../lib/fixture/fixture_error.ts";
import { runFixtures } from "../../lib/runner/run.ts";
import type { RunEvent, StepResultEvent } from "../../lib/runner/events.ts";
import { deno, MAIN } from "../_support/deno_process.ts";
import { freePort, ignoreWithout, spawnPeer, waitForTcp } from "../_support/peer.ts";

function problems(text: string): string[] {
  try {
    parseFixture(text, "l.wire.yaml");
  } catch (error) {
    if (error instanceof FixtureErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  return [];
}

const STEP = 'name: l\nsteps:\n  - plugin: echo\n    with: { target: "127.0.0.1:7" }\n';

Deno.test("parseFixture() reads a load: block into a checked plan", () => {
  const fixture = parseFixture(
    STEP + "    load: { rate: 200, duration: 2s, maxVus: 4, abortOnBreach: true }\n" +
      '    expect: { metrics.rtt_p99_ms: "< 20ms", metrics.error_rate: "< 0.1%" }\n',
    "l.wire.yaml",
  );
  const { load, expect } = fixture.steps[0];
  assert.deepEqual(load?.plan, {
    model: "open",
    rate: 200,
    durationMs: 2000,
    stages: [],
    maxVus: 4,
    preAllocatedVus: 3,
  });
  assert.equal(load?.abortOnBreach, true);
  assert.deepEqual(expect.map((e) => e.key), ["metrics.rtt_p99_ms", "metrics.error_rate"]);
  const closed = parseFixture(
    STEP + "    load: { stages: [{ duration: 1s, target: 4 }, { duration: 500ms, target: 0 }] }\n",
    "l.wire.yaml",
  );
  assert.deepEqual(closed.steps[0].load?.plan, {
    model: "closed",
    vus: 1,
    maxVus: 4,
    durationMs: 1500,
    stages: [{ durationMs: 1000, target: 4 }, { durationMs: 500, target: 0 }],
  });
  assert.equal(closed.steps[0].load?.abortOnBreach, false);
  assert.equal(parseFixture(STEP, "l.wire.yaml").steps[0].load, undefined);
});

Deno.test("parseFixture() locates every mistake in a load: block and its thresholds, with did-you-mean", () => {
  assert.deepEqual(
    problems(
      STEP + "    load: { vus: 2, duratoin: 1s, abortOnBreak: true }\n" +
        '    expect:\n      metrics.rtt_p99: "< 20ms"\n      metrics.eror_rate: "< 0.1%"\n' +
        "      facts.modle: open\n",
    ),
    [
      'Cannot load fixture "l.wire.yaml:5:21": "steps[0].load.duratoin" is not a known field (did you mean "duration"?)',
      'Cannot load fixture "l.wire.yaml:5:35": "steps[0].load.abortOnBreak" is not a known field (did you mean "abortOnBreach"?)',
      'Cannot load fixture "l.wire.yaml:7:7": "steps[0].expect.metrics.rtt_p99" names metric "rtt_p99" (did you mean "metrics.rtt_p99_ms"?), which a load run never reports: the expectation could never hold except as "absent"',
      'Cannot load fixture "l.wire.yaml:8:7": "steps[0].expect.metrics.eror_rate" names metric "eror_rate" (did you mean "metrics.error_rate"?), which a load run never reports: the expectation could never hold except as "absent"',
      'Cannot load fixture "l.wire.yaml:9:7": "steps[0].expect.facts.modle" names fact "modle" (did you mean "facts.model"?), which a load run never reports: the expectation could never hold except as "absent"',
    ],
  );
  // What concerns several fields is said at the block; a bare number has no unit.
  assert.deepEqual(problems(STEP + "    load: { vus: 2, rate: 10, duration: 1s }\n"), [
    `Cannot load fixture "l.wire.yaml:5:5": "steps[0].load" cannot run: give "vus" (closed model) or "rate" (open model), not both; the open model's VUs are "maxVus"`,
  ]);
  assert.deepEqual(problems(STEP + "    load: { vus: 2, duration: 10 }\n"), [
    'Cannot load fixture "l.wire.yaml:5:31": "steps[0].load.duration" must be a duration with a unit such as "10s" or "1m"',
  ]);
  assert.deepEqual(problems(STEP + "    load: { rate: 1e12, duration: 1s }\n"), [
    'Cannot load fixture "l.wire.yaml:5:19": "steps[0].load.rate" must be a number from 0 to 1000000',
  ]);
  assert.deepEqual(problems(STEP + "    load: { vus: 0, duration: 1s }\n"), [
    `Cannot load fixture "l.wire.yaml:5:5": "steps[0].load" cannot run: "vus" must be at least 1 and at most 10000, got "0"`,
  ]);
  assert.deepEqual(problems(STEP + "    load: { vus: 2 }\n"), [
    `Cannot load fixture "l.wire.yaml:5:5": "steps[0].load" cannot run: give "duration", "iterations" or "stages"`,
  ]);
  assert.deepEqual(
    problems(STEP + "    load: { vus: 2, duration: 1s, stages: [{ duration: 1s, targt: 3 }] }\n"),
    [
      'Cannot load fixture "l.wire.yaml:5:44": "steps[0].load.stages[0].target" is required',
      'Cannot load fixture "l.wire.yaml:5:60": "steps[0].load.stages[0].targt" is not a known field (did you mean "target"?)',
    ],
  );
  // A plugin metric is no load metric: the load's thresholds are what is judged.
  assert.match(
    problems(STEP + "    load: { vus: 1, iterations: 5 }\n    expect: { metrics.round_trips: 5 }\n")
      .join("\n"),
    /expect\.metrics\.round_trips" names metric "round_trips", which a load run never reports/,
  );
});

async function fixtureDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-load-step-" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return dir;
}

async function runDir(dir: string, isolation: boolean): Promise<StepResultEvent[]> {
  const events: RunEvent[] = [];
  await runFixtures({
    paths: [dir],
    isolation,
    reporters: [{ onEvent: (e) => void events.push(e) }],
  });
  return events.filter((e): e is StepResultEvent => e.type === "step-result")
    .sort((a, b) => a.fixture.name.localeCompare(b.fixture.name));
}

const ECHO_SERVICE = "services:\n  echo: { plugin: echo }\n";

function loadFixture(name: string, target: string, load: string, expect: string): string {
  return `name: ${name}\n${target.includes("services.") ? ECHO_SERVICE : ""}steps:\n` +
    `  - plugin: echo\n    with: { target: "${target}" }\n    load: ${load}\n` +
    `    expect:\n${expect.trim().split("\n").map((l) => `      ${l}`).join("\n")}\n`;
}

Deno.test("a load step refuses params its plugin's load session would ignore, located", async () => {
  const dir = await fixtureDir({
    "ignored.wire.yaml": `name: ignored under load
services:
  e: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.e.addr}", count: 5, connections: 2 }
    load: { vus: 1, duration: 1s }
`,
  });
  try {
    const run = await deno(["run", "-A", MAIN, "test", dir], { timeoutMs: 60_000 });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stdout, /^INVALID ignored under load/m);
    for (const [at, key] of [["6:43", "count"], ["6:53", "connections"]]) {
      assert.match(
        run.stdout,
        new RegExp(
          `ignored\\.wire\\.yaml:${at}": "steps\\[0\\]\\.with\\.${key}" belongs to a single run of plugin "echo" and would be ignored under load`,
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a load step passes its thresholds against the echo service and fails an impossible one", async () => {
  const dir = await fixtureDir({
    "a.wire.yaml": loadFixture(
      "a closed",
      "${services.echo.addr}",
      "{ vus: 4, iterations: 400 }",
      'metrics.iterations: 400\nmetrics.errors: 0\nmetrics.rtt_p99_ms: "< 5s"\nfacts.model: closed',
    ),
    "b.wire.yaml": loadFixture(
      "b open",
      "${services.echo.addr}",
      // VUs enough for every arrival: with 4, arrivals still waiting for one
      // when a stalled machine reached the end of the second were dropped.
      "{ rate: 50, duration: 1s, maxVus: 50 }",
      'metrics.iterations: ">= 45"\nmetrics.error_rate: "< 0.1%"\nmetrics.asked_rate: 50',
    ),
    "c.wire.yaml": loadFixture(
      "c impossible",
      "${services.echo.addr}",
      "{ vus: 2, iterations: 50 }",
      'metrics.rtt_p50_ms: "< 1ns"\nmetrics.rate: ">= 1000000000"',
    ),
  });
  try {
    const [a, b, c] = await runDir(dir, false);
    assert.equal(a.status, "passed", JSON.stringify(a.expectations));
    assert.equal(a.outcome.metrics.iterations, 400);
    // echo's session hook: one connection per VU, 400 verified round trips of 5 bytes each way.
    assert.equal(a.outcome.metrics.bytes, 400 * 10);
    assert.equal(b.status, "passed", JSON.stringify(b.expectations));
    assert.equal(b.load?.model, "open");
    assert.equal(c.status, "failed");
    assert.deepEqual(
      c.expectations.map((e) => [e.key, e.pass]),
      [
        ["ok", true],
        ["metrics.dropped_iterations", true],
        ["metrics.rtt_p50_ms", false],
        ["metrics.rate", false],
      ],
    );
    assert.match(
      c.expectations[2].message,
      /c\.wire\.yaml:9:7: "metrics\.rtt_p50_ms" is [\d.]+, expected < 1ns/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a load step runs against socat, isolated, and `wiretest test` exits 0, then 1 on a breach",
  ignore: ignoreWithout("socat"),
  async fn() {
    const port = freePort();
    await using _peer = spawnPeer("socat", [
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
      "PIPE",
    ]);
    await waitForTcp(port, 10_000);
    const target = `127.0.0.1:${port}`;
    const dir = await fixtureDir({
      "pass.wire.yaml": loadFixture(
        "socat under load",
        target,
        "{ vus: 2, iterations: 40 }",
        'metrics.iterations: 40\nmetrics.errors: 0\nmetrics.rtt_p99_ms: "< 10s"',
      ),
    });
    const failDir = await fixtureDir({
      "fail.wire.yaml": loadFixture(
        "socat too slow",
        target,
        "{ vus: 2, iterations: 20 }",
        'metrics.rtt_max_ms: "< 1ns"',
      ),
    });
    try {
      // Isolated (the default): each iteration is a whole client run in a plugin process.
      const pass = await deno(
        ["run", "-A", MAIN, "test", dir, "--reporter", "jsonl"],
        { timeoutMs: 120_000 },
      );
      assert.equal(pass.code, 0, pass.stdout + pass.stderr);
      const [event] = pass.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .filter((e) => e.type === "step-result");
      assert.equal(event.outcome.metrics.iterations, 40);
      assert.equal(event.outcome.metrics.errors, 0);
      assert.equal(event.status, "passed");
      const fail = await deno(["run", "-A", MAIN, "test", failDir], { timeoutMs: 120_000 });
      assert.equal(fail.code, 1, fail.stdout + fail.stderr);
      assert.match(
        fail.stdout,
        /metrics\.rtt_max_ms: expected < 1ns, actual [\d.]+\n\s+at .*fail\.wire\.yaml:7:7/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(failDir, { recursive: true });
    }
  },
});

Deno.test("abortOnBreach stops a load step at the first breach; an error threshold never passes a run with no correct iteration", async () => {
  const closed = `127.0.0.1:${freePort()}`;
  const dir = await fixtureDir({
    // 30 s planned: the breach in the first second stops it.
    "a.wire.yaml": loadFixture(
      "a abort",
      closed,
      "{ vus: 2, duration: 30s, abortOnBreach: true }",
      'metrics.error_rate: "< 1%"',
    ),
    // Every error allowed, but not a run where nothing worked.
    "b.wire.yaml": loadFixture(
      "b all errors",
      closed,
      "{ vus: 1, iterations: 3 }",
      'metrics.error_rate: "<= 100%"',
    ),
  });
  try {
    const [a, b] = await runDir(dir, false);
    assert.equal(a.status, "failed");
    assert.equal(a.load?.interrupted, true);
    assert.equal(a.outcome.facts.interrupted, true);
    assert.ok(a.load!.series.length < 10, `stopped early: ${a.load!.series.length} seconds`);
    const breach = a.expectations.find((e) => e.key === "metrics.error_rate")!;
    assert.equal(breach.pass, false);
    assert.match(
      breach.message,
      /expected < 1% \(abortOnBreach: the run was stopped at [\d.]+ s\)$/,
    );
    assert.equal(a.outcome.error?.name, "LoadError");
    assert.equal(b.status, "failed");
    assert.deepEqual(b.expectations.map((e) => [e.key, e.pass]), [
      ["metrics.iterations", false],
      ["metrics.dropped_iterations", true],
      ["metrics.error_rate", true],
    ]);
    assert.match(
      b.expectations[0].message,
      /0 of 3 iterations ended correctly, expected at least 1/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a load step's JSON lines carry its per-second series (rate, p50/p90/p99, errors)", async () => {
  const dir = await fixtureDir({
    "a.wire.yaml": loadFixture(
      "series",
      "${services.echo.addr}",
      "{ rate: 40, duration: 2500ms, maxVus: 2 }",
      'metrics.rtt_p99_ms: "< 10s"',
    ),
  });
  try {
    const out = await deno(
      ["run", "-A", MAIN, "test", dir, "--no-isolation", "--reporter", "jsonl"],
      { timeoutMs: 60_000 },
    );
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const event = out.stdout.trim().split("\n").map((l) => JSON.parse(l))
      .find((e) => e.type === "step-result");
    const series = event.load.series;
    // Two whole seconds and the rest (one more when a loaded machine made the
    // last replies come after 3 s).
    assert.ok(series.length >= 3, `${series.length} points`);
    assert.equal(series.length, Math.ceil(event.load.elapsedMs / 1000));
    assert.deepEqual(Object.keys(series[0]).sort(), [
      "bytes",
      "errors",
      "iterations",
      "p50_ms",
      "p90_ms",
      "p99_ms",
      "second",
    ]);
    assert.equal(
      series.reduce((n: number, s: { iterations: number }) => n + s.iterations, 0),
      event.outcome.metrics.iterations,
    );
    assert.ok(series[0].p50_ms <= series[0].p90_ms && series[0].p90_ms <= series[0].p99_ms);
    assert.equal(event.load.askedRate, 40);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A TCP echo peer that answers 3 messages per connection, then closes: with
// one VU every 4th iteration fails (the session reconnects), so 20
// iterations end 15 correct and 5 failed.
const FLAKY_ECHO = `
import socket, sys
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
while True:
    conn, _ = server.accept()
    with conn:
        for _ in range(3):
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
`;

Deno.test({
  name:
    "an error threshold says how many errors are fine, in a fixture and on the CLI; without one any error fails",
  ignore: ignoreWithout("python3"),
  async fn() {
    const port = freePort();
    await using _peer = spawnPeer("python3", ["-c", FLAKY_ECHO, String(port)]);
    await waitForTcp(port, 10_000);
    const target = `127.0.0.1:${port}`;
    const dir = await fixtureDir({
      "a.wire.yaml": loadFixture(
        "a allowed",
        target,
        "{ vus: 1, iterations: 20 }",
        'metrics.error_rate: "< 30%"',
      ),
      "b.wire.yaml": loadFixture(
        "b too many",
        target,
        "{ vus: 1, iterations: 20 }",
        'metrics.error_rate: "< 20%"',
      ),
      "c.wire.yaml": loadFixture(
        "c strict",
        target,
        "{ vus: 1, iterations: 20 }",
        'metrics.rtt_p99_ms: "< 10s"',
      ),
    });
    try {
      const [a, b, c] = await runDir(dir, false);
      // What the peer did, counted: the verdicts below rest on it.
      for (const e of [a, b, c]) {
        assert.deepEqual([e.outcome.metrics.iterations, e.outcome.metrics.errors], [20, 5]);
      }
      assert.equal(a.status, "passed", JSON.stringify(a.expectations));
      assert.deepEqual(a.expectations.map((e) => [e.key, e.pass]), [
        ["metrics.iterations", true],
        ["metrics.dropped_iterations", true],
        ["metrics.error_rate", true],
      ]);
      assert.equal(b.status, "failed");
      assert.equal(c.status, "failed");
      assert.deepEqual(c.expectations.map((e) => [e.key, e.pass]), [
        ["ok", false],
        ["metrics.dropped_iterations", true],
        ["metrics.rtt_p99_ms", true],
      ]);
      const cli = (threshold: string[]) =>
        deno(
          [
            "run",
            "-A",
            MAIN,
            "load",
            "echo",
            target,
            "--vus",
            "1",
            "--iterations",
            "20",
            "--no-isolation",
            ...threshold,
          ],
          { timeoutMs: 60_000 },
        );
      const allowed = await cli(["--threshold", "metrics.error_rate: < 30%"]);
      assert.match(allowed.stdout, /^20 iterations, 5 errors/);
      assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
      assert.equal((await cli(["--threshold", "metrics.error_rate: < 20%"])).code, 1);
      assert.equal((await cli([])).code, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
