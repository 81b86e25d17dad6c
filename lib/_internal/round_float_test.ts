import assert from "node:assert/strict";
import { judgedNumberText, roundFloat, stringifyRounded } from "./round_float.ts";

Deno.test("roundFloat() drops the binary noise of performance.now() differences", () => {
  assert.equal(roundFloat(0.002579999999966276), 0.00258);
  assert.equal(roundFloat(-0.002579999999966276), -0.00258);
  assert.equal(roundFloat(1.7687170000000094), 1.768717);
  assert.equal(roundFloat(38.290913000000046), 38.290913);
  assert.equal(roundFloat(0.1 + 0.2), 0.3);
  // A difference of two readings three hours into a process (about 1e7 ms).
  const start = 10_800_000.123456;
  assert.equal(roundFloat(start + 0.002581 - start), 0.002581);
  // A 20-minute duration in milliseconds: its nanoseconds kept, the noise below dropped.
  const origin = 5_000_000.5;
  assert.equal(roundFloat(origin + 1_200_000.123456789 - origin), 1_200_000.123456789);
});

Deno.test("roundFloat() keeps every nanosecond of a value in seconds", () => {
  assert.equal(roundFloat(0.021654984000000013), 0.021654984);
  assert.equal(roundFloat(0.000000001), 1e-9);
  assert.equal(roundFloat(12.345678901), 12.345678901);
});

Deno.test("roundFloat() does not round a small value to a lie: 6 significant digits at least", () => {
  assert.equal(roundFloat(1e-7), 1e-7);
  assert.equal(roundFloat(1.23456789e-12), 1.23457e-12);
  assert.equal(roundFloat(0.000123456789), 0.000123457);
  assert.equal(roundFloat(5e-324), 5e-324);
  assert.notEqual(roundFloat(1e-10), 0);
});

Deno.test("roundFloat() leaves integers, large values, NaN and infinities as they are", () => {
  for (const value of [0, -0, 1, 612, 2 ** 53, 1e21, NaN, Infinity, -Infinity]) {
    assert.ok(Object.is(roundFloat(value), value), String(value));
  }
  // Seconds since 1970 with milliseconds: every digit is kept.
  assert.equal(roundFloat(1765112345.678), 1765112345.678);
  assert.equal(roundFloat(123456789.123456789), 123456789.123456789);
});

Deno.test("roundFloat() keeps order: a counter written rounded never goes down", () => {
  let previous = -Infinity;
  // Across the switch from 9 decimal places to 6 significant digits at 1e-3.
  for (let i = 0; i < 20_000; i++) {
    const value = 0.000999 + i * 1.37e-10 + (i % 7) * 1e-16;
    const rounded = roundFloat(value);
    assert.ok(rounded >= previous, `${value} -> ${rounded} after ${previous}`);
    assert.ok(Math.abs(rounded - value) <= 5e-10, `${value} -> ${rounded}`);
    previous = rounded;
  }
});

Deno.test("stringifyRounded() rounds every number at any depth and writes NaN as null", () => {
  assert.equal(
    stringifyRounded({
      a: 0.002579999999966276,
      b: [1e-7, NaN, { c: 2 }],
      d: "0.30000000000000004",
    }),
    '{"a":0.00258,"b":[1e-7,null,{"c":2}],"d":"0.30000000000000004"}',
  );
  assert.equal(stringifyRounded({ a: 1.5 }, 2), '{\n  "a": 1.5\n}');
});

Deno.test("judgedNumberText() adds the exact value only where the rounded one reads as the bound", () => {
  assert.equal(judgedNumberText(0.002579999999966276, "< 0.002"), "0.00258");
  assert.equal(judgedNumberText(0.5000000001, "<= 0.5"), "0.5 (exactly 0.5000000001)");
  assert.equal(judgedNumberText(0.5, "< 0.5"), "0.5");
  assert.equal(judgedNumberText(12, "== 0.5"), "12");
});

Deno.test("stringifyRounded() keeps an expectation's actual exact where it says the rounding misleads", () => {
  const expectations = [
    {
      key: "metrics.rtt_ms",
      pass: false,
      expected: "<= 1s",
      actual: 1000.0000000001,
      roundingMisleads: true,
    },
    { key: "metrics.p", pass: false, expected: "< 1", actual: 1.0000000001 },
  ];
  assert.deepEqual(
    JSON.parse(stringifyRounded({ expectations })).expectations.map((e: { actual: number }) =>
      e.actual
    ),
    [1000.0000000001, 1],
  );
});

Deno.test("stringifyRounded() keeps a list or object actual exact, all the way down, where it says the rounding misleads", () => {
  const actual = [0.1, { a: 0.20000000000000004 }];
  const event = {
    outcome: { facts: { x: actual, y: 0.20000000000000004 } },
    expectations: [{ expected: "contains 0.2", actual, roundingMisleads: true }],
  };
  const written = JSON.parse(stringifyRounded(event));
  assert.deepEqual(written.expectations[0].actual, [0.1, { a: 0.20000000000000004 }]);
  // Elsewhere numbers are rounded as ever.
  assert.equal(written.outcome.facts.y, 0.2);
});
