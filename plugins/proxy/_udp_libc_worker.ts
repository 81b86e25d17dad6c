// The Worker behind the libc UDP relays, shared by up to PROXIES_PER_WORKER
// proxies (_udp_libc_relay.ts): one blocking ppoll over every proxy's
// listening socket and every flow's socket, so a datagram goes on without
// an event loop in between (as socat relays). The toxics are the shared
// ones (_udp_toxics.ts); their delays are deadlines the ppoll timeout waits
// for, to the microsecond rather than to a timer's millisecond. The loop
// yields whenever the host has posted a message (a new proxy, a new toxic
// set, taken before another datagram is relayed), and starts again once it
// is handled (_relay_workers.ts).
import {
  LibcError,
  type LibcUdp,
  type LibcUdpSocket,
  openLibcUdp,
} from "../../lib/transport/unstable_udp.ts";
import {
  CONTROL,
  type UdpWorkerAdd,
  type UdpWorkerReply,
  type WorkerToxics,
} from "./_udp_libc_protocol.ts";
import { messageWaiting, serveRelayMessages } from "./_relay_workers.ts";
import {
  applyToxics,
  directionState,
  dropHeld,
  type ToxicFlow,
  type ToxicIo,
} from "./_udp_toxics.ts";
import { Deadlines } from "./_deadlines.ts";
import type { Toxic, ToxicStream } from "./toxics.ts";

// The Worker's own scope (this file runs only as a Worker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

// The longest ppoll: how soon a stop is seen when idle.
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

/** One proxy of the Worker. */
interface Proxy {
  id: number;
  m: UdpWorkerAdd;
  listener: LibcUdpSocket;
  control: Int32Array;
  /** The counters the toxics add to, each a view of its shared slot. */
  c: Record<string, number>;
  toxics: { upstream: Toxic[]; downstream: Toxic[] };
  flows: Map<string, Flow>;
  /** The listener, then every flow's socket, in the order of `byIndex`. */
  sockets: LibcUdpSocket[];
  byIndex: Flow[];
  deadlines: Deadlines;
  io: ToxicIo<Flow>;
  flowHost: string;
  index: number;
  sweepEvery: number;
  nextSweep: number;
}

const reply = (message: UdpWorkerReply) => scope.postMessage(message);
let libc: LibcUdp | undefined;
const proxies = new Map<number, Proxy>();
/** Every proxy's sockets in one array, rebuilt when a proxy or a flow comes or goes. */
let all: LibcUdpSocket[] = [];
let firsts: number[] = [];
let order: Proxy[] = [];
let ready = new Uint8Array(0);
let stale = true;

serveRelayMessages<UdpWorkerAdd | WorkerToxics>(scope, (m) => {
  if (m.type === "toxics") {
    const proxy = proxies.get(m.id);
    if (proxy !== undefined) proxy.toxics = { upstream: m.upstream, downstream: m.downstream };
  } else add(m);
}, run);

function add(m: UdpWorkerAdd): void {
  if (libc === undefined) {
    const opened = openLibcUdp();
    if (!opened.libc) return reply({ type: "refused", id: m.id, reason: opened.reason });
    libc = opened.libc;
  }
  let listener: LibcUdpSocket;
  try {
    listener = libc.bind(m.listen.hostname, m.listen.port);
  } catch (error) {
    if (!(error instanceof LibcError)) throw error;
    return reply({ type: "error", id: m.id, call: error.call, errno: error.errno });
  }
  const shared = new Float64Array(m.counts);
  const c: Record<string, number> = Object.create(null);
  m.counters.forEach((name, i) =>
    Object.defineProperty(c, name, {
      get: () => shared[i],
      set: (value: number) => shared[i] = value,
    })
  );
  const deadlines = new Deadlines();
  const upstreamHost = m.upstream.hostname;
  const upstreamPort = m.upstream.port;
  const send = (flow: Flow, stream: ToxicStream, data: Uint8Array) => {
    // Counted first: the receiver may read the counters before sendto returns.
    c[`datagrams_${stream}`]++;
    c[`bytes_${stream}`] += data.length;
    const refused = stream === "upstream"
      ? flow.socket.sendTo(data, data.length, upstreamHost, upstreamPort)
      : listener.sendTo(data, data.length, flow.clientHost, flow.clientPort);
    if (refused !== 0) c.errors++;
  };
  const sweepEvery = Math.max(10, Math.min(m.idleMs, 1000));
  proxies.set(m.id, {
    id: m.id,
    m,
    listener,
    control: new Int32Array(m.control),
    c,
    toxics: { upstream: m.upstreamToxics, downstream: m.downstreamToxics },
    flows: new Map(),
    sockets: [listener],
    byIndex: [],
    deadlines,
    io: { send, later: (ms, fn) => deadlines.add(performance.now() + ms, fn) },
    flowHost: m.listen.hostname.includes(":") ? "::1" : "127.0.0.1",
    index: 0,
    sweepEvery,
    nextSweep: performance.now() + sweepEvery,
  });
  stale = true;
  reply({ type: "bound", id: m.id, hostname: listener.hostname, port: listener.port });
}

/** Relays until a message waits or no proxy is left; libc is closed with the last proxy. */
function run(): void {
  if (libc === undefined) return;
  try {
    relay(libc);
  } catch (error) {
    // The loop failed (ppoll): every proxy of the Worker ends, as its own relay would.
    if (!(error instanceof LibcError)) throw error;
    for (const proxy of [...proxies.values()]) {
      stop(proxy);
      reply({ type: "error", id: proxy.id, call: error.call, errno: error.errno });
    }
  } finally {
    if (proxies.size === 0 && libc !== undefined) {
      libc.close();
      libc = undefined;
    }
  }
}

const rebuild = (proxy: Proxy) => {
  proxy.byIndex = [...proxy.flows.values()];
  proxy.sockets = [proxy.listener, ...proxy.byIndex.map((flow) => flow.socket)];
  stale = true;
};
const drop = (proxy: Proxy, flow: Flow) => {
  proxy.flows.delete(flow.key);
  dropHeld(flow);
  flow.socket.close();
  proxy.c.active--;
};
/** Closes a proxy's flows and listener and forgets it. */
const stop = (proxy: Proxy) => {
  proxy.deadlines.clear();
  for (const flow of [...proxy.flows.values()]) drop(proxy, flow);
  proxy.listener.close();
  proxies.delete(proxy.id);
  stale = true;
};

function pass(
  proxy: Proxy,
  flow: Flow,
  stream: ToxicStream,
  socket: LibcUdpSocket,
  length: number,
) {
  flow.lastActive = performance.now();
  const list = proxy.toxics[stream];
  if (list.length === 0) proxy.io.send(flow, stream, socket.buffer.subarray(0, length));
  // The toxics may hold it: a copy, the socket's buffer is reused.
  else applyToxics(proxy.io, proxy.c, flow, stream, list, 0, socket.buffer.slice(0, length));
}

/** One turn of a proxy's sockets after ppoll; its entries start at `first`. */
function serve(proxy: Proxy, first: number): void {
  const { c, m, listener, flows, byIndex } = proxy;
  const count = proxy.sockets.length;
  let opened = false;
  for (let i = 1; i < count; i++) {
    if (ready[first + i] === 0) continue;
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
      pass(proxy, flow, "downstream", flow.socket, got.length);
    }
  }
  if (ready[first] === 1) {
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
          socket = libc!.bind(proxy.flowHost, 0);
        } catch {
          // No socket for a new flow (descriptors exhausted): this datagram is lost.
          c.errors++;
          continue;
        }
        const salt = proxy.index++;
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
      pass(proxy, flow, "upstream", listener, got.length);
    }
  }
  if (opened) rebuild(proxy);
}

function relay(libc: LibcUdp): void {
  while (!messageWaiting() && proxies.size > 0) {
    let now = performance.now();
    let wakeAt = Infinity;
    for (const proxy of proxies.values()) {
      if (Atomics.load(proxy.control, CONTROL.STOP) === 1) {
        stop(proxy);
        reply({ type: "closed", id: proxy.id });
        continue;
      }
      proxy.deadlines.run(now);
      if (now >= proxy.nextSweep) {
        proxy.nextSweep = now + proxy.sweepEvery;
        let dropped = false;
        for (const flow of proxy.flows.values()) {
          if (now - flow.lastActive >= proxy.m.idleMs) {
            proxy.c.flows_expired++;
            drop(proxy, flow);
            dropped = true;
          }
        }
        if (dropped) rebuild(proxy);
      }
      wakeAt = Math.min(wakeAt, proxy.deadlines.next(), proxy.nextSweep);
    }
    if (proxies.size === 0) break;
    if (stale) {
      stale = false;
      order = [...proxies.values()];
      firsts = [];
      let n = 0;
      for (const proxy of order) {
        firsts.push(n);
        n += proxy.sockets.length;
      }
      // One proxy: its own array, nothing copied.
      all = order.length === 1 ? order[0].sockets : order.flatMap((proxy) => proxy.sockets);
      if (ready.length < n) ready = new Uint8Array(n);
    }
    now = performance.now();
    if (libc.poll(all, Math.max(0, Math.min(wakeAt - now, IDLE_POLL_MS)), ready) === 0) continue;
    // A new toxic set (or proxy) waits: taken before another datagram goes on.
    if (messageWaiting()) break;
    for (let k = 0; k < order.length; k++) serve(order[k], firsts[k]);
  }
}
