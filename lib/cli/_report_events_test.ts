// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { checkReportEvent } from "./_report_events.ts";

const STEP = {
  type: "step-result",
  fixture: { file: "a.wire.yaml", name: "a" },
  step: {
    index: 0,
    name: "s",
    plugin: "echo",
    location: { file: "a.wire.yaml", line: 3, column: 5, path: "steps[0]" },
  },
  status: "failed",
  attempt: 1,
  willRetry: false,
  durationMs: 1.5,
  outcome: { ok: true, metrics: { rtt_ms: 1 }, facts: {} },
  expectations: [{
    key: "metrics.rtt_ms",
    pass: false,
    expected: "< 1",
    actual: 1,
    message: "m",
    location: { file: "a.wire.yaml", line: 9, column: 7, path: "steps[0].expect" },
  }],
  error: { file: "a.wire.yaml", line: 3, column: 5, path: "steps[0]", message: "e" },
  load: {
    model: "open",
    interrupted: false,
    elapsedMs: 1000,
    askedRate: 10,
    series: [{
      second: 1,
      iterations: 10,
      errors: 0,
      bytes: 100,
      p50_ms: null,
      p90_ms: 1,
      p99_ms: 2,
    }],
  },
};

Deno.test("checkReportEvent() takes a step's result as jsonl writes it and names each wrong field", () => {
  assert.equal(checkReportEvent(structuredClone(STEP)).type, "step-result");
  const wrong: [string, (e: Record<string, any>) => void][] = [
    ['"step.index" must be a whole number, not negative', (e) => e.step.index = -1],
    [
      '"step.location.line" must be a whole number, not negative',
      (e) => e.step.location.line = "3",
    ],
    ['"status" must be passed, failed or error', (e) => e.status = "invalid"],
    ['"attempt" must be a whole number, not negative', (e) => e.attempt = 1.5],
    ['"durationMs" must be a number of milliseconds, not negative', (e) => e.durationMs = -1],
    ['"outcome" must be an object', (e) => e.outcome = null],
    ['"expectations[0].key" must be a string', (e) => e.expectations[0].key = 1],
    ['"error.message" must be a string', (e) => delete e.error.message],
    ['"load.series" must be a list', (e) => e.load.series = {}],
    ['"load.series[0].p99_ms" must be a number or null', (e) => e.load.series[0].p99_ms = "1"],
  ];
  for (const [message, change] of wrong) {
    const event = structuredClone(STEP) as Record<string, any>;
    change(event);
    assert.throws(() => checkReportEvent(event), new TypeError(message));
  }
});
