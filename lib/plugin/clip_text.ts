/**
 * {@linkcode clipText}: peer input cut short before a message quotes it.
 *
 * @module
 */

/**
 * `text` cut to its first `max` characters, with `…` when cut: a peer may
 * send 64 KiB where a message quotes a name or a line, and one log line per
 * connection should not carry all of it. The HTTP parser and the file
 * receiver quote peer input through it.
 *
 * @param text What the peer sent.
 * @param max Characters kept (default 80).
 * @returns The text, or its start and `…`.
 *
 * @example Quoting a peer's 64 KiB name in one short line
 * ```ts
 * import { clipText } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(clipText("hello.txt"), "hello.txt");
 * assert.equal(clipText("x".repeat(65_535)), `${"x".repeat(80)}…`);
 * assert.equal(clipText("abcdef", 3), "abc…");
 * ```
 */
export function clipText(text: string, max: number = 80): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: half of one is not text.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
