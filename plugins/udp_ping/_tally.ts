// How a run counts each datagram, shared by the two I/O paths: the
// event-loop run (_ping_run.ts) and the blocking libc run in its Worker
// (_native_ping_worker.ts). See pingUdp's documentation for what each
// counter means.
import { FOREIGN, type PingPacket, WARM_UP } from "./_packet.ts";

/** Points of the `rtt_by_seq` fact: enough for a chart, bounded whatever the count. */
export const RTT_SERIES_POINTS = 500;

/** {@linkcode PingTally.count}: the echo of the warm-up ping being waited for. */
export const WARM_UP_ANSWERED = -2;

const PENDING = 0;
const RECEIVED = 1;
const LATE = 2;

export class PingTally {
  sent = 0;
  received = 0;
  duplicates = 0;
  reordered = 0;
  late = 0;
  foreign = 0;
  malformed = 0;
  /** RFC 3550 interarrival jitter over the round-trip times of received pings. */
  jitter = 0;
  /** Pings stamped so far (sent or being sent). */
  issued = 0;
  /** Warm-up pings sent (untimed, before the first timed one; in no other counter). */
  warmUpSent = 0;
  /** Warm-up pings whose echo came while it was waited for. */
  warmUpAnswered = 0;
  readonly sentAt: Float64Array;
  #state: Uint8Array;
  // Each received ping's round trip, for rttSeries().
  #rttOf: Float32Array;
  #highest = -1;
  #previousRtt = NaN;
  // The warm-up ping being waited for, or -1.
  #warmUpWaiting = -1;
  // From the first warm-up stamp to endWarmUp(): nothing is counted.
  #warmingUp = false;
  #packet: PingPacket;
  #peer: { hostname: string; port: number };
  #timeoutMs: number;
  #record: (rtt: number) => void;
  #log: (message: string) => void;

  constructor(options: {
    count: number;
    packet: PingPacket;
    peer: { hostname: string; port: number };
    timeoutMs: number;
    record: (rtt: number) => void;
    log: (message: string) => void;
  }) {
    this.sentAt = new Float64Array(options.count);
    this.#state = new Uint8Array(options.count);
    this.#rttOf = new Float32Array(options.count);
    this.#packet = options.packet;
    this.#peer = options.peer;
    this.#timeoutMs = options.timeoutMs;
    this.#record = options.record;
    this.#log = options.log;
  }

  /** Stamps ping `seq` as leaving at `at`; returns the bytes to send. */
  stamp(seq: number, at: number): Uint8Array<ArrayBuffer> {
    this.sentAt[seq] = at;
    this.issued = seq + 1;
    return this.#packet.stamp(seq, at);
  }

  /** Stamps warm-up ping `seq` (waited for until the next one or {@linkcode PingTally.endWarmUp}). */
  stampWarmUp(seq: number, at: number): Uint8Array<ArrayBuffer> {
    this.#warmUpWaiting = seq;
    this.#warmingUp = true;
    return this.#packet.stampWarmUp(seq, at);
  }

  /** `true` while the warm-up ping last stamped has had no echo. */
  warmUpPending(): boolean {
    return this.#warmUpWaiting >= 0;
  }

  /** Ends the warm-up: any warm-up echo that still comes is ignored, the rest counted. */
  endWarmUp(): void {
    this.#warmUpWaiting = -1;
    this.#warmingUp = false;
  }

  #countWarmUp(data: Uint8Array, length: number, fromHostname: string, fromPort: number): number {
    const peer = this.#peer;
    if (fromPort !== peer.port || fromHostname !== peer.hostname) return -1;
    if (this.#packet.check(data, length, this.sentAt, this.issued) !== WARM_UP) return -1;
    if (this.#warmUpWaiting < 0 || this.#packet.warmUpSeq !== this.#warmUpWaiting) return -1;
    this.#warmUpWaiting = -1;
    this.warmUpAnswered++;
    return WARM_UP_ANSWERED;
  }

  /**
   * Round-trip time by sequence number in at most `maxPoints` points
   * `[first seq, largest rtt ms or null when none came back, pings lost]`,
   * each over the same number of consecutive pings (one each up to `maxPoints`).
   */
  rttSeries(maxPoints: number): [number, number | null, number][] {
    const sent = this.issued;
    const per = Math.max(1, Math.ceil(sent / maxPoints));
    const points: [number, number | null, number][] = [];
    for (let start = 0; start < sent; start += per) {
      let largest = -1;
      let lost = 0;
      for (let seq = start; seq < Math.min(sent, start + per); seq++) {
        if (this.#state[seq] === RECEIVED) largest = Math.max(largest, this.#rttOf[seq]);
        else lost++;
      }
      // Microseconds are plenty for a chart, and keep the report small.
      points.push([start, largest < 0 ? null : Math.round(largest * 1000) / 1000, lost]);
    }
    return points;
  }

  /** `true` while ping `seq` is neither received nor late. */
  pending(seq: number): boolean {
    return this.#state[seq] === PENDING;
  }

  /**
   * Counts the datagram in `data`'s first `length` bytes; returns the ping
   * it answers, {@linkcode WARM_UP_ANSWERED}, or -1. An echo of a warm-up
   * ping counts nowhere, whenever it comes, except in `warmUpAnswered` when
   * it is the one being waited for; during the warm-up nothing else counts
   * either (the metrics describe the timed pings).
   */
  count(
    data: Uint8Array,
    length: number,
    fromHostname: string,
    fromPort: number,
    receivedAt: number,
  ): number {
    const peer = this.#peer;
    if (this.#warmingUp) return this.#countWarmUp(data, length, fromHostname, fromPort);
    if (fromPort !== peer.port || fromHostname !== peer.hostname) {
      if (this.foreign++ === 0) {
        this.#log(`udp-ping: foreign datagram from ${fromHostname}:${fromPort}`);
      }
      return -1;
    }
    const seq = this.#packet.check(data, length, this.sentAt, this.issued);
    if (seq === WARM_UP) return -1;
    if (seq < 0) {
      if (seq === FOREIGN) {
        if (this.foreign++ === 0) this.#log("udp-ping: datagram without our identifier");
      } else if (this.malformed++ === 0) {
        this.#log(`udp-ping: malformed echo (${length} bytes)`);
      }
      return -1;
    }
    if (this.#state[seq] !== PENDING) {
      this.duplicates++;
      return seq;
    }
    const rtt = receivedAt - this.sentAt[seq];
    if (rtt > this.#timeoutMs) {
      this.#state[seq] = LATE;
      this.late++;
      return seq;
    }
    this.#state[seq] = RECEIVED;
    this.received++;
    this.#rttOf[seq] = rtt;
    this.#record(rtt);
    if (seq < this.#highest) this.reordered++;
    else this.#highest = seq;
    // RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time
    // between consecutive arrivals; here the transit is the round trip.
    if (!Number.isNaN(this.#previousRtt)) {
      this.jitter += (Math.abs(rtt - this.#previousRtt) - this.jitter) / 16;
    }
    this.#previousRtt = rtt;
    return seq;
  }
}
