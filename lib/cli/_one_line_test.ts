import assert from "node:assert/strict";
import { oneLine, printable } from "./_one_line.ts";

Deno.test("oneLine() escapes line breaks and other control characters", () => {
  assert.equal(
    oneLine('Cannot run "a\nb\r\tc\u0007\u2028": x'),
    'Cannot run "a\\nb\\r\\tc\\u0007\\u2028": x',
  );
});

Deno.test("oneLine() leaves printable text, accents and emoji alone", () => {
  assert.equal(oneLine('café 🙂 "quoted" \\ back'), 'café 🙂 "quoted" \\ back');
});

Deno.test("printable() keeps line breaks and escapes every other control character", () => {
  assert.equal(
    printable("2 pings\nrtt \u001b[31mred\u001b[0m\r"),
    "2 pings\nrtt \\u001b[31mred\\u001b[0m\\r",
  );
});
