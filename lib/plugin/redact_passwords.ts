// A URL may carry a password (`http://alice:pw@host/`); wherever such a URL
// is shown (summaries, facts, errors, reports, logs) the password is not.

/** What a URL's password is replaced by. */
export const PASSWORD_MASK = "***";

// scheme://user:password@ — the password runs to the last "@" before the
// path, as the URL parser reads it (a raw "@" in a password is allowed there).
// The parser also reads user info after any run of slashes and backslashes
// ("http:\\u:p@h", "http:///u:p@h") and in a scheme-relative "//u:p@h" (a
// Location may be one), so those are URLs here too.
const USERINFO =
  /((?:\b[a-z][a-z0-9+.-]*:[/\\]+|(?<![\w:/\\])[/\\]{2})[^/\\?#@:\s]*):[^/\\?#\s]*@/gi;

/**
 * Replaces the password of every URL in `text` with `***`, keeping the user
 * name: `http://alice:pw@host/` becomes `http://alice:***@host/`.
 *
 * @param text Any text: a URL, an error message, a log line.
 * @returns The text without URL passwords.
 *
 * @example Redacting a URL inside a message
 * ```ts
 * import { redactPasswords } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   redactPasswords('Cannot GET "http://alice:s3cret@127.0.0.1:8080/x": refused'),
 *   'Cannot GET "http://alice:***@127.0.0.1:8080/x": refused',
 * );
 * assert.equal(redactPasswords("http://127.0.0.1/"), "http://127.0.0.1/");
 * ```
 */
export function redactPasswords(text: string): string {
  // Every match ends in "@": most texts (a probe's facts, each scrape) have none.
  if (!text.includes("@")) return text;
  return text.replace(USERINFO, `$1:${PASSWORD_MASK}@`);
}
