// Counting bytes that differ, fast for the common case (all equal): a native
// comparison first, a JS loop only over a chunk known to differ.
import { Buffer } from "node:buffer";

// Below this many bytes, a JS loop is cheaper than two views and a native call.
const NATIVE_MIN = 64;

/** Counts the positions where `actual[i] !== expected[offset + i]`, for i < length. */
export function countMismatches(
  actual: Uint8Array,
  expected: Uint8Array,
  offset: number,
  length: number,
): number {
  if (
    length >= NATIVE_MIN &&
    Buffer.compare(actual.subarray(0, length), expected.subarray(offset, offset + length)) === 0
  ) {
    return 0;
  }
  let diff = 0;
  for (let i = 0; i < length; i++) if (actual[i] !== expected[offset + i]) diff++;
  return diff;
}
