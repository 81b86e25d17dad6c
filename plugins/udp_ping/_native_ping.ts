// The client run on the libc fast path: the loop runs in a Worker of its own
// (_native_ping_worker.ts); this side starts it, relays progress and logs,
// turns a stop (abort) into the shared flag, and rebuilds the outcome's
// pieces from what the worker reports.
import { LatencyHistogram } from "../../lib/metrics/mod.ts";
import type { Context } from "../../lib/plugin/mod.ts";
import { formatAddress, toNetError } from "../../lib/transport/mod.ts";
import { LibcError, workerRefusal } from "../../lib/transport/unstable_udp.ts";
import type { PingResult } from "./_ping_result.ts";

/** What the host tells the worker. */
export interface NativePingStart {
  bindHostname: string;
  peer: { hostname: string; port: number };
  id: number;
  size: number;
  count: number;
  warmUp: number;
  intervalMs: number;
  timeoutMs: number;
  stop: SharedArrayBuffer;
}

/** What the worker tells the host. */
export type NativePingReply =
  | { type: "started" }
  | { type: "refused"; reason: string }
  | { type: "bind-error"; call: string; errno: number }
  | { type: "log"; message: string }
  // The run threw (its socket is closed): the message of what it threw.
  | { type: "crashed"; message: string }
  | { type: "progress"; done: number }
  | {
    type: "done";
    local: { hostname: string; port: number };
    counts: Omit<PingResult["tally"], "issued">;
    rtts: Float64Array;
    rttBySeq: [number, number | null, number][];
    durationMs: number;
    kernelTimestamps: boolean;
    /** The socket's drop count at the end, or why there is none. */
    receiveDrops: number | string;
    failure?: { call: string; errno: number };
  };

/**
 * Runs the pings on the libc path. Resolves `{ refused }` when libc cannot
 * be loaded here (the caller falls back); rejects with a
 * `ConnectionError` when the socket cannot be bound.
 */
export function runNativePing(
  o: Omit<NativePingStart, "stop">,
  ctx: Context,
): Promise<PingResult | { refused: string }> {
  const module = new URL("./_native_ping_worker.ts", import.meta.url);
  const refused = workerRefusal(module);
  if (refused) return Promise.resolve({ refused });
  const stop = new SharedArrayBuffer(4);
  const where = formatAddress({ transport: "udp", ...o.peer });
  const worker = new Worker(module, { type: "module" });
  let stopReason: unknown;
  const onAbort = () => {
    stopReason ??= ctx.signal.reason;
    Atomics.store(new Int32Array(stop), 0, 1);
  };
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  return new Promise<PingResult | { refused: string }>((resolve, reject) => {
    let started = false;
    worker.onerror = (event) => {
      event.preventDefault();
      // Before it said "started" the Worker sent nothing (e.g. no read
      // permission for its module): a path that cannot be taken here.
      if (!started) resolve({ refused: `the ping's Worker did not start: ${event.message}` });
      else reject(new Error(`Cannot run the libc UDP ping: ${event.message}`));
    };
    worker.onmessage = ({ data: m }: MessageEvent<NativePingReply>) => {
      if (m.type === "started") started = true;
      else if (m.type === "log") ctx.log("debug", m.message);
      else if (m.type === "progress") {
        ctx.progress({ done: m.done, total: o.count, unit: "packets" });
      } else if (m.type === "refused") resolve({ refused: m.reason });
      else if (m.type === "crashed") {
        reject(new Error(`Cannot run the libc UDP ping: ${m.message}`));
      } else if (m.type === "bind-error") {
        const local = formatAddress({ transport: "udp", hostname: o.bindHostname, port: 0 });
        reject(toNetError(new LibcError(m.call, m.errno), "listen", local));
      } else {
        const rtt = new LatencyHistogram();
        for (const value of m.rtts) rtt.record(value);
        let error = stopReason;
        if (error === undefined && m.failure) {
          const operation = m.failure.call === "sendto" ? "send" : "receive";
          error = toNetError(new LibcError(m.failure.call, m.failure.errno), operation, where);
        }
        resolve({
          tally: { ...m.counts },
          rtt,
          rttBySeq: m.rttBySeq,
          durationMs: m.durationMs,
          error,
          local: formatAddress({ transport: "udp", ...m.local }),
          io: "libc",
          clock: m.kernelTimestamps ? "kernel-rx" : "realtime",
          receiveDrops: m.receiveDrops,
        });
      }
    };
    worker.postMessage({ ...o, stop } satisfies NativePingStart);
  }).finally(() => {
    ctx.signal.removeEventListener("abort", onAbort);
    worker.terminate();
  });
}
