// `wiretest test` and `wiretest schema` as subprocesses: exit codes, each
// reporter, --output files. (The JUnit and TAP formats themselves are parsed
// by the reporters' own tests.)
import assert from "node:assert/strict";
import { fixtureDir } from "./_support/run.ts";
import { commandOutput } from "../_support/command.ts";

const MAIN = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

async function wiretest(...args: string[]) {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const PASS = `name: passes
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
`;

const FAIL = `name: fails
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
    expect: { metrics.round_trips: 2 }
`;

Deno.test("wiretest test prints console lines and exits 0 when every fixture passes", async () => {
  await using fx = await fixtureDir({ "pass.wire.yaml": PASS });
  const r = await wiretest("test", fx.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok +passes \(.*pass\.wire\.yaml\) \d+ ms$/m);
  assert.match(r.stdout, /^1 passed, 0 failed/m);
});

Deno.test("wiretest test --reporter jsonl prints one event a line and exits 1 on a failure", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": PASS, "b.wire.yaml": FAIL });
  const r = await wiretest("test", fx.dir, "--reporter", "jsonl", "--concurrency", "2");
  assert.equal(r.code, 1, r.stderr);
  const events = r.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.equal(events[0].type, "run-start");
  assert.equal(events[0].concurrency, 2);
  const summary = events.at(-1);
  assert.deepEqual([summary.type, summary.passed, summary.failed], ["summary", 1, 1]);
  const failed = events.find((e) => e.type === "step-result" && e.status === "failed");
  assert.equal(failed.expectations.find((e: { pass: boolean }) => !e.pass).location.line, 7);
});

Deno.test("wiretest test exits 2 when a fixture is invalid, and names where", async () => {
  await using fx = await fixtureDir({
    "a.wire.yaml": PASS,
    "bad.wire.yaml": "name: bad\nsteps:\n  - plugin: ecoh\n",
  });
  const r = await wiretest("test", fx.dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stdout,
    /bad\.wire\.yaml:3:13": "steps\[0\]\.plugin" names no known plugin "ecoh"/,
  );
  assert.match(r.stdout, /^ok +passes/m);
});

Deno.test("wiretest test --reporter junit --output writes the report to the file", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": PASS, "b.wire.yaml": FAIL });
  const output = fx.path("report.xml");
  const r = await wiretest("test", fx.dir, "--reporter", "junit", "--output", output);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  const xml = await Deno.readTextFile(output);
  assert.match(xml, /^<\?xml/);
  assert.match(xml, /<testcase name="fails"/);
});

Deno.test("wiretest test --reporter tap --output writes the report to the file", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": PASS });
  const output = fx.path("report.tap");
  const r = await wiretest("test", fx.dir, "--reporter", "tap", "--output", output);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await Deno.readTextFile(output), /^TAP version 14\n/);
});

Deno.test("wiretest test exits 2 on a usage error, with one line on stderr", async () => {
  await using fx = await fixtureDir({ "a.wire.yaml": PASS });
  const r = await wiretest("test", fx.dir, "--shard", "3/2");
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: Cannot use --shard "3/2": the part must be from 1 to 2\n');
});

Deno.test("wiretest schema prints the fixture JSON Schema", async () => {
  const r = await wiretest("schema");
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.ok(schema.$defs["file-send.server"]);
});
