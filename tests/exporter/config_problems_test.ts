// A module with a problem of its own (an unknown field, a bad timeout, a
// pattern that does not compile) still has its params checked by its
// plugin: a typo in `with` is reported with the rest, in one pass, not
// after the first problem is fixed.
import assert from "node:assert/strict";
import { ExporterConfigError } from "../../lib/exporter/config.ts";
import { testExporter } from "./_exporter.ts";

async function loadProblems(config: string): Promise<string[]> {
  try {
    await using _ = await testExporter(config);
  } catch (error) {
    assert.ok(error instanceof ExporterConfigError, String(error));
    // Located in the temp file: keep line, column and detail.
    return error.problems.map((p) => p.replace(/^.*exporter\.yaml:/, ""));
  }
  throw new Error("The config was accepted");
}

Deno.test("exporter config: a module's structural problems and its param typos come in one pass, each located", async () => {
  const problems = await loadProblems(`modules:
  udp:
    plugin: udp-ping
    timout: 5s
    with: { cout: 3, intervalMs: 10 }
  web:
    plugin: http-probe
    timeout: soon
    targets: ["("]
    with: { folowRedirects: true }
    expect:
      metrics.stauts: 200
  ok:
    plugin: echo
    with: { count: "x" }
`);
  assert.deepEqual(
    problems.map((p) => /^(\d+:\d+): ("[^"]+")/.exec(p)?.slice(1).join(" ")),
    [
      '4:5 "modules.udp.timout"',
      // An unknown param is located at its key, as in a fixture.
      '5:13 "modules.udp.with.cout"',
      '8:14 "modules.web.timeout"',
      '9:15 "modules.web.targets[0]"',
      '10:13 "modules.web.with.folowRedirects"',
      '12:7 "modules.web.expect.metrics.stauts"',
      '15:20 "modules.ok.with.count"',
    ],
    problems.join("\n"),
  );
  assert.match(
    problems[1],
    /"modules\.udp\.with\.cout" is not a param of plugin "udp-ping" \(did you mean "count"\?\)$/,
  );
  assert.match(
    problems[6],
    /"modules\.ok\.with\.count" is invalid for plugin "echo": invalid input: expected number/,
  );
  assert.match(problems[4], /did you mean "followRedirects"/);
});

Deno.test("exporter config: a module whose params cannot be read reports its own problems only", async () => {
  // No plugin, `with` not a mapping, a target param that is not a name:
  // nothing to ask a plugin about.
  const problems = await loadProblems(`modules:
  a:
    with: { cout: 3 }
  b:
    plugin: echo
    with: [count]
  c:
    plugin: echo
    target: 7
    with: { cout: 3 }
`);
  assert.deepEqual(
    problems.map((p) => /^(\d+:\d+): ("[^"]+")/.exec(p)?.slice(1).join(" ")),
    ['2:3 "modules.a.plugin"', '6:11 "modules.b.with"', '9:13 "modules.c.target"'],
    problems.join("\n"),
  );
});

Deno.test("exporter config: a module written twice is one problem among the others, the first kept and located", async () => {
  const problems = await loadProblems(`modules:
  a:
    plugin: echo
    timout: 5s
  a:
    plugin: echo
    with: { cout: 3 }
  b:
    plugin: udp-ping
    with: { cout: 3 }
`);
  assert.deepEqual(
    problems.map((p) => /^(\d+:\d+): ("[^"]+")/.exec(p)?.slice(1).join(" ")),
    ['4:5 "modules.a.timout"', '5:3 "modules.a"', '10:13 "modules.b.with.cout"'],
    problems.join("\n"),
  );
  assert.match(problems[1], /"modules\.a" is written twice \(first at line 2, column 3\)$/);
});
