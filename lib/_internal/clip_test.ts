import assert from "node:assert/strict";
import { clip, CLIP_CHARS } from "./clip.ts";

Deno.test("clip() keeps short text and cuts long text to its start and an ellipsis", () => {
  assert.equal(clip("short"), "short");
  assert.equal(clip("x".repeat(CLIP_CHARS)), "x".repeat(CLIP_CHARS));
  assert.equal(clip("x".repeat(65_535)), `${"x".repeat(CLIP_CHARS)}…`);
  assert.equal(clip("abcdef", 3), "abc…");
});

Deno.test("clip() never cuts a surrogate pair in half", () => {
  const text = `${"x".repeat(CLIP_CHARS - 1)}😀tail`;
  assert.equal(clip(text), `${"x".repeat(CLIP_CHARS - 1)}…`);
});
