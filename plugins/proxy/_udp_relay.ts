// The UDP side of a proxy: one flow per client address, each with its own
// socket towards the upstream, forgotten after idleMs of silence; toxics act
// on each datagram.
import { bindUdp, type Datagram, type UdpSocket } from "../../lib/transport/unstable_udp.ts";
import type { LinkHost } from "./_tcp_link.ts";
import type { Relay, RelayOptions } from "./_relay.ts";
import type { ToxicStream } from "./toxics.ts";
import { setImmediate } from "node:timers";
import { Deadlines } from "./_deadlines.ts";
import {
  applyToxics,
  directionState,
  dropHeld,
  type Timer,
  type ToxicFlow,
  type ToxicIo,
} from "./_udp_toxics.ts";

const EARLY_MS = 3;

interface Flow extends ToxicFlow {
  client: Deno.NetAddr;
  socket: UdpSocket;
  lastActive: number;
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
  const c = host.counters;
  let index = 0;
  let closed = false;

  // Delays run from one deadline queue. A timer fires about 1 ms late (at
  // the median; more on a loaded machine), so it is set EARLY_MS early and
  // the rest is waited out in event loop turns: a latency toxic adds what it
  // was asked, not 1 ms more. One queue, so at most one such wait at a time.
  const deadlines = new Deadlines();
  let armed: ReturnType<typeof setTimeout> | undefined;
  let armedFor = Infinity;
  let spinning = false;
  const drive = () => {
    armed = undefined;
    armedFor = Infinity;
    spinning = false;
    if (closed) return;
    deadlines.run(performance.now());
    const next = deadlines.next();
    if (next === Infinity) return;
    const wait = next - performance.now();
    if (wait > EARLY_MS) {
      armedFor = next;
      armed = setTimeout(drive, wait - EARLY_MS);
    } else {
      spinning = true;
      setImmediate(drive);
    }
  };
  const later = (ms: number, fn: () => void): Timer => {
    const at = performance.now() + ms;
    const timer = deadlines.add(at, fn);
    // An earlier deadline than the armed one: arm again (a spin sees it anyway).
    if (!spinning && at < armedFor) {
      clearTimeout(armed);
      drive();
    }
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

  const io: ToxicIo<Flow> = { send, later };

  const relay = (flow: Flow, stream: ToxicStream, data: Uint8Array) => {
    flow.lastActive = performance.now();
    const toxics = host.toxics(stream);
    if (toxics.length === 0) send(flow, stream, data);
    else applyToxics(io, c, flow, stream, toxics, 0, data);
  };

  const openFlow = (client: Deno.NetAddr): Flow => {
    const socket = bindUdp({ hostname: options.listen.hostname === "::1" ? "::1" : "127.0.0.1" });
    const salt = index++;
    const flow: Flow = {
      client,
      socket,
      lastActive: performance.now(),
      up: directionState(options.seed, salt, 1),
      down: directionState(options.seed, salt, 2),
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
    dropHeld(flow);
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
        // Each flow holds a socket for idleMs: a sender that changes source
        // port per datagram would otherwise open descriptors without end.
        if (options.maxConnections !== undefined && flows.size >= options.maxConnections) {
          c.rejected++;
          continue;
        }
        try {
          flow = openFlow(datagram.from);
        } catch {
          // No socket for a new flow (descriptors exhausted): this datagram is lost.
          c.errors++;
          continue;
        }
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
    io: "deno",
    // Toxics are read per datagram: nothing to re-read.
    sync: () => {},
    close: async () => {
      closed = true;
      clearInterval(sweep);
      clearTimeout(armed);
      deadlines.clear();
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
