// What the libc UDP relays (_udp_libc_relay.ts) and the Worker they share
// (_udp_libc_worker.ts, through _relay_workers.ts) say to each other, each
// proxy known by its `id`.
import type { RelayWorkerMessage } from "./_relay_workers.ts";
import type { Toxic } from "./toxics.ts";

/** Slots of a proxy's shared control array (Int32Array). */
export const CONTROL = { STOP: 0 } as const;

/**
 * The toxics of both streams of the proxy `id`. Posted through its slot, so
 * the Worker's loop yields to take them before it relays another datagram.
 */
export interface WorkerToxics extends RelayWorkerMessage {
  type: "toxics";
  upstream: Toxic[];
  downstream: Toxic[];
}

/** A proxy the host adds to a Worker. */
export interface UdpWorkerAdd extends RelayWorkerMessage {
  type: "add";
  listen: { hostname: string; port: number };
  upstream: { hostname: string; port: number };
  seed: number;
  idleMs: number;
  /** Most flows open at once; datagrams from new sources beyond it are dropped. */
  maxFlows: number | undefined;
  /** Counter names, in the order of `counts`' slots. */
  counters: readonly string[];
  /** Float64Array of the counters, written by the Worker only. */
  counts: SharedArrayBuffer;
  /** Int32Array: CONTROL slots. */
  control: SharedArrayBuffer;
  upstreamToxics: Toxic[];
  downstreamToxics: Toxic[];
}

/** What the Worker tells the host, about the proxy `id`. */
export type UdpWorkerReply =
  | { type: "bound"; id: number; hostname: string; port: number }
  | { type: "refused"; id: number; reason: string }
  | { type: "error"; id: number; call: string; errno: number }
  | { type: "closed"; id: number };
