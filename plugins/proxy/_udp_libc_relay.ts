// The UDP side of a proxy on libc sockets, in a Worker shared with up to
// PROXIES_PER_WORKER - 1 other proxies (_udp_libc_worker.ts): what a socat
// relay does, with the toxics. Taken where FFI is granted for libc (the
// built-in manifest asks for it), else the relay on the runtime's sockets
// (_udp_relay.ts) serves.
import { formatAddress } from "../../lib/transport/mod.ts";
import { libcUdpRefusal, type UdpIo, workerRefusal } from "../../lib/transport/unstable_udp.ts";
import type { LinkHost } from "./_tcp_link.ts";
import type { Relay, RelayOptions } from "./_relay.ts";
import { startUdpRelay } from "./_udp_relay.ts";
import {
  CONTROL,
  type UdpWorkerAdd,
  type UdpWorkerReply,
  type WorkerToxics,
} from "./_udp_libc_protocol.ts";
import { RelayWorkers } from "./_relay_workers.ts";
import { workerCounters } from "./_worker_counters.ts";
import { PROXIES_PER_WORKER } from "./_tcp_libc_relay.ts";

const WORKER = new URL("./_udp_libc_worker.ts", import.meta.url);
const workers = new RelayWorkers<UdpWorkerAdd | WorkerToxics, UdpWorkerReply>(
  WORKER,
  PROXIES_PER_WORKER,
);

/** How many UDP relay Workers run now. */
export function udpRelayWorkers(): number {
  return workers.size;
}

/**
 * Starts a UDP relay on `io`'s sockets: `auto` takes libc's where it may
 * and the runtime's otherwise, `libc` throws a TypeError where it may not.
 */
export async function startUdpRelayOn(
  io: UdpIo,
  host: LinkHost,
  options: RelayOptions & { idleMs: number },
): Promise<Relay> {
  if (io !== "deno") {
    let refused = libcRelayRefusal(options);
    if (refused === undefined) {
      const relay = await startLibcUdpRelay(host, options, Object.keys(host.counters));
      if (!("refused" in relay)) return relay;
      refused = relay.refused;
    }
    if (io === "libc") throw new TypeError(`Cannot relay UDP on libc sockets: ${refused}`);
  }
  return startUdpRelay(host, options);
}

/** Why the libc relay cannot serve these addresses here, or `undefined` when it can. */
export function libcRelayRefusal(options: RelayOptions): string | undefined {
  return libcUdpRefusal([options.listen, options.upstream]) ??
    workerRefusal(WORKER);
}

/**
 * Starts the relay in a shared Worker; `{ refused }` when libc cannot be loaded
 * there. The counters named in `counters` are read from the Worker's shared
 * memory while it runs, then keep their last values.
 */
export function startLibcUdpRelay(
  host: LinkHost,
  options: RelayOptions & { idleMs: number },
  counters: readonly string[],
): Promise<Relay | { refused: string }> {
  const where = formatAddress({ transport: "udp", ...options.listen });
  const counts = new SharedArrayBuffer(8 * counters.length);
  const shared = new Float64Array(counts);
  const control = new Int32Array(new SharedArrayBuffer(4));
  // The proxy's counters read the Worker's while it runs.
  const { settle } = workerCounters(host.counters, counters, shared);
  return workers.start({
    type: "add",
    listen: options.listen,
    upstream: options.upstream,
    seed: options.seed,
    idleMs: options.idleMs,
    maxFlows: options.maxConnections,
    counters,
    counts,
    control: control.buffer as SharedArrayBuffer,
    upstreamToxics: [...host.toxics("upstream")],
    downstreamToxics: [...host.toxics("downstream")],
  }, {
    where,
    settle,
    bound: (m, slot, finished) => ({
      listen: { transport: "udp", hostname: m.hostname, port: m.port },
      io: "libc",
      sync: () =>
        slot.post({
          type: "toxics",
          upstream: [...host.toxics("upstream")],
          downstream: [...host.toxics("downstream")],
        }),
      close: async () => {
        Atomics.store(control, CONTROL.STOP, 1);
        await finished;
        settle();
      },
    }),
  });
}
