// The Worker behind the libc TCP relays, shared by up to PROXIES_PER_WORKER
// proxies (_tcp_libc_relay.ts): toxic-free connections relayed on
// non-blocking libc sockets, one blocking ppoll over every proxy's listener
// and every connection's two sockets, a chunk written as soon as it is read,
// with no event loop in between (as socat relays). Once a proxy has a toxic,
// each of its connections is handed (its descriptors and what it read but
// could not write yet) to the host, which relays it on node:net with the
// toxics. The loop yields whenever the host has posted a message (a new
// proxy), and starts again once it is handled (_relay_workers.ts).
import { encodeSockaddr, libcCandidates } from "../../lib/transport/unstable_udp.ts";
import {
  TCP_CONTROL,
  type TcpHandOff,
  type TcpWorkerAdd,
  type TcpWorkerReply,
} from "./_tcp_libc_protocol.ts";
import { messageWaiting, serveRelayMessages } from "./_relay_workers.ts";

// The Worker's own scope (this file runs only as a Worker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

// The longest ppoll: how soon a stop, a toxic or a new proxy is seen when idle.
const IDLE_POLL_MS = 20;
// Connections accepted per turn, so a flood of clients cannot starve the others.
const BURST = 64;
const CHUNK = 65_536;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SHUT_WR = 1;
const POLLIN = 1;
const POLLOUT = 4;
const POLLERR = 8;
const POLLHUP = 0x10;
const EAGAIN = 11;
const EINTR = 4;
const EINPROGRESS = 115;
const ENFILE = 23;
const EMFILE = 24;
// Out of descriptors, the listener stays readable (the clients wait in its
// backlog): it is left out of ppoll this long, else every ppoll returns at once.
const ACCEPT_PAUSE_MS = 100;

const symbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  ppoll: { parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // errno read through its thread-local address without the pointer APIs.
  read_errno: { name: "memcpy", parameters: ["buffer", "pointer", "usize"], result: "pointer" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** One direction of a connection: bytes read from `from`, written to `to`. */
interface Direction {
  from: number;
  to: number;
  counter: "bytes_upstream" | "bytes_downstream";
  /** Read but not yet written (the destination was full). */
  pending: Uint8Array | null;
  /** `from` reached end of stream. */
  eof: boolean;
  /** `to` was shut for writing (the end of stream passed on). */
  shut: boolean;
}

interface Connection {
  proxy: Proxy;
  client: number;
  upstream: number;
  connecting: boolean;
  /** poll reported POLLHUP on the socket: it wakes every poll until it is left out. */
  clientHup: boolean;
  upstreamHup: boolean;
  up: Direction;
  down: Direction;
}

/** One proxy of the Worker: its listener, its connections and its shared memory. */
interface Proxy {
  id: number;
  listener: number;
  m: TcpWorkerAdd;
  shared: Float64Array;
  control: Int32Array;
  /** Slots of `shared`, by counter name. */
  C: Record<
    Direction["counter"] | "connections" | "active" | "rejected" | "upstream_errors" | "aborted",
    number
  >;
  upstreamAddress: Uint8Array<ArrayBuffer>;
  upstreamFamily: number;
  connections: Connection[];
  /** Out of descriptors: the listener is left out of ppoll until then. */
  acceptPausedUntil: number;
}

const reply = (message: TcpWorkerReply) => scope.postMessage(message);
let lib: Deno.DynamicLibrary<typeof symbols> | undefined;
let errno: () => number = () => 0;
const proxies = new Map<number, Proxy>();

serveRelayMessages<TcpWorkerAdd>(scope, add, run);

/** Opens libc once for every proxy of the Worker; a reason when it cannot. */
function openLibc(): string | undefined {
  if (lib !== undefined) return undefined;
  const reasons: string[] = [];
  for (const path of libcCandidates()) {
    if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
    try {
      lib = Deno.dlopen(path, symbols);
      break;
    } catch (error) {
      reasons.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (lib === undefined) return `libc not loaded (${reasons[0] ?? "no grant"})`;
  const s = lib.symbols;
  const errnoAt = s.__errno_location();
  const errnoBox = new Int32Array(1);
  errno = () => {
    s.read_errno(errnoBox, errnoAt, 4n);
    return errnoBox[0];
  };
  return undefined;
}

/** Binds a proxy's listener and adds it to the loop. */
function add(m: TcpWorkerAdd): void {
  const refused = openLibc();
  if (refused !== undefined) return reply({ type: "refused", id: m.id, reason: refused });
  const s = lib!.symbols;
  const family = m.listen.hostname.includes(":") ? AF_INET6 : AF_INET;
  const listener = s.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) return reply({ type: "error", id: m.id, call: "socket", errno: errno() });
  s.setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, new Int32Array([1]), 4);
  const address = encodeSockaddr(m.listen.hostname, m.listen.port);
  if (s.bind(listener, address, address.byteLength) !== 0 || s.listen(listener, 4096) !== 0) {
    const failed = errno();
    s.close(listener);
    return reply({ type: "error", id: m.id, call: "bind", errno: failed });
  }
  const name = new Uint8Array(28);
  s.getsockname(listener, name, new Uint32Array([28]));
  const port = new DataView(name.buffer).getUint16(2);
  const slot = (counter: string) => m.counters.indexOf(counter);
  proxies.set(m.id, {
    id: m.id,
    listener,
    m,
    shared: new Float64Array(m.counts),
    control: new Int32Array(m.control),
    C: {
      connections: slot("connections"),
      active: slot("active"),
      rejected: slot("rejected"),
      upstream_errors: slot("upstream_errors"),
      aborted: slot("aborted"),
      bytes_upstream: slot("bytes_upstream"),
      bytes_downstream: slot("bytes_downstream"),
    },
    upstreamAddress: encodeSockaddr(m.upstream.hostname, m.upstream.port),
    upstreamFamily: m.upstream.hostname.includes(":") ? AF_INET6 : AF_INET,
    connections: [],
    acceptPausedUntil: 0,
  });
  reply({ type: "bound", id: m.id, hostname: m.listen.hostname, port });
}

/** Relays until a message waits or no proxy is left; libc is closed with the last proxy. */
function run(): void {
  if (lib === undefined) return;
  try {
    relay(lib!.symbols);
  } finally {
    if (proxies.size === 0 && lib !== undefined) {
      lib.close();
      lib = undefined;
    }
  }
}

function relay(s: Symbols): void {
  const one = new Int32Array([1]);
  const buffer = new Uint8Array(CHUNK);
  const soError = new Int32Array(1);
  const soErrorLength = new Uint32Array([4]);
  const timeout = new BigInt64Array([0n, BigInt(IDLE_POLL_MS * 1e6)]);
  let pollfds = new DataView(new ArrayBuffer(8 * 64));
  // The proxies polled this turn, and each one's first entry in pollfds (its listener).
  const order: Proxy[] = [];
  const firsts: number[] = [];

  const closeBoth = (c: Connection) => {
    s.close(c.client);
    s.close(c.upstream);
    c.proxy.shared[c.proxy.C.active]--;
  };
  const stop = (proxy: Proxy) => {
    for (const c of proxy.connections) closeBoth(c);
    proxy.connections = [];
    s.close(proxy.listener);
    proxies.delete(proxy.id);
    reply({ type: "closed", id: proxy.id });
  };
  // Writes what `d` holds (or `data`); keeps the rest. false: the destination failed.
  const write = (c: Connection, d: Direction, data: Uint8Array): boolean => {
    const shared = c.proxy.shared;
    const slot = c.proxy.C[d.counter];
    let at = 0;
    while (at < data.length) {
      const n = Number(s.write(d.to, data.subarray(at), BigInt(data.length - at)));
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) break;
        return false;
      }
      // Counted as written, before the receiver can read the counters.
      shared[slot] += n;
      at += n;
    }
    d.pending = at < data.length ? data.slice(at) : null;
    if (d.pending === null && d.eof && !d.shut) {
      d.shut = true;
      s.shutdown(d.to, SHUT_WR);
    }
    return true;
  };
  // Reads once from d.from and writes it on. false: the connection failed.
  const pump = (c: Connection, d: Direction): boolean => {
    const n = Number(s.read(d.from, buffer, BigInt(CHUNK)));
    if (n < 0) {
      const e = errno();
      return e === EAGAIN || e === EINTR;
    }
    if (n === 0) {
      d.eof = true;
      return write(c, d, buffer.subarray(0, 0));
    }
    return write(c, d, buffer.subarray(0, n));
  };
  const accept = (proxy: Proxy) => {
    const { shared, C, m, control } = proxy;
    for (let k = 0; k < BURST; k++) {
      const client = s.accept4(proxy.listener, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) {
        const e = errno();
        if (e === EMFILE || e === ENFILE) {
          proxy.acceptPausedUntil = performance.now() + ACCEPT_PAUSE_MS;
        }
        return;
      }
      const held = proxy.connections.length + Atomics.load(control, TCP_CONTROL.HOST_ACTIVE);
      if (m.maxConnections !== undefined && held >= m.maxConnections) {
        // Over the cap: closed before an upstream is dialled, and counted.
        shared[C.rejected]++;
        s.close(client);
        continue;
      }
      shared[C.connections]++;
      shared[C.active]++;
      s.setsockopt(client, IPPROTO_TCP, TCP_NODELAY, one, 4);
      const upstream = s.socket(
        proxy.upstreamFamily,
        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0,
      );
      const dialled = upstream >= 0 &&
        (s.connect(upstream, proxy.upstreamAddress, proxy.upstreamAddress.byteLength) === 0 ||
          errno() === EINPROGRESS);
      if (!dialled) {
        // toxiproxy closes the client when the upstream cannot be reached.
        shared[C.upstream_errors]++;
        shared[C.active]--;
        s.close(client);
        if (upstream >= 0) s.close(upstream);
        continue;
      }
      const direction = (from: number, to: number, counter: Direction["counter"]): Direction => ({
        from,
        to,
        counter,
        pending: null,
        eof: false,
        shut: false,
      });
      proxy.connections.push({
        proxy,
        client,
        upstream,
        connecting: true,
        clientHup: false,
        upstreamHup: false,
        up: direction(client, upstream, "bytes_upstream"),
        down: direction(upstream, client, "bytes_downstream"),
      });
    }
  };
  const handOff = (c: Connection) => {
    // Counted as the host's now, not once it adopts it: the cap holds in between.
    Atomics.add(c.proxy.control, TCP_CONTROL.HOST_ACTIVE, 1);
    reply(
      {
        type: "hand-off",
        id: c.proxy.id,
        client: c.client,
        upstream: c.upstream,
        toUpstream: c.up.pending,
        toClient: c.down.pending,
      } satisfies TcpHandOff,
    );
  };
  const entry = (p: DataView, i: number, fd: number, events: number) => {
    p.setInt32(i * 8, fd, true);
    p.setInt16(i * 8 + 4, events, true);
    p.setInt16(i * 8 + 6, 0, true);
  };
  const reading = (d: Direction) => !d.eof && d.pending === null ? POLLIN : 0;
  const writing = (d: Direction) => d.pending !== null ? POLLOUT : 0;
  // One turn of a proxy's connections after ppoll; its entries start at `first`.
  const serve = (proxy: Proxy, p: DataView, first: number) => {
    const handing = Atomics.load(proxy.control, TCP_CONTROL.HAND_OFF) === 1;
    const { connections, shared, C } = proxy;
    const count = connections.length;
    const kept: Connection[] = [];
    for (let i = 0; i < count; i++) {
      const c = connections[i];
      const clientEvents = p.getInt16((first + 1 + i * 2) * 8 + 6, true);
      const upstreamEvents = p.getInt16((first + 2 + i * 2) * 8 + 6, true);
      if (c.connecting) {
        if (upstreamEvents === 0) {
          kept.push(c);
          continue;
        }
        soErrorLength[0] = 4;
        s.getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, soError, soErrorLength);
        if (soError[0] !== 0) {
          shared[C.upstream_errors]++;
          closeBoth(c);
          continue;
        }
        c.connecting = false;
        s.setsockopt(c.upstream, IPPROTO_TCP, TCP_NODELAY, one, 4);
        kept.push(c);
        continue;
      }
      // A toxic arrived while waiting: what is ready now goes through it, on the host.
      if (handing) {
        kept.push(c);
        continue;
      }
      let ok = true;
      // Writes first: a destination that drained takes what waits for it.
      if (clientEvents & POLLOUT && c.down.pending) ok = write(c, c.down, c.down.pending);
      if (ok && upstreamEvents & POLLOUT && c.up.pending) ok = write(c, c.up, c.up.pending);
      const readable = POLLIN | POLLERR | POLLHUP;
      if (ok && clientEvents & readable && !c.up.eof && !c.up.pending) ok = pump(c, c.up);
      if (ok && upstreamEvents & readable && !c.down.eof && !c.down.pending) ok = pump(c, c.down);
      if (ok && (clientEvents | upstreamEvents) & POLLERR) ok = false;
      if (!ok) {
        // A reset or a broken pipe on one side ends the relay on both.
        shared[C.aborted]++;
        closeBoth(c);
        continue;
      }
      if (clientEvents & POLLHUP) c.clientHup = true;
      if (upstreamEvents & POLLHUP) c.upstreamHup = true;
      // Both ends passed on, or a side hung up and was read to its end with
      // nothing left to write: done. A hung-up socket may still hold unread
      // bytes (one read per turn), which must go on before the close.
      const hungUp = !(c.up.pending || c.down.pending) &&
        ((c.clientHup && c.up.eof) || (c.upstreamHup && c.down.eof));
      if ((c.up.shut && c.down.shut) || hungUp) {
        closeBoth(c);
        continue;
      }
      kept.push(c);
    }
    proxy.connections = kept;
    if (p.getInt16(first * 8 + 6, true) !== 0) accept(proxy);
  };

  while (!messageWaiting() && proxies.size > 0) {
    order.length = 0;
    firsts.length = 0;
    let n = 0;
    for (const proxy of proxies.values()) {
      if (Atomics.load(proxy.control, TCP_CONTROL.STOP) === 1) {
        stop(proxy);
        continue;
      }
      if (Atomics.load(proxy.control, TCP_CONTROL.HAND_OFF) === 1) {
        const kept: Connection[] = [];
        for (const c of proxy.connections) {
          if (c.connecting) kept.push(c);
          else handOff(c);
        }
        proxy.connections = kept;
      }
      order.push(proxy);
      firsts.push(n);
      n += 1 + proxy.connections.length * 2;
    }
    if (order.length === 0) break;
    if (pollfds.byteLength < n * 8) pollfds = new DataView(new ArrayBuffer(n * 16));
    const p = pollfds;
    const now = performance.now();
    for (let k = 0; k < order.length; k++) {
      const proxy = order[k];
      const first = firsts[k];
      entry(p, first, now < proxy.acceptPausedUntil ? -1 : proxy.listener, POLLIN);
      const connections = proxy.connections;
      for (let i = 0; i < connections.length; i++) {
        const c = connections[i];
        const clientWants = c.connecting ? 0 : reading(c.up) | writing(c.down);
        const upstreamWants = c.connecting ? POLLOUT : reading(c.down) | writing(c.up);
        // A hung-up socket with nothing asked of it is left out (a negative fd),
        // else its POLLHUP ends every ppoll at once while the other side drains.
        entry(p, first + 1 + i * 2, clientWants === 0 && c.clientHup ? -1 : c.client, clientWants);
        entry(
          p,
          first + 2 + i * 2,
          upstreamWants === 0 && c.upstreamHup ? -1 : c.upstream,
          upstreamWants,
        );
      }
    }
    const ready = s.ppoll(p, BigInt(n), timeout, null);
    if (ready <= 0) continue;
    for (let k = 0; k < order.length; k++) serve(order[k], p, firsts[k]);
  }
}
