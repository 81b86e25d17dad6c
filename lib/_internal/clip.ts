/**
 * Cutting peer input short before it is quoted in a message.
 *
 * Internal: shared by the HTTP parser and the file receiver; not part of the
 * public API.
 *
 * @module
 */

/** Characters of peer input quoted in a message. */
export const CLIP_CHARS = 80;

/**
 * `text` cut to its first `max` characters, with `…` when cut: a peer may
 * send 64 KiB where a message quotes a name or a line, and one log line per
 * connection should not carry all of it.
 *
 * @param text What the peer sent.
 * @param max Characters kept (default {@linkcode CLIP_CHARS}).
 * @returns The text, or its start and `…`.
 */
export function clip(text: string, max: number = CLIP_CHARS): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: half of one is not text.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
