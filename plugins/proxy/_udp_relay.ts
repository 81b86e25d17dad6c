// The UDP side of a proxy: one flow per client address, each with its own
// socket towards the upstream, forgotten after idleMs of silence; toxics act
// on each datagram.
import { bindUdp, type Datagram, type UdpSocket } from "../../lib/transport/unstable_udp.ts";
import type { LinkHost } from "./_tcp_link.ts";
import { type SeededRandom, seededRandom } from "./_random.ts";
import type { Relay, RelayOptions } from "./_relay.ts";
import type { Toxic, ToxicStream } from "./toxics.ts";

interface DirectionState {
  rng: SeededRandom;
  bad: boolean; // loss: Gilbert–Elliott state
  lastLost: boolean; // loss: the previous datagram was lost
  held?: {
    data: Uint8Array;
    rest: () => void;
    passed: number;
    timer: ReturnType<typeof setTimeout>;
  };
  nextFree: number; // rate
  queued: number; // rate
}

interface Flow {
  client: Deno.NetAddr;
  socket: UdpSocket;
  lastActive: number;
  up: DirectionState;
  down: DirectionState;
  receiving: Promise<void>;
  sending: Promise<void>;
}

/** Listens on `options.listen` (UDP) and relays each client's datagrams to `options.upstream`. */
export function startUdpRelay(
  host: LinkHost,
  options: RelayOptions & { idleMs: number },
): Relay {
  const listener = bindUdp({ hostname: options.listen.hostname, port: options.listen.port });
  const flows = new Map<string, Flow>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const c = host.counters;
  let index = 0;
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
    return timer;
  };

  // Sends on one socket go out one after the other: concurrent sends may
  // leave in another order, which would be reordering no toxic asked for.
  let listenerSending: Promise<void> = Promise.resolve();
  const send = (flow: Flow, stream: ToxicStream, data: Uint8Array) => {
    if (closed) return;
    c[`datagrams_${stream}`]++;
    c[`bytes_${stream}`] += data.length;
    const failed = () => {
      if (!closed) c.errors++;
    };
    if (stream === "upstream") {
      flow.sending = flow.sending.then(() => flow.socket.send(data, options.upstream)).catch(
        failed,
      );
    } else {
      listenerSending = listenerSending.then(() => listener.send(data, flow.client)).catch(failed);
    }
  };

  // Runs a datagram through the toxics from the i-th on; delays continue later.
  const apply = (
    flow: Flow,
    stream: ToxicStream,
    toxics: readonly Toxic[],
    i: number,
    data: Uint8Array,
  ): void => {
    if (i === toxics.length) return send(flow, stream, data);
    const next = (d: Uint8Array) => apply(flow, stream, toxics, i + 1, d);
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
            clearTimeout(held.timer);
            timers.delete(held.timer);
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
          const held = { data, rest: release, passed: 0, timer: later(a.delay, release) };
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
        later(delay, () => next(data));
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
        later(at - now, () => {
          st.queued--;
          next(data);
        });
        return;
      }
      default:
        return next(data);
    }
  };

  const relay = (flow: Flow, stream: ToxicStream, data: Uint8Array) => {
    flow.lastActive = performance.now();
    const toxics = host.toxics(stream);
    if (toxics.length === 0) send(flow, stream, data);
    else apply(flow, stream, toxics, 0, data);
  };

  const direction = (salt: number, stream: number): DirectionState => ({
    rng: seededRandom(options.seed, salt, stream),
    bad: false,
    lastLost: false,
    nextFree: 0,
    queued: 0,
  });

  const openFlow = (client: Deno.NetAddr): Flow => {
    const socket = bindUdp({ hostname: options.listen.hostname === "::1" ? "::1" : "127.0.0.1" });
    const salt = index++;
    const flow: Flow = {
      client,
      socket,
      lastActive: performance.now(),
      up: direction(salt, 1),
      down: direction(salt, 2),
      receiving: Promise.resolve(),
      sending: Promise.resolve(),
    };
    flow.receiving = (async () => {
      while (!socket.closed) {
        let datagram: Datagram;
        try {
          datagram = await socket.receive();
        } catch {
          if (socket.closed) return;
          c.errors++;
          continue;
        }
        relay(flow, "downstream", datagram.data);
      }
    })();
    c.flows++;
    c.active++;
    return flow;
  };

  const dropFlow = (key: string, flow: Flow) => {
    flows.delete(key);
    for (const st of [flow.up, flow.down]) {
      if (st.held) clearTimeout(st.held.timer);
    }
    flow.socket.close();
    c.active--;
  };

  const receiving = (async () => {
    while (!listener.closed) {
      let datagram: Datagram;
      try {
        datagram = await listener.receive();
      } catch {
        if (listener.closed) return;
        c.errors++;
        continue;
      }
      const key = `${datagram.from.hostname}|${datagram.from.port}`;
      let flow = flows.get(key);
      if (flow === undefined) {
        flow = openFlow(datagram.from);
        flows.set(key, flow);
      }
      relay(flow, "upstream", datagram.data);
    }
  })();

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [key, flow] of flows) {
      if (now - flow.lastActive >= options.idleMs) {
        c.flows_expired++;
        dropFlow(key, flow);
      }
    }
  }, Math.max(10, Math.min(options.idleMs, 1000)));

  return {
    listen: listener.addr,
    // Toxics are read per datagram: nothing to re-read.
    sync: () => {},
    close: async () => {
      closed = true;
      clearInterval(sweep);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      listener.close();
      const waits = [receiving, listenerSending];
      for (const [key, flow] of flows) {
        waits.push(flow.receiving, flow.sending);
        dropFlow(key, flow);
      }
      await Promise.all(waits);
    },
  };
}
