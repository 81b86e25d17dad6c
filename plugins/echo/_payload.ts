// The bytes an echo client sends each round trip, without holding them all:
// a payload of `payloadSize` random bytes beyond one period repeats a random
// block, so a 1 GiB or 100 GiB echo runs in the same few MiB.
import { type EchoClientOptions, payloadBytes } from "./params.ts";

/** The payload of every round trip, read in views. */
export interface Payload {
  /** Bytes per round trip. */
  readonly length: number;
  /** The longest view `view()` returns. */
  readonly maxView: number;
  /** Bytes `[offset, offset + length)` of the payload; `length <= maxView`. Do not write to it. */
  view(offset: number, length: number): Uint8Array;
}

// The period of a generated payload: a prime, so it lines up with no chunk
// or read size (a power of two), and an echo that drops or repeats a
// power-of-two block still shows as mismatches.
export const PERIOD = 1_048_573;

/**
 * The payload the params describe: text and hex as given; `payloadSize`
 * random bytes up to one period, beyond it a random period repeated.
 */
export function payloadFor(
  params: Pick<EchoClientOptions, "payload" | "payloadHex" | "payloadSize">,
): Payload {
  if (params.payloadSize === undefined || params.payloadSize <= PERIOD) {
    return wholePayload(payloadBytes(params));
  }
  return periodicPayload(params.payloadSize, payloadBytes({ payloadSize: PERIOD }));
}

function wholePayload(bytes: Uint8Array): Payload {
  return {
    length: bytes.length,
    maxView: bytes.length,
    view: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** `length` bytes of `block` repeated; a view of up to `block.length` bytes is one subarray. */
export function periodicPayload(length: number, block: Uint8Array): Payload {
  const period = block.length;
  // Two periods back to back: any span of at most one period starting inside
  // the first is contiguous, so no view copies.
  const ring = new Uint8Array(2 * period);
  ring.set(block);
  ring.set(block, period);
  return {
    length,
    maxView: period,
    view: (offset, n) => {
      const start = offset % period;
      return ring.subarray(start, start + n);
    },
  };
}
