// How a run counts each datagram, shared by the two I/O paths: the
// event-loop run (_ping_run.ts) and the blocking libc run in its Worker
// (_native_ping_worker.ts). See pingUdp's documentation for what each
// counter means.
import { FOREIGN, type PingPacket } from "./_packet.ts";

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
  readonly sentAt: Float64Array;
  #state: Uint8Array;
  #highest = -1;
  #previousRtt = NaN;
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

  /** `true` while ping `seq` is neither received nor late. */
  pending(seq: number): boolean {
    return this.#state[seq] === PENDING;
  }

  /** Counts one datagram; returns the ping it answers, or -1. */
  count(data: Uint8Array, fromHostname: string, fromPort: number, receivedAt: number): number {
    const peer = this.#peer;
    if (fromPort !== peer.port || fromHostname !== peer.hostname) {
      if (this.foreign++ === 0) {
        this.#log(`udp-ping: foreign datagram from ${fromHostname}:${fromPort}`);
      }
      return -1;
    }
    const seq = this.#packet.check(data, this.sentAt, this.issued);
    if (seq < 0) {
      if (seq === FOREIGN) {
        if (this.foreign++ === 0) this.#log("udp-ping: datagram without our identifier");
      } else if (this.malformed++ === 0) {
        this.#log(`udp-ping: malformed echo (${data.length} bytes)`);
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
