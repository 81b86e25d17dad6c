// A fixture sharing step defaults with YAML merge keys runs end to end on
// loopback: each step gets the merged settings, its own keys winning, and a
// failed expectation merged in is reported where it is written.
import assert from "node:assert/strict";
import { fixtureDir, ofType, runCollecting } from "./_support/run.ts";

Deno.test("runFixtures() runs steps that merge `<<` defaults, each with its own keys first", async () => {
  await using fx = await fixtureDir({
    "merged.wire.yaml": `name: merged defaults
services:
  echo: { plugin: echo }
steps:
  - &echo
    name: two
    plugin: echo
    with: &with { target: "\${services.echo.addr}", count: 2 }
    expect:
      metrics.round_trips: 2
  - <<: *echo
    name: three
    with: { <<: *with, count: 3 }
    expect: { metrics.round_trips: 3 }
  - <<: *echo
    name: four
    with: { <<: *with, count: 4 }
`,
  });
  const run = await runCollecting({ paths: [fx.dir] });
  assert.equal(run.exitCode, 1);
  const steps = ofType(run.events, "step-result");
  assert.deepEqual(
    steps.map((s) => [s.step.name, s.status, s.outcome?.metrics?.round_trips]),
    [["two", "passed", 2], ["three", "passed", 3], ["four", "failed", 4]],
  );
  // The expectation "four" merged from "two" fails where it is written, named where used.
  const [failing] = steps[2].expectations.filter((e) => !e.pass);
  assert.deepEqual(failing.location, {
    file: fx.path("merged.wire.yaml"),
    line: 10,
    column: 7,
    path: "steps[2].expect.metrics.round_trips",
  });
  assert.equal(
    failing.message,
    `${fx.path("merged.wire.yaml")}:10:7: "metrics.round_trips" is 4, expected 2`,
  );
});
