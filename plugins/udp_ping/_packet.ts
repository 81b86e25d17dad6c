// The wire format of a ping and the check of its echo. Big-endian (network order):
//    0  u32  magic 0x57545550 ("WTUP")
//    4  u32  run identifier, random per run: tells our echoes from another run's
//    8  u32  sequence number, from 0
//   12  f64  send time, the sender's performance.now() in milliseconds
//   20  ...  padding up to the ping size: random bytes fixed for the run, so a garbled
//            or shifted echo is caught, not just a truncated one
import { Buffer } from "node:buffer";

/** "WTUP": marks a datagram as a wiretest UDP ping. */
export const MAGIC = 0x57545550;
/** Bytes before the padding. */
export const HEADER_SIZE = 20;
/** {@linkcode PingPacket.check}: not ours (no magic, another run's identifier, too short to tell). */
export const FOREIGN = -1;
/** {@linkcode PingPacket.check}: ours, but cut, lengthened or garbled on the way. */
export const MALFORMED = -2;

/**
 * One reusable ping buffer for a run: the header is rewritten for each send
 * (the caller awaits each send before the next, so no copy is needed).
 */
export class PingPacket {
  /** The run identifier. */
  readonly id: number;
  /** The bytes to send, `size` long. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  #view: DataView<ArrayBuffer>;
  #padding: Uint8Array<ArrayBuffer>;

  constructor(size: number, id: number = crypto.getRandomValues(new Uint32Array(1))[0]) {
    this.id = id;
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
    this.#padding = this.bytes.subarray(HEADER_SIZE);
    // getRandomValues fills at most 65,536 bytes per call; the padding is smaller.
    crypto.getRandomValues(this.#padding);
    this.#view.setUint32(0, MAGIC);
    this.#view.setUint32(4, id);
  }

  /** Writes sequence number and send time; returns the bytes to send. */
  stamp(seq: number, sentAt: number): Uint8Array<ArrayBuffer> {
    this.#view.setUint32(8, seq);
    this.#view.setFloat64(12, sentAt);
    return this.bytes;
  }

  /**
   * Checks a datagram against what this run sent: `sentAt[seq]` must equal
   * the echoed send time for every `seq` below `issued`.
   *
   * @returns The sequence number, {@linkcode FOREIGN} or {@linkcode MALFORMED}.
   */
  check(data: Uint8Array, sentAt: Float64Array, issued: number): number {
    if (data.length < 8) return FOREIGN;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (view.getUint32(0) !== MAGIC || view.getUint32(4) !== this.id) return FOREIGN;
    if (data.length !== this.bytes.length) return MALFORMED;
    const seq = view.getUint32(8);
    if (seq >= issued || view.getFloat64(12) !== sentAt[seq]) return MALFORMED;
    // A native compare: no per-byte loop even for 64 KiB pings.
    if (Buffer.compare(data.subarray(HEADER_SIZE), this.#padding) !== 0) return MALFORMED;
    return seq;
  }
}
