// One client run: a send loop (on a schedule, or one ping outstanding in
// flood mode) and a receive loop that times and classifies each datagram the
// moment it arrives, so a late timer never skews a round-trip time.
import { formatAddress, toNetError } from "../../lib/transport/mod.ts";
import type { Datagram, UdpSocket, UdpTarget } from "../../lib/transport/unstable_udp.ts";
import { LatencyHistogram } from "../../lib/metrics/mod.ts";
import type { Context } from "../../lib/plugin/mod.ts";
import type { PingPacket } from "./_packet.ts";
import { PingTally, WARM_UP_ANSWERED } from "./_tally.ts";
import { warmUpWaitMs } from "./_warm_up.ts";

/** How often progress is reported, in milliseconds. */
const PROGRESS_EVERY_MS = 250;

/** What a run needs besides the socket. */
export interface PingRunOptions {
  socket: UdpSocket;
  /** The peer as an IP address, exactly as senders are reported. */
  peer: UdpTarget;
  packet: PingPacket;
  count: number;
  /** Untimed pings before the timed ones (see _warm_up.ts). */
  warmUp: number;
  intervalMs: number;
  timeoutMs: number;
  ctx: Context;
  /** Called once the run has ended, untimed, right before the socket closes. */
  beforeClose?: () => void;
}

export class PingRun {
  readonly tally: PingTally;
  readonly rtt: LatencyHistogram = new LatencyHistogram();
  startedAt = NaN;
  endedAt = NaN;
  /** Why the run stopped early (abort, deadline, socket error); unset when it ran to the end. */
  error: unknown = undefined;

  #o: PingRunOptions;
  #stopped = false;
  // The one pause in progress: until when, and which ping's reply ends it early.
  #waitSeq = -1;
  #waitUntil = 0;
  #resolveWait: (() => void) | null = null;
  // One timer for every pause. A reply ends a pause without clearing it:
  // setting and clearing a timer per ping cost a measurable share of a
  // loopback round trip.
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #progressAt = -Infinity;

  constructor(options: PingRunOptions) {
    this.#o = options;
    this.tally = new PingTally({
      count: options.count,
      packet: options.packet,
      peer: options.peer,
      timeoutMs: options.timeoutMs,
      record: (rtt) => this.rtt.record(rtt),
      log: (message) => options.ctx.log("debug", message),
    });
  }

  /** Sends every ping, waits for the replies, then closes the socket. Never throws. */
  async run(): Promise<void> {
    const { ctx, socket, intervalMs } = this.#o;
    const onAbort = () => this.#stop(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
    const receiving = this.#receiveLoop();
    try {
      await this.#warmUp();
      this.startedAt = performance.now();
      if (intervalMs > 0) await this.#sendScheduled();
      else await this.#sendFlood();
      await this.#drain();
    } finally {
      if (Number.isNaN(this.startedAt)) this.startedAt = performance.now();
      this.endedAt = performance.now();
      ctx.signal.removeEventListener("abort", onAbort);
      clearTimeout(this.#timer);
      this.#report(true);
      this.#o.beforeClose?.();
      socket.close();
      await receiving;
    }
  }

  // One warm-up ping at a time, each waited for; the first without an echo
  // in time ends the warm-up (the peer may be gone: the timed pings will
  // tell), as does a failed send.
  async #warmUp(): Promise<void> {
    const { socket, peer, warmUp, timeoutMs } = this.#o;
    const tally = this.tally;
    const wait = warmUpWaitMs(timeoutMs);
    for (let seq = 0; seq < warmUp && !this.#stopped; seq++) {
      const at = performance.now();
      try {
        await socket.send(tally.stampWarmUp(seq, at), peer);
      } catch {
        break;
      }
      tally.warmUpSent++;
      while (!this.#stopped && tally.warmUpPending()) {
        const left = at + wait - performance.now();
        if (left <= 0) break;
        await this.#pause(Math.ceil(left), WARM_UP_ANSWERED);
      }
      if (tally.warmUpPending()) break;
    }
    tally.endWarmUp();
  }

  async #sendScheduled(): Promise<void> {
    const { count, intervalMs } = this.#o;
    // An absolute schedule: a slow timer delays one send, not every later one.
    for (let seq = 0; seq < count && !this.#stopped; seq++) {
      const wait = this.startedAt + seq * intervalMs - performance.now();
      if (wait > 0) await this.#pause(wait, -1);
      if (this.#stopped) return;
      await this.#send(seq);
    }
  }

  async #sendFlood(): Promise<void> {
    for (let seq = 0; seq < this.#o.count && !this.#stopped; seq++) {
      await this.#send(seq);
      await this.#waitAnswered(seq);
    }
  }

  // Waits until every ping is answered or timed out. Pings time out in the
  // order they were sent, so once the newest unanswered one has timed out,
  // all the others have too.
  async #drain(): Promise<void> {
    const tally = this.tally;
    let newest = tally.issued - 1;
    while (!this.#stopped) {
      while (newest >= 0 && !tally.pending(newest)) newest--;
      if (newest < 0) return;
      await this.#waitAnswered(newest);
      if (tally.pending(newest)) return;
    }
  }

  async #send(seq: number): Promise<void> {
    const { socket, peer } = this.#o;
    const bytes = this.tally.stamp(seq, performance.now());
    try {
      await socket.send(bytes, peer);
      this.tally.sent++;
    } catch (error) {
      this.#stop(toNetError(error, "send", formatAddress({ transport: "udp", ...peer })));
    }
    this.#report(false);
  }

  async #waitAnswered(seq: number): Promise<void> {
    while (!this.#stopped && this.tally.pending(seq)) {
      const left = this.tally.sentAt[seq] + this.#o.timeoutMs - performance.now();
      if (left < 0) return;
      await this.#pause(Math.ceil(left), seq);
    }
  }

  // Sleeps `ms`, or less when a reply to `seq` arrives or the run stops.
  #pause(ms: number, seq: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const until = performance.now() + ms;
    return new Promise((resolve) => {
      this.#waitSeq = seq;
      this.#waitUntil = until;
      this.#resolveWait = resolve;
      if (until < this.#timerAt) this.#arm(until);
    });
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, Math.ceil(at - performance.now())));
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#resolveWait) return;
    if (performance.now() >= this.#waitUntil) this.#endPause();
    else this.#arm(this.#waitUntil);
  };

  #endPause(): void {
    const resolve = this.#resolveWait;
    this.#resolveWait = null;
    this.#waitSeq = -1;
    resolve?.();
  }

  #stop(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.error = reason;
    this.#endPause();
  }

  async #receiveLoop(): Promise<void> {
    const { socket } = this.#o;
    while (true) {
      let datagram: Datagram;
      try {
        datagram = await socket.receive();
      } catch (error) {
        if (!socket.closed) this.#stop(error);
        return;
      }
      try {
        this.#handle(datagram);
      } catch (error) {
        this.#stop(error);
      }
    }
  }

  #handle({ data, from, receivedAt }: Datagram): void {
    const seq = this.tally.count(data, data.length, from.hostname, from.port, receivedAt);
    if (seq !== -1 && seq === this.#waitSeq) this.#endPause();
  }

  #report(final: boolean): void {
    const now = performance.now();
    if (!final && now - this.#progressAt < PROGRESS_EVERY_MS) return;
    this.#progressAt = now;
    this.#o.ctx.progress({ done: this.tally.sent, total: this.#o.count, unit: "packets" });
  }
}
