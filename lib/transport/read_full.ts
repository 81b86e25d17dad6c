/**
 * {@linkcode readFull}: fill a buffer from a connection.
 *
 * @module
 */
import type { Conn, IoOptions } from "./types.ts";

/**
 * Reads until `buffer` is full or the stream ends.
 *
 * @param conn The connection.
 * @param buffer Where to put the bytes; its whole length is read.
 * @param options Timeout, deadline or signal, applied to each read.
 * @returns How many bytes were read: `buffer.length`, or fewer when the peer
 * closed first (0 when it closed before sending anything).
 *
 * @example Reading an exact-size header
 * ```ts
 * import { connectTcp, listenTcp, readFull } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * using client = await connectTcp({ port: listener.addr.port });
 * using server = await listener.accept();
 * await client.write(new Uint8Array([1, 2]));
 * await client.write(new Uint8Array([3, 4]));
 * await client.closeWrite();
 * const header = new Uint8Array(3);
 * assert.equal(await readFull(server, header, { timeout: 1000 }), 3);
 * assert.equal(await readFull(server, header, { timeout: 1000 }), 1);
 * ```
 */
export async function readFull(
  conn: Conn,
  buffer: Uint8Array,
  options?: IoOptions,
): Promise<number> {
  let off = 0;
  while (off < buffer.length) {
    const n = await conn.read(buffer.subarray(off), options);
    if (n === null) break;
    off += n;
  }
  return off;
}
