// The TCP side of a proxy on libc sockets, in a Worker shared with up to
// PROXIES_PER_WORKER - 1 other proxies (_tcp_libc_worker.ts): toxic-free
// connections relayed as socat relays them. While the proxy has a toxic,
// the Worker hands each connection's descriptors here, and node:net adopts
// them (toxiproxy applies toxics to live connections) and relays them
// through a TcpLink with the toxics, as _tcp_relay.ts does. Taken where FFI is granted for libc (the built-in
// manifest asks for it), else _tcp_relay.ts serves.
import net from "node:net";
import { formatAddress } from "../../lib/transport/mod.ts";
import { libcUdpRefusal, type UdpIo, workerRefusal } from "../../lib/transport/unstable_udp.ts";
import { type LinkHost, TcpLink } from "./_tcp_link.ts";
import type { Relay, RelayOptions } from "./_relay.ts";
import { startTcpRelay } from "./_tcp_relay.ts";
import { TCP_CONTROL, type TcpWorkerAdd, type TcpWorkerReply } from "./_tcp_libc_protocol.ts";
import { RelayWorkers } from "./_relay_workers.ts";
import { workerCounters } from "./_worker_counters.ts";

const WORKER = new URL("./_tcp_libc_worker.ts", import.meta.url);

/**
 * Starts a TCP relay on `io`'s sockets: `auto` takes libc's where it may
 * and node:net's otherwise, `libc` throws a TypeError where it may not.
 */
export async function startTcpRelayOn(
  io: UdpIo,
  host: LinkHost,
  options: RelayOptions,
): Promise<Relay> {
  if (io !== "deno") {
    let refused = libcUdpRefusal([options.listen, options.upstream]) ?? workerRefusal(WORKER);
    if (refused === undefined) {
      const relay = await startLibcTcpRelay(host, options);
      if (!("refused" in relay)) return relay;
      refused = relay.refused;
    }
    if (io === "libc") throw new TypeError(`Cannot relay TCP on libc sockets: ${refused}`);
  }
  return startTcpRelay(host, options);
}

/**
 * Proxies one Worker relays. A Worker costs about 12 MiB and a thread; its
 * proxies share one ppoll and one core (1,000 proxies, the control API's
 * cap: 16 Workers).
 */
export const PROXIES_PER_WORKER = 64;

const workers = new RelayWorkers<TcpWorkerAdd, TcpWorkerReply>(WORKER, PROXIES_PER_WORKER);

/** How many TCP relay Workers run now. */
export function tcpRelayWorkers(): number {
  return workers.size;
}

// The counters the Worker keeps; the host's links add to the same ones.
const WORKER_COUNTERS = [
  "connections",
  "active",
  "rejected",
  "upstream_errors",
  "aborted",
  "bytes_upstream",
  "bytes_downstream",
] as const;

function startLibcTcpRelay(
  host: LinkHost,
  options: RelayOptions,
): Promise<Relay | { refused: string }> {
  const where = formatAddress({ transport: "tcp", ...options.listen });
  const counters = WORKER_COUNTERS;
  const shared = new Float64Array(new SharedArrayBuffer(8 * counters.length));
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  // The proxy's counters read the Worker's while it runs; the host's links add to them.
  const { settle } = workerCounters(host.counters, counters, shared);
  const handOff = () => {
    const toxic = host.toxics("upstream").length + host.toxics("downstream").length > 0;
    Atomics.store(control, TCP_CONTROL.HAND_OFF, toxic ? 1 : 0);
  };
  handOff();
  const links = new Set<TcpLink>();
  let index = 0;
  const adopt = (m: Extract<TcpWorkerReply, { type: "hand-off" }>) => {
    const client = new net.Socket({ fd: m.client, allowHalfOpen: true });
    const upstream = new net.Socket({ fd: m.upstream, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // What the Worker read but could not write yet goes first.
    if (m.toUpstream) {
      host.counters.bytes_upstream += m.toUpstream.length;
      upstream.write(m.toUpstream);
    }
    if (m.toClient) {
      host.counters.bytes_downstream += m.toClient.length;
      client.write(m.toClient);
    }
    // The Worker counted it in HOST_ACTIVE when it handed it over.
    const link = new TcpLink(client, upstream, host, options.seed, index++);
    links.add(link);
    link.finished.then(() => {
      links.delete(link);
      host.counters.active--;
      Atomics.sub(control, TCP_CONTROL.HOST_ACTIVE, 1);
    });
  };
  return workers.start({
    type: "add",
    listen: options.listen,
    upstream: options.upstream,
    maxConnections: options.maxConnections,
    counters,
    counts: shared.buffer as SharedArrayBuffer,
    control: control.buffer as SharedArrayBuffer,
  }, {
    where,
    settle,
    other: (m) => {
      if (m.type === "hand-off") adopt(m);
    },
    bound: (m, _slot, finished) => ({
      listen: { transport: "tcp", hostname: m.hostname, port: m.port },
      io: "libc",
      sync: () => {
        handOff();
        for (const link of links) link.sync();
      },
      close: async () => {
        Atomics.store(control, TCP_CONTROL.STOP, 1);
        await finished;
        const done = [...links].map((link) => link.finished);
        for (const link of links) link.destroy();
        await Promise.all(done);
        settle();
      },
    }),
  });
}
