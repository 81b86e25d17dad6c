import assert from "node:assert/strict";
import { ExporterConfigError, parseExporterConfig } from "./config.ts";

Deno.test("parseExporterConfig() reads modules: plugin, target param, timeout, targets, expectations", () => {
  const config = parseExporterConfig(
    `modules:
  web:
    plugin: http-probe
    timeout: 3s
    targets: ["https://example\\\\.org/.*"]
    expect:
      metrics.status: 200
  ping:
    plugin: udp-ping
    with: { count: 3 }
`,
    "exporter.yaml",
  );
  const web = config.modules.get("web")!;
  assert.equal(web.targetParam, "url");
  assert.equal(web.timeoutMs, 3000);
  assert.equal(web.targets![0].test("https://example.org/a"), true);
  // Anchored: a pattern names whole targets.
  assert.equal(web.targets![0].test("http://evil/?https://example.org/"), false);
  assert.equal(web.expect[0].check({ ok: true, metrics: { status: 200 }, facts: {} }).pass, true);
  assert.deepEqual(config.modules.get("ping")!.with, { count: 3 });
  assert.equal(config.modules.get("ping")!.targetParam, "target");
  assert.deepEqual(web.location, { file: "exporter.yaml", line: 2, column: 3 });
});

Deno.test("parseExporterConfig() names every problem with file:line:column", () => {
  const text = `modules:
  a:
    plugin: echo
    timout: 5s
    timeout: soon
    targets: ["("]
    with: { target: "127.0.0.1:7" }
    expect:
      metrics.rtt_p99_ms: "<< 5"
`;
  let error: ExporterConfigError | undefined;
  try {
    parseExporterConfig(text, "e.yaml");
  } catch (e) {
    error = e as ExporterConfigError;
  }
  assert.ok(error instanceof ExporterConfigError);
  const problems = error.problems;
  assert.equal(problems.length, 5, problems.join("\n"));
  assert.match(problems[0], /^e\.yaml:4:5: "modules\.a\.timout" is not a known field/);
  assert.match(problems[1], /^e\.yaml:5:14: "modules\.a\.timeout" /);
  assert.match(
    problems[2],
    /^e\.yaml:6:15: "modules\.a\.targets\[0\]" has an invalid regular expression \/\(\/: Unterminated group$/,
  );
  assert.match(problems[3], /^e\.yaml:7:13: "modules\.a\.with\.target" cannot be set/);
  assert.match(
    problems[4],
    /^e\.yaml:9:7: "modules\.a\.expect\.metrics\.rtt_p99_ms" has a malformed comparison/,
  );
  assert.match(
    error.message,
    /^Cannot load exporter config "e\.yaml": 5 problems\n {2}e\.yaml:4:5: /,
  );
});

Deno.test("parseExporterConfig() locates YAML syntax errors and a missing modules mapping", () => {
  assert.throws(
    () => parseExporterConfig("modules:\n  a: [\n", "bad.yaml"),
    (e: ExporterConfigError) => /^bad\.yaml:\d+:\d+: invalid YAML: /.test(e.problems[0]),
  );
  assert.throws(
    () => parseExporterConfig("module: {}\n", "m.yaml"),
    {
      message:
        'Cannot load exporter config "m.yaml": 2 problems\n  m.yaml:1:1: "module" is not a known field (expected "modules")\n  m.yaml:1:1: "modules" must be a mapping of module names to modules',
    },
  );
});

// Modules sharing defaults the way blackbox exporter configs do: Go's YAML
// reads `<<` merge keys, explicit keys winning, earlier merged maps first.
const MERGED = `modules:
  http_2xx: &http
    plugin: http-probe
    timeout: 5s
    with: { method: GET }
  http_post:
    <<: *http
    with: { method: POST }
  quick: { timeout: 1s, <<: [{ timeout: 2s, targets: ["a"] }, *http] }
  echo: &echo { plugin: echo, with: { count: 2 } }
  echo_long: { <<: *echo, timeout: 9s }
  echo_quoted: { plugin: echo, "<<": *echo }
`;

Deno.test("parseExporterConfig() merges `<<` defaults: explicit keys win, earlier maps first", () => {
  let config;
  try {
    config = parseExporterConfig(MERGED.replace(/^ {2}echo_quoted.*\n/m, ""), "m.yaml");
  } catch (error) {
    assert.fail(String(error));
  }
  const post = config.modules.get("http_post")!;
  assert.deepEqual([post.plugin, post.timeoutMs, post.with], ["http-probe", 5000, {
    method: "POST",
  }]);
  const quick = config.modules.get("quick")!;
  assert.deepEqual([quick.plugin, quick.timeoutMs, quick.targetPatterns, quick.with], [
    "http-probe",
    1000,
    ["a"],
    { method: "GET" },
  ]);
  const long = config.modules.get("echo_long")!;
  assert.deepEqual([long.plugin, long.timeoutMs, long.with], ["echo", 9000, { count: 2 }]);
  // A merged field is located where it is written, named where it is used.
  assert.deepEqual(config.source.locate(["modules", "http_post", "timeout"]), {
    file: "m.yaml",
    line: 4,
    column: 14,
    path: "modules.http_post.timeout",
  });
  assert.deepEqual(config.source.locate(["modules", "quick", "targets", 0]), {
    file: "m.yaml",
    line: 9,
    column: 55,
    path: "modules.quick.targets[0]",
  });
  assert.equal(config.source.locate(["modules", "echo_long", "with", "count"]).line, 10);
});

Deno.test('parseExporterConfig() refuses a quoted "<<": it is a key, not a merge, as in Go\'s YAML', () => {
  assert.throws(() => parseExporterConfig(MERGED, "m.yaml"), {
    message:
      'Cannot load exporter config "m.yaml:12:32": "modules.echo_quoted.<<" is not a known field (expected one of "plugin", "with", "target", "timeout", "targets", "expect")',
  });
});

/** The problems of a config, `line:column detail` each. */
function problemsOf(text: string): string[] {
  try {
    parseExporterConfig(text, "e.yaml");
  } catch (error) {
    assert.ok(error instanceof ExporterConfigError, String(error));
    return error.problems.map((p) => p.replace(/^e\.yaml:/, ""));
  }
  return assert.fail("the config loaded");
}

Deno.test("parseExporterConfig() locates a problem in merged defaults where it is written, named where it is used", () => {
  assert.deepEqual(
    problemsOf(`modules:
  base: &base
    plugin: echo
    timeout: -1s
    tmeout: 2s
    targets: ["("]
  a:
    <<: *base
    timeout: 3s
    timeout: 4s
  b:
    <<: *base
`),
    [
      '4:14: "modules.base.timeout" must be a duration such as "500ms", "1.5s" or "2m", or a number of milliseconds',
      '4:14: "modules.b.timeout" must be a duration such as "500ms", "1.5s" or "2m", or a number of milliseconds',
      // An unknown field in defaults is one in each module that merges them.
      '5:5: "modules.base.tmeout" is not a known field (did you mean "timeout"?)',
      '5:5: "modules.a.tmeout" is not a known field (did you mean "timeout"?)',
      '5:5: "modules.b.tmeout" is not a known field (did you mean "timeout"?)',
      '6:15: "modules.base.targets[0]" has an invalid regular expression /(/: Unterminated group',
      '6:15: "modules.a.targets[0]" has an invalid regular expression /(/: Unterminated group',
      '6:15: "modules.b.targets[0]" has an invalid regular expression /(/: Unterminated group',
      // An explicit key overriding a merged one is no repeat; written twice, it is.
      '10:5: "modules.a.timeout" is written twice (first at line 9, column 5)',
    ],
  );
});

Deno.test("parseExporterConfig() refuses merging what is not a map, located", () => {
  assert.deepEqual(
    problemsOf(`modules:
  list: &list [{ plugin: echo }]
  a: { <<: *list }
  b: { <<: 5 }
  c:
    <<:
  d: { <<: [{ plugin: echo }, *none] }
`),
    [
      '3:12: "modules.a" merges "*list" with "<<", but "&list" is a list: only maps can be merged',
      '4:12: "modules.b" merges the number 5 with "<<": only a map, an alias of one or a list of them can be merged',
      '6:5: "modules.c" merges nothing with "<<": only a map, an alias of one or a list of them can be merged',
      '7:31: "modules.d.<<[1]" uses the alias "*none", but no anchor "&none" comes before it',
    ],
  );
  // A merge written twice is a key written twice, as Go's YAML says.
  assert.deepEqual(
    problemsOf("modules:\n  a: &a { plugin: echo }\n  e: { <<: *a, <<: *a }\n"),
    ['3:16: "modules.e.<<" is written twice (first at line 3, column 8)'],
  );
});

Deno.test("parseExporterConfig() words a module's problems as a fixture's: the field, then a lowercase verb", () => {
  assert.deepEqual(
    problemsOf(`modules:
  c: { plugin: echo, timeout: -1s }
  d: { plugin: echo, timeout: 0 }
  e: { plugin: echo, timeout: ${"9".repeat(400)}h }
  f: { plugin: echo, targets: [5, "a)|(.*"] }
`),
    [
      '2:31: "modules.c.timeout" must be a duration such as "500ms", "1.5s" or "2m", or a number of milliseconds',
      '3:31: "modules.d.timeout" must be more than 0',
      '4:31: "modules.e.timeout" is too large a duration',
      '5:32: "modules.f.targets[0]" must be a string',
      // Not a pattern alone, though `^(?:a)|(.*)$` compiles and allows every target.
      "5:35: \"modules.f.targets[1]\" has an invalid regular expression /a)|(.*/: Unmatched ')'",
    ],
  );
  assert.throws(() => parseExporterConfig("[]\n", "e.yaml"), {
    message:
      'Cannot load exporter config "e.yaml:1:1": the config must be a mapping with "modules"',
  });
});

Deno.test("parseExporterConfig() refuses merge and alias bombs before expanding them", () => {
  const CAP =
    /^\d+:\d+: "modules\.\w+" merges "\*\w+" with "<<", which takes the values merged in the file past 100000, the most it may merge$/;
  // Each module merges the one before three times over: 3^30 values.
  let fan = "modules:\n  m0: &l0 { plugin: echo }\n";
  for (let i = 1; i < 30; i++) {
    fan += `  m${i}: &l${i} { <<: [*l${i - 1}, *l${i - 1}, *l${i - 1}] }\n`;
  }
  assert.deepEqual(problemsOf(fan).filter((p) => !CAP.test(p)), []);
  // One large map merged into a few modules: 40,000 values copied each time.
  const map = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join(", ");
  const big = `modules:\n  a: &d { plugin: echo, with: { ${map} } }\n` +
    Array.from({ length: 5 }, (_, i) => `  m${i}: { <<: *d }\n`).join("");
  assert.deepEqual(problemsOf(big), [
    '5:13: "modules.m2" merges "*d" with "<<", which takes the values merged in the file past 100000, the most it may merge',
  ]);
  // 100 modules sharing one map reach the YAML library's alias limit.
  let many = "modules:\n  base: &b { plugin: echo }\n";
  for (let i = 0; i < 99; i++) many += `  m${i}: { <<: *b }\n`;
  assert.equal(parseExporterConfig(many, "e.yaml").modules.size, 100);
  assert.deepEqual(problemsOf(many + "  last: { <<: *b }\n"), [
    "1:1: the file cannot be read: excessive alias count indicates a resource exhaustion attack",
  ]);
});
