// The Worker behind the libc UDP relay: one blocking ppoll over the
// listening socket and every flow's socket, so a datagram goes on without
// an event loop in between (as socat relays). The toxics are the shared
// ones (_udp_toxics.ts); their delays are deadlines the ppoll timeout waits
// for, to the microsecond rather than to a timer's millisecond.
import {
  LibcError,
  type LibcUdp,
  type LibcUdpSocket,
  openLibcUdp,
} from "../../lib/transport/unstable_udp.ts";
import {
  CONTROL,
  type UdpWorkerReply,
  type UdpWorkerStart,
  type WorkerToxics,
} from "./_udp_libc_protocol.ts";
import {
  applyToxics,
  directionState,
  dropHeld,
  type ToxicFlow,
  type ToxicIo,
} from "./_udp_toxics.ts";
import { Deadlines } from "./_deadlines.ts";
import type { ToxicStream } from "./toxics.ts";

// The Worker's own scope (this file runs only as a Worker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

// The longest ppoll: how soon a stop or a new toxic set is seen when idle.
const IDLE_POLL_MS = 20;
// Datagrams taken from one socket per turn, so one busy client cannot starve the others.
const BURST = 64;

interface Flow extends ToxicFlow {
  key: string;
  clientHost: string;
  clientPort: number;
  socket: LibcUdpSocket;
  lastActive: number;
}

let toxics: WorkerToxics | undefined;

scope.onmessage = (event: MessageEvent<UdpWorkerStart | WorkerToxics>) => {
  const m = event.data;
  if (m.type === "toxics") {
    toxics = m;
    return;
  }
  toxics = m.toxics;
  const reply = (message: UdpWorkerReply) => scope.postMessage(message);
  const opened = openLibcUdp();
  if (!opened.libc) return reply({ type: "refused", reason: opened.reason });
  const libc = opened.libc;
  let listener: LibcUdpSocket;
  try {
    listener = libc.bind(m.listen.hostname, m.listen.port);
  } catch (error) {
    libc.close();
    if (!(error instanceof LibcError)) throw error;
    return reply({ type: "error", call: error.call, errno: error.errno });
  }
  reply({ type: "bound", hostname: listener.hostname, port: listener.port });
  void relay(libc, listener, m).then(
    () => reply({ type: "closed" }),
    (error) => {
      if (!(error instanceof LibcError)) throw error;
      reply({ type: "error", call: error.call, errno: error.errno });
    },
  );
};

async function relay(libc: LibcUdp, listener: LibcUdpSocket, m: UdpWorkerStart): Promise<void> {
  const shared = new Float64Array(m.counts);
  const control = new Int32Array(m.control);
  // The counters the toxics add to, each a view of its shared slot.
  const c: Record<string, number> = Object.create(null);
  m.counters.forEach((name, i) =>
    Object.defineProperty(c, name, {
      get: () => shared[i],
      set: (value: number) => shared[i] = value,
    })
  );
  const flows = new Map<string, Flow>();
  const byIndex: Flow[] = []; // flows in the order of `sockets` after the listener
  let sockets: LibcUdpSocket[] = [listener];
  let ready = new Uint8Array(1);
  const deadlines = new Deadlines();
  const upstreamHost = m.upstream.hostname;
  const upstreamPort = m.upstream.port;
  const flowHost = m.listen.hostname.includes(":") ? "::1" : "127.0.0.1";
  let index = 0;

  const send = (flow: Flow, stream: ToxicStream, data: Uint8Array) => {
    // Counted first: the receiver may read the counters before sendto returns.
    c[`datagrams_${stream}`]++;
    c[`bytes_${stream}`] += data.length;
    const refused = stream === "upstream"
      ? flow.socket.sendTo(data, data.length, upstreamHost, upstreamPort)
      : listener.sendTo(data, data.length, flow.clientHost, flow.clientPort);
    if (refused !== 0) c.errors++;
  };
  const io: ToxicIo<Flow> = {
    send,
    later: (ms, fn) => deadlines.add(performance.now() + ms, fn),
  };
  const pass = (flow: Flow, stream: ToxicStream, socket: LibcUdpSocket, length: number) => {
    flow.lastActive = performance.now();
    const list = toxics![stream];
    if (list.length === 0) send(flow, stream, socket.buffer.subarray(0, length));
    // The toxics may hold it: a copy, the socket's buffer is reused.
    else applyToxics(io, c, flow, stream, list, 0, socket.buffer.slice(0, length));
  };
  const rebuild = () => {
    byIndex.length = 0;
    byIndex.push(...flows.values());
    sockets = [listener, ...byIndex.map((flow) => flow.socket)];
    ready = new Uint8Array(sockets.length);
  };
  const drop = (flow: Flow) => {
    flows.delete(flow.key);
    dropHeld(flow);
    flow.socket.close();
    c.active--;
  };

  const sweepEvery = Math.max(10, Math.min(m.idleMs, 1000));
  let nextSweep = performance.now() + sweepEvery;
  try {
    while (Atomics.load(control, CONTROL.STOP) === 0) {
      // New toxics: wait (a few event loop turns) until their message is here.
      while (toxics!.version < Atomics.load(control, CONTROL.VERSION)) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      let now = performance.now();
      deadlines.run(now);
      if (now >= nextSweep) {
        nextSweep = now + sweepEvery;
        let dropped = false;
        for (const flow of flows.values()) {
          if (now - flow.lastActive >= m.idleMs) {
            c.flows_expired++;
            drop(flow);
            dropped = true;
          }
        }
        if (dropped) rebuild();
      }
      now = performance.now();
      const wait = Math.min(deadlines.next(), nextSweep) - now;
      if (libc.poll(sockets, Math.max(0, Math.min(wait, IDLE_POLL_MS)), ready) === 0) continue;
      if (toxics!.version < Atomics.load(control, CONTROL.VERSION)) continue; // apply them first
      const count = sockets.length;
      let opened = false;
      for (let i = 1; i < count; i++) {
        if (ready[i] === 0) continue;
        const flow = byIndex[i - 1];
        if (flow.socket.closed) continue;
        for (let k = 0; k < BURST; k++) {
          let got;
          try {
            got = flow.socket.receive(0);
          } catch {
            // An ICMP error from the upstream (refused): counted, the flow goes on.
            c.errors++;
            continue;
          }
          if (got === null) break;
          pass(flow, "downstream", flow.socket, got.length);
        }
      }
      if (ready[0] === 1) {
        for (let k = 0; k < BURST; k++) {
          let got;
          try {
            got = listener.receive(0);
          } catch {
            // An ICMP error for a reply to a client gone: counted, the relay goes on.
            c.errors++;
            continue;
          }
          if (got === null) break;
          const key = `${got.fromHostname}|${got.fromPort}`;
          let flow = flows.get(key);
          if (flow === undefined) {
            // Each flow holds a socket for idleMs: a sender that changes
            // source port per datagram would otherwise open descriptors without end.
            if (m.maxFlows !== undefined && flows.size >= m.maxFlows) {
              c.rejected++;
              continue;
            }
            let socket: LibcUdpSocket;
            try {
              socket = libc.bind(flowHost, 0);
            } catch {
              // No socket for a new flow (descriptors exhausted): this datagram is lost.
              c.errors++;
              continue;
            }
            const salt = index++;
            flow = {
              key,
              clientHost: got.fromHostname,
              clientPort: got.fromPort,
              socket,
              lastActive: 0,
              up: directionState(m.seed, salt, 1),
              down: directionState(m.seed, salt, 2),
            };
            flows.set(key, flow);
            c.flows++;
            c.active++;
            opened = true;
          }
          pass(flow, "upstream", listener, got.length);
        }
      }
      if (opened) rebuild();
    }
  } finally {
    deadlines.clear();
    for (const flow of [...flows.values()]) drop(flow);
    listener.close();
    libc.close();
  }
}
