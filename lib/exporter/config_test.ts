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
  assert.match(problems[2], /^e\.yaml:6:15: "modules\.a\.targets\[0\]" is not a valid pattern/);
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
