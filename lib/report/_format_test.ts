import assert from "node:assert/strict";
import type { StepResultEvent } from "../runner/events.ts";
import { describeValue, stepDetailLines } from "./_format.ts";

const at = { file: "f.wire.yaml", line: 3, column: 5, path: "steps[0].expect.x" };

function failing(actual: number, expected: string): StepResultEvent {
  return {
    type: "step-result",
    fixture: { file: at.file, name: "f" },
    step: { index: 0, name: "s", plugin: "udp-ping", location: at },
    status: "failed",
    attempt: 1,
    willRetry: false,
    durationMs: 1,
    outcome: { ok: true, metrics: { x: actual }, facts: {} },
    expectations: [{ key: "metrics.x", pass: false, expected, actual, message: "", location: at }],
  };
}

Deno.test("describeValue() writes numbers rounded, alone and inside objects", () => {
  assert.equal(describeValue(0.002579999999966276), "0.00258");
  assert.equal(describeValue(1e-7), "1e-7");
  assert.equal(describeValue({ a: 1.7687170000000094 }), '{"a":1.768717}');
});

Deno.test("stepDetailLines() shows a failing number rounded, exactly too when that reads as the bound", () => {
  assert.equal(
    stepDetailLines(failing(0.002579999999966276, "< 0.002"), "")[0],
    "metrics.x: expected < 0.002, actual 0.00258",
  );
  assert.equal(
    stepDetailLines(failing(0.5000000001, "<= 0.5"), "")[0],
    "metrics.x: expected <= 0.5, actual 0.5 (exactly 0.5000000001)",
  );
});

Deno.test("stepDetailLines() writes a number exactly too when its expectation says the rounding misleads (bound in other units)", () => {
  const event = failing(1000.0000000001, "<= 1s");
  event.expectations[0] = { ...event.expectations[0], roundingMisleads: true };
  assert.equal(
    stepDetailLines(event, "")[0],
    "metrics.x: expected <= 1s, actual 1000 (exactly 1000.0000000001)",
  );
});

Deno.test("stepDetailLines() writes a list exactly when its expectation says the rounding misleads", () => {
  const event = failing(0, "contains 0.2");
  event.expectations[0] = {
    ...event.expectations[0],
    actual: [0.1, 0.20000000000000004],
    roundingMisleads: true,
  };
  assert.equal(
    stepDetailLines(event, "")[0],
    "metrics.x: expected contains 0.2, actual [0.1,0.20000000000000004]",
  );
});
