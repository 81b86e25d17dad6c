// The Deno.test integration: the example fixtures run below as real tests,
// one test per fixture and one step per fixture step.
import assert from "node:assert/strict";
import { testFixtures } from "../../lib/testing/mod.ts";
import { fixtureDir } from "./_support/run.ts";
import { commandOutput } from "../_support/command.ts";

await testFixtures(new URL("../../examples/fixtures/", import.meta.url));

Deno.test("testFixtures() registers an invalid fixture as a test failing with its located problems", async () => {
  await using fx = await fixtureDir({
    "bad.wire.yaml":
      "name: bad\nsteps:\n  - plugin: ecoh\n  - plugin: udp-ping\n    with: { target: 127.0.0.1:7, count: 0 }\n",
  });
  const tests: Deno.TestDefinition[] = [];
  await testFixtures(fx.dir, { register: (test) => void tests.push(test) });
  assert.deepEqual(tests.map((t) => t.name), ["bad"]);
  const file = fx.path("bad.wire.yaml");
  await assert.rejects(
    async () => await tests[0].fn({} as Deno.TestContext),
    (error: Error) => {
      assert.equal(error.name, "AssertionError");
      assert.ok(error.message.startsWith('Fixture "bad" has 2 problems:'), error.message);
      assert.ok(error.message.includes(`${file}:3:13": "steps[0].plugin"`), error.message);
      assert.ok(
        error.message.includes(`${file}:5:41": "steps[1].with.count"`),
        error.message,
      );
      return true;
    },
  );
});

Deno.test("testFixtures() fails the step of a failing expectation with its location", async () => {
  await using fx = await fixtureDir({
    "fixtures.wire.yaml": `name: two steps
services:
  echo: { plugin: echo }
steps:
  - name: first
    plugin: echo
    with: { target: "\${services.echo.addr}" }
  - name: second
    plugin: echo
    with: { target: "\${services.echo.addr}", count: 2 }
    expect: { metrics.round_trips: 3 }
`,
    "fixtures_test.ts": `import { testFixtures } from ${
      JSON.stringify(new URL("../../lib/testing/mod.ts", import.meta.url).href)
    };\nawait testFixtures(new URL("./", import.meta.url));\n`,
  });
  const out = await commandOutput(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--no-check",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      fx.path("fixtures_test.ts"),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, text);
  assert.match(text, /^ {2}first \.\.\. ok/m);
  assert.match(text, /^ {2}second \.\.\. FAILED/m);
  assert.match(text, /Step "second" failed:/);
  assert.ok(
    text.includes(`${fx.path("fixtures.wire.yaml")}:11:15: "metrics.round_trips" is 2, expected 3`),
    text,
  );
});
