/**
 * Byte packing and stream framing for plugins that speak binary or line
 * protocols.
 *
 * - Packing, big-endian (network order) unless told otherwise:
 *   {@linkcode ByteWriter} and {@linkcode ByteReader} field by field, and
 *   {@linkcode pack} / {@linkcode unpack} / {@linkcode calcSize} with Python
 *   `struct` format strings (`pack(">I", 1024)` is Python's
 *   `struct.pack(">I", 1024)`, and covers C's `htons`/`htonl`).
 * - Framing, each with a size limit enforced before buffering: length
 *   prefixes ({@linkcode LengthPrefixedDecoder},
 *   {@linkcode encodeLengthPrefixed}), lines ({@linkcode LineDecoder},
 *   {@linkcode encodeLine}) and delimiters ({@linkcode DelimiterDecoder},
 *   {@linkcode encodeDelimited}). Decoders are push-style
 *   ({@linkcode FrameDecoder}); {@linkcode FrameDecoderStream} and its
 *   subclasses wrap them for Web Streams, and {@linkcode readFrames} reads
 *   them off a wiretest connection.
 *
 * @example A request/response round trip with a binary header
 * ```ts
 * import { encodeLengthPrefixed, LengthPrefixedDecoder, pack, unpack } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const message = pack(">BHI", 1, 8080, 1024);
 * const wire = encodeLengthPrefixed(message, { prefixSize: 2 });
 * const decoder = new LengthPrefixedDecoder({ prefixSize: 2, maxFrameSize: 512 });
 * const frames = [...decoder.push(wire.subarray(0, 3)), ...decoder.push(wire.subarray(3))];
 * assert.equal(frames.length, 1);
 * assert.deepEqual(unpack(">BHI", frames[0]), [1, 8080, 1024]);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./byte_writer.ts";
export * from "./byte_reader.ts";
export * from "./struct.ts";
export * from "./length_prefixed.ts";
export * from "./line.ts";
export * from "./delimiter.ts";
export * from "./decoder_streams.ts";
export * from "./read_frames.ts";
