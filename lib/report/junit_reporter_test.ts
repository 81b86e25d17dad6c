// deno-lint-ignore-file no-control-regex -- these tests are about control characters
import assert from "node:assert/strict";
import { SaxesParser } from "saxes";
import { junitReporter } from "./junit_reporter.ts";
import {
  BROKEN,
  ECHO,
  ECHO_LARGE,
  feed,
  FILE_SEND,
  HTTP,
  runEvents,
  SERVER,
  sink,
  UDP,
} from "./_test_utils.ts";
import { parseXmlTree, type XmlNode } from "./_xml_test_utils.ts";

type Node = XmlNode;

/** Well-formedness errors by a strict XML 1.0 parser (forbidden characters, bad entities…). */
function wellFormednessErrors(xml: string): string[] {
  const errors: string[] = [];
  const parser = new SaxesParser();
  parser.on("error", (error) => errors.push(error.message));
  parser.write(xml).close();
  return errors;
}

/** `name` of every <testcase>, read by the conformant parser (it normalizes attribute values). */
function strictTestCaseNames(xml: string): string[] {
  const names: string[] = [];
  const parser = new SaxesParser();
  parser.on("opentag", (tag) => {
    if (tag.name === "testcase") names.push(String(tag.attributes.name));
  });
  parser.write(xml).close();
  return names;
}

function parse(xml: string): Node {
  return parseXmlTree(xml, ["testsuite", "testcase"]);
}

async function report(): Promise<{ xml: string; doc: Node; cases: Map<string, Node> }> {
  const out = sink();
  await feed(junitReporter(out.write), runEvents());
  const xml = out.text();
  const doc = parse(xml);
  const cases = new Map<string, Node>();
  for (const suite of doc.testsuites.testsuite) {
    for (const testCase of suite.testcase) cases.set(testCase.name, testCase);
  }
  return { xml, doc, cases };
}

Deno.test("junitReporter() writes a well-formed XML document", async () => {
  const { xml } = await report();
  assert.deepEqual(wellFormednessErrors(xml), []);
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
});

Deno.test("junitReporter() counts the run on <testsuites> and groups test cases by file", async () => {
  const { doc } = await report();
  const root = doc.testsuites;
  assert.equal(root.name, "wiretest");
  assert.equal(root.tests, "6");
  assert.equal(root.failures, "1");
  assert.equal(root.errors, "2", "error and invalid both count as errors");
  assert.equal(root.skipped, "1");
  assert.equal(root.time, "3.210", "the run's wall-clock time in seconds");
  assert.equal(root.timestamp, "2025-06-01T12:00:00.000Z");

  const suites = root.testsuite;
  assert.deepEqual(
    suites.map((s: Node) => s.name),
    [ECHO.file, HTTP.file, UDP.file, BROKEN.file, FILE_SEND.file],
  );
  const echo = suites[0];
  assert.equal(echo.tests, "2");
  assert.deepEqual(echo.testcase.map((c: Node) => c.name), [ECHO.name, ECHO_LARGE.name]);
  assert.equal(echo.time, "0.168", "sum of its test cases");
  for (const suite of suites) {
    assert.equal(Number(suite.tests), suite.testcase.length);
    for (const testCase of suite.testcase) {
      assert.equal(testCase.classname, suite.name);
      assert.equal(testCase.file, suite.name);
    }
  }
});

Deno.test("junitReporter() gives each test case its duration in seconds", async () => {
  const { cases } = await report();
  assert.equal(cases.get(ECHO.name).time, "0.123");
  assert.equal(cases.get(HTTP.name).time, "0.780");
  assert.equal(cases.get(UDP.name).time, "2.010");
});

Deno.test("junitReporter() lists every failing expectation with its location in <failure>", async () => {
  const { cases } = await report();
  const failed = cases.get(HTTP.name);
  assert.equal(failed.error, undefined, "a failed expectation is not an error");
  const failure = failed.failure;
  assert.equal(failure.type, "expectation");
  assert.match(failure.message, /^2 expectations failed; first: .*"facts\.status" is 503/);
  const body: string = failure["#text"];
  assert.match(
    body,
    /facts\.status: expected 200, actual 503\n +at tests\/fixtures\/http\.wire\.yaml:9:21/,
  );
  assert.match(
    body,
    /facts\.server: expected matches \/\^caddy <&>\/, actual .*\n +at tests\/fixtures\/http\.wire\.yaml:11:21/,
  );
  assert.doesNotMatch(body, /latency_ms/, "passing expectations are not listed");
  assert.match(body, /attempt 2/, "the attempt that decided the step");
});

Deno.test("junitReporter() reports step errors and invalid fixtures in <error>, apart from failures", async () => {
  const { cases } = await report();
  const errored = cases.get(UDP.name);
  assert.equal(errored.failure, undefined);
  assert.equal(errored.error.type, "error");
  assert.match(errored.error.message, /udp\.wire\.yaml:6:5.*timed out after 2s/);
  assert.match(errored.error["#text"], /TimeoutError: Cannot receive from 127\.0\.0\.1:40000/);
  assert.match(errored.error["#text"], /udp\.wire\.yaml:3:3.*service "pong" did not stop/);

  const invalid = cases.get(BROKEN.name);
  assert.equal(invalid.failure, undefined);
  assert.equal(invalid.error.type, "invalid");
  assert.match(invalid.error.message, /broken\.wire\.yaml:4:13.*unknown plugin "ecko"/);
  assert.match(invalid.error["#text"], /broken\.wire\.yaml:7:20.*malformed expectation "<< 3"/);
});

Deno.test("junitReporter() marks skipped fixtures with <skipped/> and passed ones with neither failure nor error", async () => {
  const { cases } = await report();
  const skipped = [...cases.values()].find((c) => c.classname === FILE_SEND.file);
  assert.ok(skipped && "skipped" in skipped);
  assert.equal(skipped.failure, undefined);
  assert.equal(skipped.error, undefined);
  for (const name of [ECHO.name, ECHO_LARGE.name]) {
    const passed = cases.get(name);
    assert.equal(passed.failure, undefined);
    assert.equal(passed.error, undefined);
    assert.equal(passed.skipped, undefined);
  }
});

Deno.test("junitReporter() escapes markup characters and keeps non-ASCII text", async () => {
  const { cases } = await report();
  assert.ok(cases.has(HTTP.name), `name read back exactly: ${HTTP.name}`);
  assert.ok(cases.has(UDP.name), `name read back exactly: ${UDP.name}`);
  assert.ok(cases.get(HTTP.name).failure["#text"].includes("<b>&amp;</b>"));
});

Deno.test("junitReporter() writes characters XML 1.0 forbids as visible escapes", async () => {
  const { xml, cases } = await report();
  assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  const skipped = [...cases.values()].find((c) => c.classname === FILE_SEND.file);
  const expected = "file send\\u0000\\u0007\\u001b[2J\nnext";
  assert.equal(skipped.name, expected);
  assert.ok(strictTestCaseNames(xml).includes(expected), "the line break survives normalization");
  const body: string = cases.get(HTTP.name).failure["#text"];
  assert.ok(body.includes(JSON.stringify(SERVER)), "the actual value as JSON, escapes visible");
});

Deno.test("junitReporter() adds step lines with metrics in <system-out>", async () => {
  const { cases } = await report();
  const out: string = cases.get(ECHO.name)["system-out"];
  assert.match(out, /passed step "round trip" \(echo\) 101 ms/);
  assert.match(out, /metrics: bytes_received=5000 rtt_p99_ms=0\.42/);
  assert.match(cases.get(HTTP.name)["system-out"], /retrying[\s\S]*attempt 2/);
});

Deno.test("junitReporter() writes once, at the summary", async () => {
  const out = sink();
  const reporter = junitReporter(out.write);
  const events = runEvents();
  for (const event of events.slice(0, -1)) await reporter.onEvent(event);
  assert.equal(out.calls.length, 0, "nothing before the summary");
  await reporter.onEvent(events[events.length - 1]);
  assert.equal(out.calls.length, 1);
  await reporter.close?.();
  assert.equal(out.calls.length, 1, "close() after the summary writes nothing more");
});

Deno.test("junitReporter() writes what it has at close() when the run stopped before its summary", async () => {
  const out = sink();
  await feed(junitReporter(out.write), runEvents().slice(0, 7));
  assert.equal(out.calls.length, 1);
  assert.deepEqual(wellFormednessErrors(out.text()), []);
  const root = parse(out.text()).testsuites;
  assert.equal(root.tests, "1");
  assert.equal(root.testsuite[0].testcase[0].name, ECHO.name);
});
