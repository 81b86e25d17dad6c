// The framed file-send wire format, in network byte order:
//
//   header   "WTFS" u8 version=1  u16 nameLength  u64 size  name (UTF-8)
//   body     exactly `size` bytes
//   trailer  "WTFE" sha256 (32 bytes)
//   ack      "WTFA" u8 status (0 ok, 1 rejected)  u16 length  JSON {code, message, bytes, sha256}
//
// The sha256 travels in a trailer rather than in the header so the sender
// reads its file once, streaming, and can send from sources it cannot rewind.
import { clipText } from "../../lib/plugin/mod.ts";

/** Why a transfer was refused or failed. */
export type FileSendErrorCode =
  | "bad-name"
  | "too-large"
  | "exists"
  | "truncated"
  | "oversize"
  | "sha256-mismatch"
  | "stalled"
  | "too-slow"
  | "protocol"
  | "io"
  | "rejected"
  | "no-ack"
  | "ack-mismatch";

/** Every {@linkcode FileSendErrorCode}: a receiver's refusal naming another is `rejected`. */
export const ERROR_CODES: ReadonlySet<string> = new Set<FileSendErrorCode>([
  "bad-name",
  "too-large",
  "exists",
  "truncated",
  "oversize",
  "sha256-mismatch",
  "stalled",
  "too-slow",
  "protocol",
  "io",
  "rejected",
  "no-ack",
  "ack-mismatch",
]);

/**
 * A file transfer failed; `side` says who saw it, `code` why.
 *
 * @example Branching on the code
 * ```ts
 * import { FileSendError } from "@wiretest/wiretest/plugins/file-send";
 * import assert from "node:assert/strict";
 *
 * const err = new FileSendError("exists", "Cannot store \"a.txt\": it exists", "receiver");
 * assert.equal(err.code, "exists");
 * ```
 */
export class FileSendError extends Error {
  /** Why it failed. */
  readonly code: FileSendErrorCode;
  /** `"sender"` or `"receiver"`: whose check failed. */
  readonly side: "sender" | "receiver";

  /**
   * Creates a transfer error.
   *
   * @param code Why it failed.
   * @param message The full message ("Cannot …: …").
   * @param side Whose check failed.
   * @param options The cause.
   */
  constructor(
    code: FileSendErrorCode,
    message: string,
    side: "sender" | "receiver",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "FileSendError";
    this.code = code;
    this.side = side;
  }
}

export const HEADER_MAGIC = new Uint8Array([0x57, 0x54, 0x46, 0x53]); // WTFS
export const TRAILER_MAGIC = new Uint8Array([0x57, 0x54, 0x46, 0x45]); // WTFE
export const ACK_MAGIC = new Uint8Array([0x57, 0x54, 0x46, 0x41]); // WTFA
export const VERSION = 1;
export const HEADER_FIXED = 15;
export const TRAILER_SIZE = 36;
export const ACK_FIXED = 7;
export const MAX_NAME_BYTES = 255;
export const MAX_ACK_BYTES = 4096;

/** What the receiver answers. */
export interface Ack {
  ok: boolean;
  code?: FileSendErrorCode;
  message: string;
  bytes?: number;
  sha256?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// Names keep a leading BOM, so it is refused rather than silently dropped
// (the stored name would differ from the announced one).
const nameDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The receiver's temporary files: `.wiretest-<uuid>.part`, never a name a sender may use. */
export const TEMP_FILE: RegExp =
  /^\.wiretest-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.part$/;

// C0 and C1 controls and DEL, and the Unicode line and paragraph
// separators: a name with a line break would forge log lines.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;
const LINE_SEPARATOR = /[\u2028\u2029]/;

// Characters that change how a name reads without being seen: Unicode's
// default-ignorable code points (bidi marks, embeddings, overrides and
// isolates — `evil\u202etxt.exe` shows as `evilexe.txt` —, zero-width space
// and joiners, BOM, soft hyphen, Hangul fillers, tag characters that hide
// ASCII…), except the variation selectors an emoji carries.
const INVISIBLE = /(?![\ufe00-\ufe0f\u{e0100}-\u{e01ef}])\p{Default_Ignorable_Code_Point}/u;
// What a quoted name shows as an escape: what JSON.stringify leaves raw of
// the controls, the line separators, and the invisible characters.
const ESCAPED =
  /[\u007f-\u009f\u2028\u2029]|(?![\ufe00-\ufe0f\u{e0100}-\u{e01ef}])\p{Default_Ignorable_Code_Point}/gu;

/**
 * Checks a file name a peer announced: one plain path component, no
 * separators, no NUL or other control character, not `.`/`..`, not a
 * receiver's temporary file name, at most 255 bytes of UTF-8.
 *
 * @returns the reason it is refused, or `undefined` when it is fine.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (encoder.encode(name).length > MAX_NAME_BYTES) {
    return `it is longer than ${MAX_NAME_BYTES} bytes`;
  }
  if (name.includes("\0")) return "it contains a NUL byte";
  if (CONTROL.test(name)) return "it contains a control character";
  const separator = LINE_SEPARATOR.exec(name);
  if (separator) return `it contains the line or paragraph separator ${codePoint(separator[0])}`;
  const invisible = INVISIBLE.exec(name);
  if (invisible) {
    return `it contains the invisible or text-direction character ${codePoint(invisible[0])}`;
  }
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (name === "." || name === "..") return "it is a relative path";
  if (/^[a-zA-Z]:/.test(name)) return "it is an absolute path";
  if (TEMP_FILE.test(name)) return "it is reserved for the receiver's temporary files";
  return undefined;
}

/**
 * Quotes peer-given text (a name, a message) for a log line or an error:
 * cut to its first 80 characters, control characters and the invisible or
 * text-direction ones escaped, so a hostile name can neither break a log
 * line in two, nor read as another name, nor fill the log.
 */
export function quoteName(name: string): string {
  return JSON.stringify(clipText(name)).replace(
    ESCAPED,
    escape,
  );
}

/**
 * Peer-given text shown unquoted (the receiver's message in a sender's
 * error): at most `max` characters, every control, line separator and
 * invisible or text-direction character escaped.
 */
export function showPeerText(text: string, max: number): string {
  return clipText(text, max).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  ).replace(ESCAPED, escape);
}

// `\u2028`, or `\u{e0041}` beyond the first plane.
function escape(c: string): string {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

export function encodeHeader(name: string, size: number): Uint8Array {
  const nameBytes = encoder.encode(name);
  const out = new Uint8Array(HEADER_FIXED + nameBytes.length);
  out.set(HEADER_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint8(4, VERSION);
  view.setUint16(5, nameBytes.length);
  view.setBigUint64(7, BigInt(size));
  out.set(nameBytes, HEADER_FIXED);
  return out;
}

/** Parses the fixed part of a header; returns name length and size. */
export function decodeHeaderFixed(bytes: Uint8Array): { nameLength: number; size: number } {
  if (!startsWith(bytes, HEADER_MAGIC)) {
    throw new FileSendError(
      "protocol",
      "Cannot receive file: the peer did not send a wiretest file-send header (raw sender? use mode raw)",
      "receiver",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== VERSION) {
    throw new FileSendError(
      "protocol",
      `Cannot receive file: protocol version ${version} is not supported (this receiver speaks ${VERSION})`,
      "receiver",
    );
  }
  const size = view.getBigUint64(7);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FileSendError("too-large", `Cannot receive file: size ${size} is absurd`, "receiver");
  }
  return { nameLength: view.getUint16(5), size: Number(size) };
}

export function decodeName(bytes: Uint8Array): string {
  try {
    return nameDecoder.decode(bytes);
  } catch (error) {
    throw new FileSendError(
      "bad-name",
      "Cannot receive file: the name is not valid UTF-8",
      "receiver",
      { cause: error },
    );
  }
}

export function encodeTrailer(sha256: Uint8Array): Uint8Array {
  const out = new Uint8Array(TRAILER_SIZE);
  out.set(TRAILER_MAGIC, 0);
  out.set(sha256, 4);
  return out;
}

export function encodeAck(ack: Ack): Uint8Array {
  const body = encoder.encode(JSON.stringify(ack)).subarray(0, MAX_ACK_BYTES);
  const out = new Uint8Array(ACK_FIXED + body.length);
  out.set(ACK_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint8(4, ack.ok ? 0 : 1);
  view.setUint16(5, body.length);
  out.set(body, ACK_FIXED);
  return out;
}

export function decodeAckFixed(bytes: Uint8Array): { ok: boolean; length: number } {
  if (!startsWith(bytes, ACK_MAGIC)) {
    throw new FileSendError(
      "protocol",
      "Cannot send file: the receiver did not answer with a file-send acknowledgement",
      "sender",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint16(5);
  if (length > MAX_ACK_BYTES) {
    throw new FileSendError("protocol", `Cannot send file: acknowledgement too long`, "sender");
  }
  return { ok: view.getUint8(4) === 0, length };
}

export function decodeAckBody(ok: boolean, bytes: Uint8Array): Ack {
  try {
    const parsed = JSON.parse(decoder.decode(bytes));
    return { ...parsed, ok };
  } catch (error) {
    throw new FileSendError("protocol", "Cannot send file: acknowledgement is not JSON", "sender", {
      cause: error,
    });
  }
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
