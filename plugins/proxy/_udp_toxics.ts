// The UDP toxics, applied datagram by datagram: shared by the relay on the
// runtime's sockets (_udp_relay.ts) and the one on libc sockets in a Worker
// (_udp_libc_worker.ts), which differ only in how they wait and send.
import { type SeededRandom, seededRandom } from "./_random.ts";
import type { Toxic, ToxicStream } from "./toxics.ts";

/** A pending call made by {@linkcode ToxicIo.later}. */
export interface Timer {
  cancel(): void;
}

/** How a relay waits and sends, for the toxics. */
export interface ToxicIo<F> {
  /** Calls `fn` `ms` from now, unless the timer is cancelled or the relay closes. */
  later(ms: number, fn: () => void): Timer;
  /** Sends `data` on, in `stream`'s direction (counting it). */
  send(flow: F, stream: ToxicStream, data: Uint8Array): void;
}

/** What the toxics remember about one direction of one flow. */
export interface DirectionState {
  rng: SeededRandom;
  bad: boolean; // loss: Gilbert–Elliott state
  lastLost: boolean; // loss: the previous datagram was lost
  held?: { rest: () => void; passed: number; timer: Timer }; // reorder
  nextFree: number; // rate
  queued: number; // rate
}

/** A flow's two directions. */
export interface ToxicFlow {
  up: DirectionState;
  down: DirectionState;
}

/** A direction's state, its randomness seeded by the proxy, the flow's index and the stream. */
export function directionState(seed: number, salt: number, stream: number): DirectionState {
  return {
    rng: seededRandom(seed, salt, stream),
    bad: false,
    lastLost: false,
    nextFree: 0,
    queued: 0,
  };
}

/** Stops a flow's held datagrams from coming out (the flow is gone). */
export function dropHeld(flow: ToxicFlow): void {
  for (const st of [flow.up, flow.down]) st.held?.timer.cancel();
}

/**
 * Runs a datagram through `toxics` from the i-th on; delays continue later.
 * `data` must stay valid until then (a copy when the socket reuses its buffer).
 */
export function applyToxics<F extends ToxicFlow>(
  io: ToxicIo<F>,
  c: Record<string, number>,
  flow: F,
  stream: ToxicStream,
  toxics: readonly Toxic[],
  i: number,
  data: Uint8Array,
): void {
  if (i === toxics.length) return io.send(flow, stream, data);
  const next = (d: Uint8Array) => applyToxics(io, c, flow, stream, toxics, i + 1, d);
  const toxic = toxics[i];
  const st = stream === "upstream" ? flow.up : flow.down;
  const a = toxic.attributes;
  if (toxic.toxicity < 1 && !(st.rng.next() < toxic.toxicity)) return next(data);
  switch (toxic.type) {
    case "loss": {
      let lost: boolean;
      if (a.probability >= 1) lost = true;
      else if (a.burst <= 1) lost = st.rng.next() < a.probability;
      else {
        // Gilbert–Elliott: bad runs last `burst` datagrams on average, the
        // mean loss stays `probability`.
        const leave = 1 / a.burst;
        const enter = a.probability * leave / (1 - a.probability);
        st.bad = st.bad ? !(st.rng.next() < leave) : st.rng.next() < enter;
        lost = st.bad;
      }
      if (lost) {
        // A run of losses starts here: mean run length = loss_dropped / loss_runs.
        if (!st.lastLost) c.loss_runs++;
        st.lastLost = true;
        c.loss_dropped++;
        return;
      }
      st.lastLost = false;
      return next(data);
    }
    case "duplicate": {
      next(data);
      if (st.rng.next() < a.probability) {
        c.duplicate_added++;
        next(data);
      }
      return;
    }
    case "reorder": {
      if (st.held !== undefined) {
        next(data);
        const held = st.held;
        if (++held.passed >= a.gap) {
          held.timer.cancel();
          st.held = undefined;
          held.rest();
        }
        return;
      }
      if (st.rng.next() < a.probability) {
        c.reorder_held++;
        const release = () => {
          if (st.held === held) st.held = undefined;
          next(data);
        };
        const held = { rest: release, passed: 0, timer: io.later(a.delay, release) };
        st.held = held;
        return;
      }
      return next(data);
    }
    case "latency": {
      const jitter = a.jitter > 0 ? st.rng.int(2 * a.jitter) - a.jitter : 0;
      const delay = a.latency + jitter;
      c.latency_delayed++;
      if (delay <= 0) return next(data);
      io.later(delay, () => next(data));
      return;
    }
    case "corrupt": {
      if (!(st.rng.next() < a.probability) || data.length === 0) return next(data);
      const copy = new Uint8Array(data);
      for (let b = 0; b < a.bits; b++) {
        const bit = st.rng.int(copy.length * 8);
        copy[bit >> 3] ^= 1 << (bit & 7);
      }
      c.corrupt_corrupted++;
      return next(copy);
    }
    case "truncate": {
      if (data.length <= a.size) return next(data);
      c.truncate_truncated++;
      return next(data.subarray(0, a.size));
    }
    case "rate": {
      const gap = Math.max(
        a.datagrams > 0 ? 1000 / a.datagrams : 0,
        a.rate > 0 ? data.length / a.rate : 0,
      );
      if (gap === 0) return next(data);
      const now = performance.now();
      if (st.nextFree <= now && st.queued === 0) {
        st.nextFree = now + gap;
        return next(data);
      }
      if (st.queued >= a.queue) {
        c.rate_dropped++;
        return;
      }
      c.rate_delayed++;
      st.queued++;
      const at = Math.max(now, st.nextFree);
      st.nextFree = at + gap;
      io.later(at - now, () => {
        st.queued--;
        next(data);
      });
      return;
    }
    default:
      return next(data);
  }
}
