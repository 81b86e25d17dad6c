import assert from "node:assert/strict";
import { goParseFloat } from "./go_parse_float.ts";

// Each as Go 1.19's strconv.ParseFloat(s, 64) answers (checked against
// Debian's blackbox_exporter in tests/exporter/blackbox_request_test.ts).
Deno.test("goParseFloat() reads what Go's ParseFloat reads: decimals, underscores, hex floats, inf, nan", () => {
  const cases: [string, number][] = [
    ["3", 3],
    ["+3", 3],
    ["-1", -1],
    ["-0", -0],
    [".5", 0.5],
    ["1.", 1],
    ["3e0", 3],
    ["00.5e1", 5],
    ["1e-400", 0],
    ["1_000", 1000],
    ["1_0.5", 10.5],
    ["0_1", 1],
    ["1e1_0", 1e10],
    ["0x1p2", 4],
    ["0X1P-1", 0.5],
    ["0x1.8p1", 3],
    ["0x_1p0", 1],
    ["0x.8p0", 0.5],
    ["-0x1p-1074", -5e-324],
    ["0x1p-1080", 0],
    [`0x${"f".repeat(400)}p-1600`, 1],
    [`0x${"0".repeat(500)}1p0`, 1],
    ["Inf", Infinity],
    ["+inf", Infinity],
    ["-Infinity", -Infinity],
    ["inF", Infinity],
  ];
  for (const [text, value] of cases) assert.equal(goParseFloat(text), value, text);
  assert.ok(Number.isNaN(goParseFloat("NaN")));
  assert.ok(Number.isNaN(goParseFloat("nan")));
});

Deno.test("goParseFloat() refuses what Go refuses, in its words", () => {
  for (
    const text of [
      "",
      "abc",
      "soon",
      "0x10",
      "0x1p",
      "0xp1",
      "1_.5",
      "1._5",
      "_1",
      "1_",
      "1__0",
      "1e",
      "1e+",
      "1e_1",
      "+nan",
      "-nan",
      "nana",
      "infi",
      "3,5",
      " 3",
      "1 0",
      "0b1",
      "0o7",
      ".",
      "+",
      "e5",
    ]
  ) {
    assert.throws(() => goParseFloat(text), {
      name: "SyntaxError",
      message: `strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`,
    }, text);
  }
  for (const text of ["1e400", "-1e400", "0x1p2000", "0x1p99999999"]) {
    assert.throws(() => goParseFloat(text), {
      name: "RangeError",
      message: `strconv.ParseFloat: parsing "${text}": value out of range`,
    }, text);
  }
  // Quoted as Go quotes: an escape is \x1b.
  assert.throws(() => goParseFloat("1\x1b"), {
    message: 'strconv.ParseFloat: parsing "1\\x1b": invalid syntax',
  });
});
