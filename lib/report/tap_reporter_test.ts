import assert from "node:assert/strict";
import { Parser } from "tap-parser";
import { tapReporter } from "./tap_reporter.ts";
import {
  BROKEN,
  ECHO,
  feed,
  FILE_SEND,
  HTTP,
  runEvents,
  SERVER,
  sink,
  UDP,
} from "./_test_utils.ts";
import type { RunEvent } from "../runner/events.ts";

// deno-lint-ignore no-explicit-any
type Node = any;

interface Parsed {
  tap: string;
  version: number | undefined;
  result: Node;
  asserts: Node[];
  children: Map<string, { asserts: Node[]; result: Node }>;
  extra: string[];
  bailouts: string[];
}

/** Parses a TAP stream with tap-parser in strict mode, keeping subtests. */
function parseTap(tap: string): Parsed {
  const parsed: Parsed = {
    tap,
    version: undefined,
    result: undefined,
    asserts: [],
    children: new Map(),
    extra: [],
    bailouts: [],
  };
  const parser = new Parser({ strict: true }, (result: Node) => parsed.result = result);
  parser.on("version", (version: number) => parsed.version = version);
  parser.on("assert", (point: Node) => parsed.asserts.push(point));
  parser.on("extra", (line: string) => parsed.extra.push(line));
  parser.on("bailout", (reason: string) => parsed.bailouts.push(reason));
  parser.on("child", (child: Node) => {
    const entry = { asserts: [] as Node[], result: undefined };
    parsed.children.set(child.name, entry);
    child.on("assert", (point: Node) => entry.asserts.push(point));
    child.on("extra", (line: string) => parsed.extra.push(`child: ${line}`));
    child.on("complete", (result: Node) => entry.result = result);
  });
  parser.end(tap);
  return parsed;
}

async function report(events: RunEvent[] = runEvents()): Promise<Parsed> {
  const out = sink();
  await feed(tapReporter(out.write), events);
  return parseTap(out.text());
}

function point(parsed: Parsed, fixture: { name: string; file: string }): Node {
  const found = parsed.asserts.find((p) => p.name === `${fixture.name} (${fixture.file})`);
  assert.ok(found, `a test point for ${fixture.name}`);
  return found;
}

Deno.test("tapReporter() writes a valid TAP 14 stream: version, plan and no parse errors", async () => {
  const parsed = await report();
  assert.equal(parsed.version, 14);
  assert.deepEqual(parsed.extra, [], "every line is TAP");
  assert.deepEqual(parsed.bailouts, []);
  assert.deepEqual(
    parsed.result.failures.filter((f: Node) => f.tapError),
    [],
    "no strict-mode errors",
  );
  assert.equal(parsed.result.plan.start, 1);
  assert.equal(parsed.result.plan.end, 6);
  assert.equal(parsed.result.count, 6);
});

Deno.test("tapReporter() has one test point per fixture with pass, fail and skip counts", async () => {
  const { result, asserts } = await report();
  assert.equal(result.ok, false);
  assert.equal(result.pass, 3, "2 passed + 1 skipped (a skip is ok)");
  assert.equal(result.fail, 3, "failed, error, invalid");
  assert.equal(result.skip, 1);
  assert.deepEqual(asserts.map((p) => p.id), [1, 2, 3, 4, 5, 6]);
});

Deno.test("tapReporter() nests one subtest per step, with its own plan", async () => {
  const parsed = await report();
  assert.equal(parsed.children.size, 4, "fixtures that ran steps");
  const echo = parsed.children.get(`${ECHO.name} (${ECHO.file})`);
  assert.ok(echo);
  assert.equal(echo.result.ok, true);
  assert.equal(echo.result.plan.end, 1);
  assert.equal(echo.asserts[0].name, "round trip (echo)");

  const http = parsed.children.get(`${HTTP.name} (${HTTP.file})`);
  assert.ok(http);
  assert.equal(http.result.count, 1, "the retried attempt is not a test point of its own");
  assert.equal(http.result.fail, 1);
  assert.equal(http.asserts[0].diag.attempt, 2);
});

Deno.test("tapReporter() gives each failing expectation expected, actual and at in YAML", async () => {
  const parsed = await report();
  const step = parsed.children.get(`${HTTP.name} (${HTTP.file})`)?.asserts[0];
  assert.equal(step.ok, false);
  assert.equal(step.diag.severity, "fail");
  assert.deepEqual(step.diag.failures, [
    {
      key: "facts.status",
      expected: "200",
      actual: 503,
      at: { file: HTTP.file, line: 9, column: 21 },
    },
    {
      key: "facts.server",
      expected: "matches /^caddy <&>/",
      actual: SERVER,
      at: { file: HTTP.file, line: 11, column: 21 },
    },
  ]);
  const fixture = point(parsed, HTTP);
  assert.equal(fixture.ok, false);
  assert.equal(fixture.diag.status, "failed");
});

Deno.test("tapReporter() reports step errors and invalid-fixture problems with their locations", async () => {
  const parsed = await report();
  const step = parsed.children.get(`${UDP.name} (${UDP.file})`)?.asserts[0];
  assert.equal(step.ok, false);
  assert.equal(step.diag.status, "error");
  assert.deepEqual(step.diag.at, { file: UDP.file, line: 6, column: 5 });
  assert.equal(step.diag.error.name, "TimeoutError");
  const udp = point(parsed, UDP);
  assert.equal(udp.diag.status, "error");
  assert.deepEqual(udp.diag.problems[0].at, { file: UDP.file, line: 3, column: 3 });

  const broken = point(parsed, BROKEN);
  assert.equal(broken.ok, false);
  assert.equal(broken.diag.status, "invalid");
  assert.deepEqual(
    broken.diag.problems.map((p: Node) => [p.field, p.at.line, p.at.column]),
    [["steps[0].plugin", 4, 13], ["steps[0].expect.metrics.rtt", 7, 20]],
  );
  assert.match(broken.diag.problems[0].message, /unknown plugin "ecko"/);
});

Deno.test("tapReporter() marks skipped fixtures with a SKIP directive", async () => {
  const parsed = await report();
  const skipped = parsed.asserts.find((p) => p.id === 6);
  assert.equal(skipped.ok, true);
  assert.equal(skipped.skip, true);
  assert.equal(parsed.result.skips.length, 1);

  const withReason = runEvents().map((event): RunEvent =>
    event.type === "fixture-end" && event.status === "skipped"
      ? {
        ...event,
        problems: [{
          file: event.fixture.file,
          line: 1,
          column: 1,
          path: "",
          message: "--fail-fast",
        }],
      }
      : event
  );
  const reasoned = (await report(withReason)).asserts.find((p) => p.id === 6);
  assert.equal(reasoned.skip, "--fail-fast");
});

Deno.test("tapReporter() escapes # and \\ in descriptions and shows control characters", async () => {
  const parsed = await report();
  point(parsed, HTTP); // read back exactly, # and \ included
  point(parsed, UDP); // non-ASCII read back exactly
  const skipped = parsed.asserts.find((p) => p.id === 6);
  assert.equal(
    skipped.name,
    `file send\\u0000\\u0007\\u001b[2J\\nnext (${FILE_SEND.file})`,
    "control characters written as visible escapes, on one line",
  );
});

Deno.test("tapReporter() puts the plan last, so a run that stopped early stays valid", async () => {
  const out = sink();
  await feed(tapReporter(out.write), runEvents().slice(0, 9)); // no summary: close() ends it
  const parsed = parseTap(out.text());
  assert.deepEqual(parsed.extra, []);
  assert.equal(parsed.result.plan.end, 2);
  assert.equal(parsed.result.count, 2);
  assert.equal(parsed.result.fail, 1);
});

Deno.test("tapReporter() writes each fixture's block when it ends", async () => {
  const out = sink();
  const reporter = tapReporter(out.write);
  const events = runEvents();
  for (const event of events.slice(0, 5)) await reporter.onEvent(event); // up to ECHO's step
  assert.doesNotMatch(out.text(), /^ok 1/m);
  await reporter.onEvent(events[5]); // ECHO ends
  assert.match(out.text(), /^ok 1 - tcp echo round trip/m);
  await reporter.close?.();
});
