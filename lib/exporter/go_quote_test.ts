import assert from "node:assert/strict";
import { goQuote } from "./go_quote.ts";

Deno.test("goQuote() escapes as Go's strconv.Quote: controls, quotes, bidi overrides, odd spaces", () => {
  // What blackbox_exporter answered for this module name (Debian 0.23.0).
  assert.equal(goQuote('\x1b[31m\u202eab\u00a0c"\\\n'), '"\\x1b[31m\\u202eab\\u00a0c\\"\\\\\\n"');
  assert.equal(goQuote("https://[a-z]+\\.internal/.*"), '"https://[a-z]+\\\\.internal/.*"');
  assert.equal(
    goQuote("\x07\b\f\r\t\v\x7f\u0085\u2028\u2029"),
    '"\\a\\b\\f\\r\\t\\v\\x7f\\u0085\\u2028\\u2029"',
  );
  // Printable text outside ASCII stays as is; a private-use one does not.
  assert.equal(goQuote("héllo 漢字 🙂"), '"héllo 漢字 🙂"');
  assert.equal(goQuote("\u{f0000}\udc00"), '"\\U000f0000\\udc00"');
});

Deno.test("goQuote() cuts long text by characters and says how long it was", () => {
  assert.equal(goQuote("a".repeat(300), 5), '"aaaaa…" (300 characters)');
  assert.equal(goQuote("🙂".repeat(6), 5), '"🙂🙂🙂🙂🙂…" (6 characters)');
  assert.equal(goQuote("abcde", 5), '"abcde"');
});
