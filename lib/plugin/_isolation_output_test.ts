import assert from "node:assert/strict";
import { escapeOutput, MAX_LINE_CHARS } from "./_isolation_output.ts";

Deno.test("escapeOutput() shows control characters, C1 controls and bidi overrides as escapes", () => {
  assert.equal(
    escapeOutput("\x1b[2J\x1b]0;title\x07a\rb\x9b\u202etxt\u2028\tok"),
    "\\x1b[2J\\x1b]0;title\\x07a\\x0db\\x9b\\u202etxt\\u2028\tok",
  );
});

Deno.test("escapeOutput() cuts a line at MAX_LINE_CHARS characters", () => {
  const line = escapeOutput("y".repeat(MAX_LINE_CHARS + 10));
  assert.equal(line, `${"y".repeat(MAX_LINE_CHARS)}…`);
});
