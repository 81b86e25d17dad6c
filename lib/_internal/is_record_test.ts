import assert from "node:assert/strict";
import { isRecord } from "./is_record.ts";

Deno.test("isRecord() accepts objects whose fields can be read, nothing else", () => {
  assert.equal(isRecord({}), true);
  assert.equal(isRecord(Object.create(null)), true);
  assert.equal(isRecord({ a: 1 }), true);
  for (const value of [null, undefined, [], [1], "x", 1, true, () => {}]) {
    assert.equal(isRecord(value), false, String(value));
  }
});
