// The UDP side of a proxy on libc sockets, in a Worker of its own
// (_udp_libc_worker.ts): what a socat relay does, with the toxics. Taken
// where FFI is granted for libc (the built-in manifest asks for it), else
// the relay on the runtime's sockets (_udp_relay.ts) serves.
import { formatAddress, toNetError } from "../../lib/transport/mod.ts";
import {
  LibcError,
  libcUdpRefusal,
  type UdpIo,
  workerRefusal,
} from "../../lib/transport/unstable_udp.ts";
import type { LinkHost } from "./_tcp_link.ts";
import type { Relay, RelayOptions } from "./_relay.ts";
import { startUdpRelay } from "./_udp_relay.ts";
import {
  CONTROL,
  type UdpWorkerReply,
  type UdpWorkerStart,
  type WorkerToxics,
} from "./_udp_libc_protocol.ts";

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
    workerRefusal(new URL("./_udp_libc_worker.ts", import.meta.url));
}

/**
 * Starts the relay in its Worker; `{ refused }` when libc cannot be loaded
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
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./_udp_libc_worker.ts", import.meta.url), { type: "module" });
  let version = 0;
  const toxicsMessage = (): WorkerToxics => ({
    type: "toxics",
    version,
    upstream: [...host.toxics("upstream")],
    downstream: [...host.toxics("downstream")],
  });
  // The proxy's counters read the Worker's while it runs, on top of what
  // earlier runs (before a `down`) counted.
  const base = counters.map((name) => host.counters[name] ?? 0);
  const live = () =>
    counters.forEach((name, i) =>
      Object.defineProperty(host.counters, name, {
        enumerable: true,
        configurable: true,
        get: () => base[i] + shared[i],
        set: (value: number) => base[i] = value - shared[i],
      })
    );
  const settle = () =>
    counters.forEach((name, i) =>
      Object.defineProperty(host.counters, name, {
        enumerable: true,
        configurable: true,
        writable: true,
        value: base[i] + shared[i],
      })
    );
  let ended!: () => void;
  const finished = new Promise<void>((resolve) => ended = resolve);
  let started = false;
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      if (!started) resolve({ refused: `the relay's Worker did not start: ${event.message}` });
      else ended();
    };
    worker.onmessage = ({ data: m }: MessageEvent<UdpWorkerReply>) => {
      if (m.type === "bound") {
        started = true;
        live();
        resolve({
          listen: { transport: "udp", hostname: m.hostname, port: m.port },
          io: "libc",
          sync: () => {
            version++;
            worker.postMessage(toxicsMessage());
            Atomics.store(control, CONTROL.VERSION, version);
          },
          close: async () => {
            Atomics.store(control, CONTROL.STOP, 1);
            await finished;
            settle();
            worker.terminate();
          },
        });
      } else if (m.type === "refused") {
        worker.terminate();
        resolve({ refused: m.reason });
      } else if (m.type === "error" && !started) {
        worker.terminate();
        reject(toNetError(new LibcError(m.call, m.errno), "listen", where));
      } else {
        // Closed, or failed while relaying (counted where it can be: the loop ended).
        ended();
      }
    };
    worker.postMessage(
      {
        type: "start",
        listen: options.listen,
        upstream: options.upstream,
        seed: options.seed,
        idleMs: options.idleMs,
        maxFlows: options.maxConnections,
        counters,
        counts,
        control: control.buffer as SharedArrayBuffer,
        toxics: toxicsMessage(),
      } satisfies UdpWorkerStart,
    );
  });
}
