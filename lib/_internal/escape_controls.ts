/**
 * Control characters escaped, for text quoted from users and peers in
 * messages: printed raw, a line break in one would split an error over two
 * lines or forge a log line, an escape sequence would recolour the terminal.
 *
 * @module
 */

// C0 and C1 controls, DEL and the Unicode line and paragraph separators.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character escaped (`\n`, `\u0007`, `\u009b`…). */
export function escapeControls(text: string): string {
  return text.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
