import assert from "node:assert/strict";
import { clipText } from "./clip_text.ts";

Deno.test("clipText() keeps short text and cuts long text to its start and an ellipsis", () => {
  assert.equal(clipText("short"), "short");
  assert.equal(clipText("x".repeat(80)), "x".repeat(80));
  assert.equal(clipText("x".repeat(65_535)), `${"x".repeat(80)}…`);
  assert.equal(clipText("abcdef", 3), "abc…");
});

Deno.test("clipText() never cuts a surrogate pair in half", () => {
  assert.equal(clipText(`${"x".repeat(79)}😀tail`), `${"x".repeat(79)}…`);
});
