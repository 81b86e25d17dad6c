// The runner end to end on loopback: real plugins, real sockets, fixture
// files on disk, every event checked.
import assert from "node:assert/strict";
import { within } from "../_support/command.ts";
import { freePort } from "../_support/peer.ts";
import { fixtureDir, KIT_MANIFEST, ofType, runCollecting } from "./_support/run.ts";

const ECHO_OK = (name: string) =>
  `name: ${name}
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 2 }
    expect:
      metrics.round_trips: 2
`;

const KIT = (name: string, step: string) =>
  `name: ${name}
plugins: [${JSON.stringify(KIT_MANIFEST)}]
steps:
${step}`;

Deno.test("runFixtures() passes fixtures whose expectations hold and exits 0", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": ECHO_OK("a"), "b.wire.json": "" });
  await Deno.writeTextFile(
    fx.path("b.wire.json"),
    JSON.stringify({
      name: "b",
      services: { web: { plugin: "http-probe", with: { body: "hi" } } },
      steps: [{ plugin: "http-probe", with: { url: "http://${services.web.addr}/" } }],
    }),
  );
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 0);
  assert.deepEqual(run.events.map((e) => e.type), [
    "run-start",
    "fixture-start",
    "step-result",
    "fixture-end",
    "fixture-start",
    "step-result",
    "fixture-end",
    "summary",
  ]);
  assert.deepEqual(run.fixtures.map((f) => [f.fixture.name, f.status]), [
    ["a", "passed"],
    ["b", "passed"],
  ]);
  assert.deepEqual(ofType(run.events, "summary")[0].passed, 2);
});

Deno.test("runFixtures() reports a failing expectation with expected, actual and location, exit 1", async () => {
  await using fx = await fixtureDir({
    "fail.wire.yaml": `name: failing
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 2 }
    expect:
      metrics.round_trips: 3
      metrics.rtt_p99_ms: "< 5s"
`,
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 1);
  assert.equal(run.fixtures[0].status, "failed");
  const [step] = ofType(run.events, "step-result");
  assert.equal(step.status, "failed");
  const failing = step.expectations.filter((e) => !e.pass);
  assert.equal(failing.length, 1);
  assert.equal(failing[0].key, "metrics.round_trips");
  assert.equal(failing[0].expected, "3");
  assert.equal(failing[0].actual, 2);
  assert.deepEqual(failing[0].location, {
    file: fx.path("fail.wire.yaml"),
    line: 8,
    column: 7,
    path: "steps[0].expect.metrics.round_trips",
  });
  assert.equal(
    failing[0].message,
    `${fx.path("fail.wire.yaml")}:8:7: "metrics.round_trips" is 2, expected 3`,
  );
});

Deno.test("runFixtures() locates every bad input, still runs the others, and exits 2", async () => {
  await using fx = await fixtureDir({
    "a_yaml.wire.yaml": 'name: broken yaml\nsteps:\n  - plugin: echo\n    with: { target: "x\n',
    "b_plugin.wire.yaml": "name: unknown plugin\nsteps:\n  - plugin: ecoh\n",
    "c_params.wire.yaml": `name: bad params
services:
  echo: { plugin: echo, with: { transport: tcpx } }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: -1 }
`,
    "d_expect.wire.yaml": `name: bad expectation
steps:
  - plugin: echo
    with: { target: "127.0.0.1:9" }
    expect:
      metrics.rtt_ms: "<< 5"
`,
    "e_var.wire.yaml": `name: undefined variable
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.ecoh.addr}" }
`,
    "f_ok.wire.yaml": ECHO_OK("still runs"),
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 2);
  const where = (name: string) => {
    const end = run.fixtures.find((f) => f.fixture.file === fx.path(name));
    assert.ok(end, name);
    assert.equal(end.status, "invalid");
    return end.problems.map((p) => {
      assert.ok(p.message.includes(`${p.file}:${p.line}:${p.column}`), p.message);
      return `${p.line}:${p.column} ${p.path}`;
    });
  };
  assert.equal(where("a_yaml.wire.yaml")[0], "5:1 ");
  assert.deepEqual(where("b_plugin.wire.yaml"), ["3:13 steps[0].plugin"]);
  assert.deepEqual(where("c_params.wire.yaml"), [
    "3:44 services.echo.with.transport",
    "6:53 steps[0].with.count",
  ]);
  assert.deepEqual(where("d_expect.wire.yaml"), ["6:7 steps[0].expect.metrics.rtt_ms"]);
  assert.deepEqual(where("e_var.wire.yaml"), ["6:21 steps[0].with.target"]);
  const ok = run.fixtures.find((f) => f.fixture.name === "still runs");
  assert.equal(ok?.status, "passed");
  assert.equal(
    run.fixtures.find((f) => f.fixture.file.endsWith("a_yaml.wire.yaml"))?.fixture.name,
    "broken yaml",
  );
  assert.deepEqual(ofType(run.events, "step-result").length, 1);
});

Deno.test("runFixtures() makes a fixture invalid when a variable has no value at run time", async () => {
  await using fx = await fixtureDir({
    "env.wire.yaml": KIT(
      "unset",
      `  - plugin: test-kit\n    with: { echo: "\${env.WIRETEST_TEST_UNSET}" }\n`,
    ),
  });
  const run = await runCollecting({
    paths: [fx.dir],
    allowEnv: ["WIRETEST_TEST_UNSET"],
    env: () => undefined,
  });
  assert.equal(run.exitCode, 2);
  const [end] = run.fixtures;
  assert.equal(end.status, "invalid");
  assert.equal(end.problems[0].path, "steps[0].with.echo");
  assert.equal(end.problems[0].line, 5);
  assert.match(end.problems[0].message, /environment variable "WIRETEST_TEST_UNSET" is not set/);
});

Deno.test("runFixtures() stops services after a failing step: their port is free again", async () => {
  const port = freePort();
  await using fx = await fixtureDir({
    "stop.wire.yaml": `name: stops services
services:
  echo: { plugin: echo, with: { port: ${port} } }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
    expect: { metrics.round_trips: 99 }
`,
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.fixtures[0].status, "failed");
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});

Deno.test("runFixtures() fails a step that expects nothing of ok when its outcome is not ok", async () => {
  const port = freePort();
  await using fx = await fixtureDir({
    "refused.wire.yaml":
      `name: refused\nsteps:\n  - plugin: echo\n    with: { target: "127.0.0.1:${port}" }\n`,
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 1);
  const [step] = ofType(run.events, "step-result");
  assert.equal(step.status, "failed");
  assert.deepEqual(step.expectations.map((e) => [e.key, e.pass]), [["ok", false]]);
  assert.match(
    step.expectations[0].message,
    /:3:5: "ok" is false, expected true .*connection refused/,
  );
});

Deno.test("runFixtures() retries a failing step until it passes", async () => {
  await using fx = await fixtureDir({
    "retry.wire.yaml": KIT(
      "retries",
      `  - plugin: test-kit\n    with: { key: "retry-${crypto.randomUUID()}", failTimes: 2 }\n    retries: 3\n    retryDelay: 10ms\n`,
    ),
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 0);
  const attempts = ofType(run.events, "step-result");
  assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.willRetry]), [
    [1, "failed", true],
    [2, "failed", true],
    [3, "passed", false],
  ]);
});

Deno.test("runFixtures() fails a step once its retries are spent", async () => {
  await using fx = await fixtureDir({
    "retry.wire.yaml": KIT(
      "retries spent",
      `  - plugin: test-kit\n    with: { key: "spent-${crypto.randomUUID()}", failTimes: 5 }\n    retries: 1\n`,
    ),
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.fixtures[0].status, "failed");
  const attempts = ofType(run.events, "step-result");
  assert.deepEqual(attempts.map((a) => [a.attempt, a.willRetry]), [[1, true], [2, false]]);
});

Deno.test("runFixtures() stops a step at its timeout and reports it at the timeout field", async () => {
  await using fx = await fixtureDir({
    "slow.wire.yaml": `name: slow step
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", durationMs: 60000 }
    timeout: 200ms
`,
  });
  const run = await within(runCollecting({ paths: [fx.dir] }), 30_000, "the step to time out");
  assert.equal(run.exitCode, 1);
  assert.equal(run.fixtures[0].status, "error");
  const [step] = ofType(run.events, "step-result");
  assert.equal(step.status, "error");
  assert.equal(step.error?.path, "steps[0].timeout");
  assert.equal(step.error?.line, 7);
  assert.match(step.error?.message ?? "", /took longer than its timeout of 200 ms/);
});

Deno.test("runFixtures() stops a fixture at its timeout and closes its services", async () => {
  const port = freePort();
  await using fx = await fixtureDir({
    "slow.wire.yaml": `name: slow fixture
timeout: 300ms
services:
  echo: { plugin: echo, with: { port: ${port} } }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", durationMs: 60000 }
`,
  });
  const run = await within(runCollecting({ paths: [fx.dir] }), 30_000, "the fixture to time out");
  const [end] = run.fixtures;
  assert.equal(end.status, "error");
  assert.deepEqual(end.problems.map((p) => [p.line, p.path]), [[2, "timeout"]]);
  assert.match(end.problems[0].message, /took longer than its timeout of 300 ms/);
  Deno.listen({ hostname: "127.0.0.1", port }).close();
});

for (const isolation of [false, true]) {
  // Runs of 1 s: a timeout overflowing to 1 ms would cut them, and a loaded
  // machine has time for a first round trip (100 ms could pass without).
  Deno.test(`runFixtures() runs a step with timeout 700h to the end (isolation: ${isolation})`, async () => {
    await using fx = await fixtureDir({
      "long.wire.yaml": `name: long limits
timeout: 800h
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", durationMs: 1000 }
    timeout: 700h
    expect:
      metrics.round_trips: "> 0"
  - plugin: echo
    with: { target: "\${services.echo.addr}", durationMs: 1000 }
    timeout: ${2 ** 31}
`,
    });
    const run = await runCollecting({ paths: [fx.dir], isolation });
    const steps = ofType(run.events, "step-result");
    assert.deepEqual(
      steps.map((s) => [s.status, s.outcome.error?.message]),
      [["passed", undefined], ["passed", undefined]],
    );
    assert.equal(run.exitCode, 0);
  });
}

Deno.test("runFixtures() skips the fixtures not started after a failure with failFast", async () => {
  await using fx = await fixtureDir({
    "a.wire.yaml": KIT(
      "a fails",
      `  - plugin: test-kit\n    with: { failTimes: 1, key: "ff-${crypto.randomUUID()}" }\n`,
    ),
    "b.wire.yaml": KIT("b", "  - plugin: test-kit\n"),
    "c.wire.yaml": KIT("c", "  - plugin: test-kit\n"),
  });
  const run = await runCollecting({ paths: [fx.dir], failFast: true });
  assert.equal(run.exitCode, 1);
  assert.deepEqual(run.fixtures.map((f) => [f.fixture.name, f.status]), [
    ["a fails", "failed"],
    ["b", "skipped"],
    ["c", "skipped"],
  ]);
  assert.match(run.fixtures[1].problems[0].message, /fail-fast/);
  assert.equal(ofType(run.events, "summary")[0].skipped, 2);
});

Deno.test("runFixtures() runs only the fixtures whose name matches the filter", async () => {
  await using fx = await fixtureDir({
    "a.wire.yaml": KIT("echo one", "  - plugin: test-kit\n"),
    "b.wire.yaml": KIT("ping two", "  - plugin: test-kit\n"),
    "c.wire.yaml": KIT("Echo three", "  - plugin: test-kit\n"),
  });
  const bySubstring = await runCollecting({ paths: [fx.dir], filter: "echo" });
  assert.deepEqual(bySubstring.fixtures.map((f) => f.fixture.name), ["echo one"]);
  assert.equal(ofType(bySubstring.events, "run-start")[0].fixtures, 1);
  const byRegex = await runCollecting({ paths: [fx.dir], filter: "/^echo/i" });
  assert.deepEqual(byRegex.fixtures.map((f) => f.fixture.name), ["echo one", "Echo three"]);
});

Deno.test("runFixtures() shards split the fixtures into disjoint parts that cover them all", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 7; i++) files[`f${i}.wire.yaml`] = KIT(`f${i}`, "  - plugin: test-kit\n");
  await using fx = await fixtureDir(files);
  const parts: string[][] = [];
  for (let index = 1; index <= 3; index++) {
    const run = await runCollecting({ paths: [fx.dir], shard: { index, count: 3 } });
    assert.deepEqual(ofType(run.events, "run-start")[0].shard, { index, count: 3 });
    parts.push(run.fixtures.map((f) => f.fixture.name));
  }
  assert.deepEqual(parts, [["f0", "f3", "f6"], ["f1", "f4"], ["f2", "f5"]]);
  const all = parts.flat().sort();
  assert.deepEqual(all, Object.keys(files).map((f) => f.replace(".wire.yaml", "")));
});

Deno.test("runFixtures() runs fixtures concurrently, each with its own services and ports", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 4; i++) files[`echo${i}.wire.yaml`] = ECHO_OK(`echo ${i}`);
  await using fx = await fixtureDir(files);
  const run = await runCollecting({ paths: [fx.dir], concurrency: 4 });
  assert.equal(run.exitCode, 0);
  assert.equal(ofType(run.events, "run-start")[0].concurrency, 4);
  // All four started before the first ended.
  const kinds = run.events.filter((e) => e.type.startsWith("fixture-")).map((e) => e.type);
  assert.deepEqual(kinds.slice(0, 4), Array(4).fill("fixture-start"));
  const targets = ofType(run.events, "step-result").map((s) => s.outcome.facts.target);
  assert.equal(new Set(targets).size, 4);
});

Deno.test("runFixtures() gives each fixture a WIRETEST_TMP directory and removes it afterwards", async () => {
  await using fx = await fixtureDir({
    "tmp.wire.yaml": KIT(
      "tmp",
      '  - plugin: test-kit\n    with: { echo: ["${env.WIRETEST_TMP}", "${env.WIRETEST_FIXTURE_DIR}"] }\n',
    ),
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 0);
  const [tmp, dir] = ofType(run.events, "step-result")[0].outcome.facts.echo as string[];
  assert.equal(dir, fx.dir);
  assert.match(tmp, /wiretest-/);
  await assert.rejects(Deno.stat(tmp), Deno.errors.NotFound);
});

Deno.test("runFixtures() skips every fixture when the run is stopped", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": KIT("a", "  - plugin: test-kit\n") });
  const run = await runCollecting({ paths: [fx.dir], signal: AbortSignal.abort() });
  assert.deepEqual(run.fixtures.map((f) => f.status), ["skipped"]);
  assert.match(run.fixtures[0].problems[0].message, /the run was stopped/);
});

Deno.test("runFixtures() runs plugins in Workers limited to their manifest's permissions", async () => {
  await using fx = await fixtureDir({
    "read.wire.yaml": KIT(
      "reads a file",
      '  - plugin: test-kit\n    with: { readFile: "${env.WIRETEST_FIXTURE_DIR}/read.wire.yaml" }\n',
    ),
  });
  // test-kit's manifest grants no read permission.
  const isolated = await runCollecting({ paths: [fx.dir], isolation: true });
  const [denied] = ofType(isolated.events, "step-result");
  assert.equal(denied.status, "failed");
  assert.match(denied.outcome.error?.message ?? "", /permission denied: read access/);
  const inProcess = await runCollecting({ paths: [fx.dir], isolation: false });
  assert.equal(inProcess.exitCode, 0);
  assert.match(
    String(ofType(inProcess.events, "step-result")[0].outcome.facts.text),
    /^name: reads a file/,
  );
});
