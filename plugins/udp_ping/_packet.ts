// The wire format of a ping and the check of its echo. Big-endian (network order):
//    0  u32  magic 0x57545550 ("WTUP"), or 0x57545557 ("WTUW") on a warm-up ping
//    4  u32  run identifier, random per run: tells our echoes from another run's
//    8  u32  sequence number, from 0 (warm-up pings have their own, also from 0)
//   12  f64  send time, the sender's performance.now() in milliseconds
//   20  ...  padding up to the ping size: random bytes fixed for the run, so a garbled
//            or shifted echo is caught, not just a truncated one
import { Buffer } from "node:buffer";

/** "WTUP": marks a datagram as a wiretest UDP ping. */
export const MAGIC = 0x57545550;
/**
 * "WTUW": marks a warm-up ping, sent untimed before a run's timed pings. Its
 * own magic keeps its echo, however late, from ever passing for a timed
 * ping's, and lets the udp-ping server count it apart.
 */
export const WARM_UP_MAGIC = 0x57545557;
/** Bytes before the padding. */
export const HEADER_SIZE = 20;
/** {@linkcode PingPacket.check}: not ours (no magic, another run's identifier, too short to tell). */
export const FOREIGN = -1;
/** {@linkcode PingPacket.check}: ours, but cut, lengthened or garbled on the way. */
export const MALFORMED = -2;
/** {@linkcode PingPacket.check}: the echo of one of this run's warm-up pings. */
export const WARM_UP = -3;

// Up to this many padding bytes are compared in a loop, which allocates
// nothing; longer ones natively (two views per echo, small beside the copy).
const LOOP_COMPARE_MAX = 512;

/**
 * One reusable ping buffer for a run: the header is rewritten for each send
 * (the caller awaits each send before the next, so no copy is needed).
 * Checking an echo allocates nothing for pings up to 532 bytes: a measuring
 * loop that makes garbage per ping pauses for the collector inside the timed
 * set.
 */
export class PingPacket {
  /** The run identifier. */
  readonly id: number;
  /** The bytes to send, `size` long. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The sequence number of the last {@linkcode PingPacket.check} that returned {@linkcode WARM_UP}. */
  warmUpSeq = -1;
  #view: DataView<ArrayBuffer>;
  #padding: Uint8Array<ArrayBuffer>;
  // An expected send time, big-endian, to compare with an echo's bytes.
  #time = new Uint8Array(8);
  #timeView = new DataView(this.#time.buffer);

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

  /** Writes sequence number and send time of a timed ping; returns the bytes to send. */
  stamp(seq: number, sentAt: number): Uint8Array<ArrayBuffer> {
    return this.#stamp(MAGIC, seq, sentAt);
  }

  /** Writes sequence number and send time of a warm-up ping; returns the bytes to send. */
  stampWarmUp(seq: number, sentAt: number): Uint8Array<ArrayBuffer> {
    return this.#stamp(WARM_UP_MAGIC, seq, sentAt);
  }

  #stamp(magic: number, seq: number, sentAt: number): Uint8Array<ArrayBuffer> {
    this.#view.setUint32(0, magic);
    this.#view.setUint32(8, seq);
    this.#view.setFloat64(12, sentAt);
    return this.bytes;
  }

  /**
   * Checks the datagram in `data`'s first `length` bytes against what this
   * run sent: `sentAt[seq]` must equal the echoed send time for every `seq`
   * below `issued`. An echo of a warm-up ping of this run is
   * {@linkcode WARM_UP} whatever else it carries (its number in
   * {@linkcode PingPacket.warmUpSeq}).
   *
   * @returns The sequence number, {@linkcode FOREIGN}, {@linkcode MALFORMED} or {@linkcode WARM_UP}.
   */
  check(data: Uint8Array, length: number, sentAt: Float64Array, issued: number): number {
    if (length < 8) return FOREIGN;
    const magic = u32(data, 0);
    if ((magic !== MAGIC && magic !== WARM_UP_MAGIC) || u32(data, 4) !== this.id) return FOREIGN;
    if (magic === WARM_UP_MAGIC) {
      this.warmUpSeq = length < 12 ? -1 : u32(data, 8);
      return WARM_UP;
    }
    if (length !== this.bytes.length) return MALFORMED;
    const seq = u32(data, 8);
    if (seq >= issued) return MALFORMED;
    const time = this.#time;
    this.#timeView.setFloat64(0, sentAt[seq]);
    for (let i = 0; i < 8; i++) if (data[12 + i] !== time[i]) return MALFORMED;
    const padding = this.#padding;
    if (padding.length <= LOOP_COMPARE_MAX) {
      for (let i = 0; i < padding.length; i++) {
        if (data[HEADER_SIZE + i] !== padding[i]) return MALFORMED;
      }
    } else if (Buffer.compare(data.subarray(HEADER_SIZE, length), padding) !== 0) {
      return MALFORMED;
    }
    return seq;
  }
}

function u32(data: Uint8Array, at: number): number {
  return (data[at] * 0x1000000) + (data[at + 1] << 16 | data[at + 2] << 8 | data[at + 3]);
}
