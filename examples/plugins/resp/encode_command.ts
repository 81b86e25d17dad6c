/**
 * {@linkcode encodeCommand}: a Redis command as RESP, an array of bulk
 * strings (`*3\r\n$3\r\nSET\r\n…`), which is binary safe.
 *
 * @module
 */
import { ByteWriter } from "@wiretest/wiretest/codec";

const encoder = new TextEncoder();

/**
 * Encodes a command and its arguments as a RESP array of bulk strings.
 *
 * @param args The command name then its arguments; strings are sent as UTF-8.
 * @returns The bytes to write.
 * @throws {TypeError} When there is no command name.
 *
 * @example SET with a binary value
 * ```ts
 * import { encodeCommand } from "./encode_command.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeCommand(["SET", "k", new Uint8Array([0x0d, 0x0a])]);
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\r\n\r\n",
 * );
 * ```
 */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  if (args.length === 0) throw new TypeError("Cannot encode command: it has no name");
  const parts = args.map((arg) => typeof arg === "string" ? encoder.encode(arg) : arg);
  // Room for the parts and their headers up front, so the buffer seldom grows.
  const size = parts.reduce((sum, part) => sum + part.length + 16, 16);
  const writer = new ByteWriter({ capacity: size }).string(`*${parts.length}\r\n`);
  for (const part of parts) writer.string(`$${part.length}\r\n`).bytes(part).string("\r\n");
  return writer.toBytes();
}
