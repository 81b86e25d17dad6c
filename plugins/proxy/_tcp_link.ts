// One relayed TCP connection: client <-> proxy <-> upstream, with the
// proxy's toxics applied to each direction as toxiproxy applies them.
//
// node:net sockets, not Deno.Conn: reset_peer must end a connection with a
// TCP reset, and only node:net's resetAndDestroy() (SO_LINGER 0) can send
// one; Deno.Conn has no linger option.
import type { Socket } from "node:net";
import { setImmediate } from "node:timers";
import { type SeededRandom, seededRandom } from "./_random.ts";
import { Pacer } from "./_pacer.ts";
import type { Toxic, ToxicStream } from "./toxics.ts";

/** What a link needs from its proxy. */
export interface LinkHost {
  /** The proxy's toxics acting on `stream`, in the order added. */
  toxics(stream: ToxicStream): readonly Toxic[];
  /** Counters the link adds to. */
  readonly counters: Record<string, number>;
}

interface Chunk {
  data: Uint8Array | null; // null: end of stream
  t: number; // performance.now() when read
}

interface ToxicState {
  applies: boolean;
  timer?: ReturnType<typeof setTimeout>;
  pacer?: Pacer; // bandwidth
  sent?: number; // limit_data
  fired?: boolean; // reset_peer
}

// A direction stops reading once this much waits for its toxics (latency,
// bandwidth): memory per connection stays bounded (2 x 1 MiB + socket buffers).
const HIGH_WATER = 1 << 20;

/** A relayed connection. */
export class TcpLink {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #host: LinkHost;
  readonly #directions: [Direction, Direction];
  #closed = false;
  readonly #stopped = new AbortController();
  readonly finished: Promise<void>;
  #resolveFinished!: () => void;

  constructor(client: Socket, upstream: Socket, host: LinkHost, seed: number, index: number) {
    this.#client = client;
    this.#upstream = upstream;
    this.#host = host;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#directions = [
      new Direction(this, "upstream", client, upstream, seededRandom(seed, index, 1)),
      new Direction(this, "downstream", upstream, client, seededRandom(seed, index, 2)),
    ];
    let closedSockets = 0;
    for (const socket of [client, upstream]) {
      socket.on("error", () => {
        // A reset or a broken pipe on one side ends the relay on both.
        if (!this.#closed) host.counters.aborted++;
        this.destroy();
      });
      socket.on("close", () => {
        if (++closedSockets === 2) return this.#finish();
        // Nothing more can be written to a closed socket: the direction into
        // it is over. The one out of it ends once what it holds (a delayed
        // chunk, a slow close) has gone through its toxics.
        this.#directions[socket === upstream ? 0 : 1].abandon();
      });
    }
  }

  get host(): LinkHost {
    return this.#host;
  }

  /** Aborts once the link closes: toxics stop waiting. */
  get signal(): AbortSignal {
    return this.#stopped.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Re-reads the proxy's toxics (one was added, updated or removed). */
  sync(): void {
    for (const direction of this.#directions) direction.sync();
  }

  /** Both directions reached end of stream: close once written out. */
  directionEnded(): void {
    if (this.#directions.every((d) => d.ended)) this.close();
  }

  /** Closes both sides after what was written is flushed (a FIN, not a reset). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopToxics();
    for (const socket of [this.#client, this.#upstream]) {
      if (socket.destroyed) continue;
      socket.end(() => socket.destroy());
      // A peer that stops reading cannot hold the socket open.
      const timer = setTimeout(() => socket.destroy(), 5000);
      socket.once("close", () => clearTimeout(timer));
    }
  }

  /** Closes both sides at once. */
  destroy(): void {
    this.#closed = true;
    this.#stopToxics();
    this.#client.destroy();
    this.#upstream.destroy();
  }

  /** Ends both sides with a TCP reset. */
  reset(): void {
    this.#closed = true;
    this.#stopToxics();
    this.#client.resetAndDestroy();
    this.#upstream.resetAndDestroy();
  }

  #stopToxics(): void {
    this.#stopped.abort();
    for (const direction of this.#directions) direction.stop();
  }

  #finish(): void {
    this.#closed = true;
    this.#stopToxics();
    this.#resolveFinished();
  }
}

class Direction {
  readonly #link: TcpLink;
  readonly #stream: ToxicStream;
  readonly #source: Socket;
  readonly #dest: Socket;
  readonly #rng: SeededRandom;
  readonly #states = new Map<Toxic, ToxicState>();
  readonly #counters: Record<string, number>;
  readonly #queue: Chunk[] = [];
  #queued = 0;
  #paused = false;
  #busy = false;
  ended = false;

  constructor(link: TcpLink, stream: ToxicStream, source: Socket, dest: Socket, rng: SeededRandom) {
    this.#link = link;
    this.#stream = stream;
    this.#source = source;
    this.#dest = dest;
    this.#rng = rng;
    this.#counters = link.host.counters;
    this.sync();
    source.on("data", (data: Uint8Array) => this.#push({ data, t: performance.now() }));
    source.on("end", () => this.#push({ data: null, t: performance.now() }));
  }

  stop(): void {
    for (const state of this.#states.values()) clearTimeout(state.timer);
    this.#queue.length = 0;
  }

  /** Starts toxics added since, drops those removed (toxiproxy rolls toxicity once per link and toxic). */
  sync(): readonly [Toxic, ToxicState][] {
    const current = this.#link.host.toxics(this.#stream);
    const active: [Toxic, ToxicState][] = [];
    for (const toxic of current) {
      let state = this.#states.get(toxic);
      if (state === undefined) {
        state = { applies: toxic.toxicity >= 1 || this.#rng.next() < toxic.toxicity };
        this.#states.set(toxic, state);
        if (state.applies && toxic.type === "timeout" && toxic.attributes.timeout > 0) {
          state.timer = setTimeout(() => {
            this.#counters.timeout_closed++;
            this.#link.close();
          }, toxic.attributes.timeout);
        }
      }
      if (state.applies) active.push([toxic, state]);
    }
    if (this.#states.size > current.length) {
      for (const [toxic, state] of this.#states) {
        if (!current.includes(toxic)) {
          clearTimeout(state.timer);
          this.#states.delete(toxic);
        }
      }
    }
    return active;
  }

  #push(chunk: Chunk): void {
    if (this.#link.closed) return;
    // The fast path: nothing queued, no toxic: write through, as a pipe does.
    if (!this.#busy && this.#states.size === 0 && chunk.data !== null) {
      this.#write(chunk.data);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.data?.length ?? 0;
    if (this.#queued > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    }
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#link.closed) {
        const chunk = this.#queue.shift()!;
        this.#queued -= chunk.data?.length ?? 0;
        if (this.#paused && this.#queued < HIGH_WATER / 2) {
          this.#paused = false;
          this.#source.resume();
        }
        await this.#process(chunk, this.sync(), 0);
      }
    } finally {
      this.#busy = false;
    }
  }

  #write(data: Uint8Array): Promise<void> | void {
    if (this.#dest.destroyed) return;
    this.#counters[this.#stream === "upstream" ? "bytes_upstream" : "bytes_downstream"] +=
      data.length;
    if (this.#dest.write(data)) return;
    // The destination's buffer is full: stop reading until it drains.
    this.#source.pause();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#dest.off("drain", done);
        this.#dest.off("close", done);
        if (!this.#paused) this.#source.resume();
        resolve();
      };
      this.#dest.on("drain", done);
      this.#dest.on("close", done);
    });
  }

  /** The destination closed: nothing more goes to it. */
  abandon(): void {
    if (this.ended) return;
    this.ended = true;
    this.#queue.length = 0;
    this.#link.directionEnded();
  }

  #end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.#dest.destroyed) this.#dest.end();
    this.#link.directionEnded();
  }

  async #process(chunk: Chunk, active: readonly [Toxic, ToxicState][], i: number): Promise<void> {
    if (this.#link.closed) return;
    if (i === active.length) {
      if (chunk.data === null) this.#end();
      else await this.#write(chunk.data);
      return;
    }
    const [toxic, state] = active[i];
    const a = toxic.attributes;
    const c = this.#counters;
    switch (toxic.type) {
      case "latency": {
        if (chunk.data !== null) {
          const jitter = a.jitter > 0 ? this.#rng.int(2 * a.jitter) - a.jitter : 0;
          const wait = chunk.t + a.latency + jitter - performance.now();
          if (wait > 0) await sleep(wait, this.#link.signal);
          chunk.t = performance.now();
          c.latency_delayed++;
        }
        return this.#process(chunk, active, i + 1);
      }
      case "bandwidth": {
        if (chunk.data === null || a.rate === 0) return this.#process(chunk, active, i + 1);
        // rate is KB/s = bytes per ms; pieces of at most 100 ms each.
        const piece = a.rate * 100;
        for (let at = 0; at < chunk.data.length; at += piece) {
          const data = chunk.data.subarray(at, at + piece);
          // From when the data was there, not from now: a late wake-up must
          // not slow the rate down (within the pacer's catch-up bound).
          if (state.pacer === undefined) state.pacer = new Pacer(a.rate);
          const now = performance.now();
          const wait = state.pacer.due(data.length, chunk.t, now) - now;
          if (wait > 0) await sleep(wait, this.#link.signal);
          c.bandwidth_delayed_bytes += data.length;
          await this.#process({ data, t: chunk.t }, active, i + 1);
        }
        return;
      }
      case "slow_close": {
        if (chunk.data === null) {
          c.slow_close_delayed++;
          await sleep(a.delay, this.#link.signal);
        }
        return this.#process(chunk, active, i + 1);
      }
      case "timeout": {
        // Data goes nowhere; the end of stream closes, as in toxiproxy.
        if (chunk.data !== null) {
          c.timeout_dropped_bytes += chunk.data.length;
          return;
        }
        return this.#process(chunk, active, i + 1);
      }
      case "reset_peer": {
        if (state.fired) return;
        state.fired = true;
        if (a.timeout > 0) await sleep(a.timeout, this.#link.signal);
        if (this.#link.closed) return;
        c.reset_peer_resets++;
        this.#link.reset();
        return;
      }
      case "slicer": {
        if (chunk.data === null || a.average_size === 0) {
          return this.#process(chunk, active, i + 1);
        }
        const bounds = this.#slices(a, 0, chunk.data.length);
        for (let k = 1; k < bounds.length; k += 2) {
          c.slicer_slices++;
          await this.#process(
            { data: chunk.data.subarray(bounds[k - 1], bounds[k]), t: chunk.t },
            active,
            i + 1,
          );
          if (a.delay > 0) await sleep(a.delay / 1000, this.#link.signal);
        }
        return;
      }
      case "limit_data": {
        const sent = state.sent ?? 0;
        if (chunk.data !== null) {
          const data = chunk.data.subarray(0, Math.max(0, a.bytes - sent));
          if (data.length > 0) {
            state.sent = sent + data.length;
            await this.#process({ data, t: chunk.t }, active, i + 1);
          }
          if ((state.sent ?? 0) >= a.bytes) {
            c.limit_data_closed++;
            this.#link.close();
          }
          return;
        }
        return this.#process(chunk, active, i + 1);
      }
      default:
        return this.#process(chunk, active, i + 1);
    }
  }

  // toxiproxy's slicer: halve until a piece is within size_variation of average_size.
  #slices(a: Record<string, number>, start: number, end: number): number[] {
    if (end - start - a.average_size <= a.size_variation) return [start, end];
    let mid = start + Math.floor((end - start) / 2);
    if (a.size_variation > 0) mid += this.#rng.int(a.size_variation * 2) - a.size_variation;
    mid = Math.min(Math.max(mid, start + 1), end - 1);
    return [...this.#slices(a, start, mid), ...this.#slices(a, mid, end)];
  }
}

/**
 * Waits `ms`, or less when `signal` aborts (the link closed). A timer fires
 * about 1 ms late, so it is set 1.5 ms early and the rest is waited out in
 * event loop turns: a latency toxic adds what it was asked, not 1 ms more.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const target = performance.now() + ms;
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const tick = () => {
      if (signal.aborted) return;
      if (performance.now() >= target) done();
      else setImmediate(tick);
    };
    signal.addEventListener("abort", done, { once: true });
    const early = ms - 1.5;
    if (early > 0) timer = setTimeout(tick, early);
    else tick();
  });
}
