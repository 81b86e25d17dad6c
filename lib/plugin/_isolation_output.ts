// A plugin's output as text that is safe to show: a plugin's stdout and
// stderr are its log, never a terminal's or a report's. Control characters
// (escape sequences that clear the screen or set a window's title, carriage
// returns that overwrite a line), C1 controls, line and paragraph separators
// and bidirectional overrides are shown as escapes, and a line is cut short.

/** Characters of one line kept. */
export const MAX_LINE_CHARS = 4096;

// C0 but tab, DEL, C1, U+2028/2029, bidi embeddings, overrides and isolates.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of a plugin's output, with every unsafe character escaped
 * (`\x1b`, `\u202e`) and at most {@linkcode MAX_LINE_CHARS} characters kept.
 */
export function escapeOutput(line: string): string {
  const cut = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
  return cut.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
