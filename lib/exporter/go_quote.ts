/**
 * Text from a scrape or a config quoted for an answer's message the way
 * blackbox_exporter's Go quotes it (`%q`): `"`, `\` and every character that
 * is not printable escaped (`\x1b`, `\n`, `\u202e`), so a scraper's or a
 * config's text cannot move a terminal's cursor, recolour it or reverse the
 * line it is read in; and cut to a length, so an answer stays short.
 *
 * @module
 */

/** Go's escapes of its own for ASCII controls. */
const NAMED: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

// Go's unicode.IsPrint is false for controls, formats (bidi overrides,
// zero-width joiners), private use, unassigned code points, lone
// surrogates, line and paragraph separators and every space but " ".
const UNPRINTABLE = /["\\\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

function escape(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0)!;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

/**
 * `text` in double quotes with Go's `strconv.Quote` escapes; longer than
 * `maxChars` characters, its first `maxChars` are quoted and the cut is said
 * after the closing quote (`"aaa…" (300 characters)`).
 *
 * @param text The text.
 * @param maxChars Characters quoted at most.
 * @returns The quoted text.
 */
export function goQuote(text: string, maxChars: number = Infinity): string {
  const chars = [...text];
  const cut = chars.length > maxChars;
  const shown = cut ? chars.slice(0, maxChars).join("") : text;
  const quoted = shown.replace(UNPRINTABLE, escape);
  return cut ? `"${quoted}…" (${chars.length} characters)` : `"${quoted}"`;
}

// The same characters but `"` and `\`: text that is already a sentence.
const UNPRINTABLE_IN_TEXT = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/**
 * `text` with every character Go would not print escaped as
 * {@linkcode goQuote} escapes it, unquoted, `"` and `\` left as they are: for
 * a message whose parts are quoted already but may quote more (a plugin's).
 *
 * @param text The text.
 * @returns The text, printable.
 */
export function printableText(text: string): string {
  return text.replace(UNPRINTABLE_IN_TEXT, escape);
}
