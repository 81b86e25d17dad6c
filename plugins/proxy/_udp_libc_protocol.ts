// What the libc UDP relay (_udp_libc_relay.ts) and its Worker say to each other.
import type { Toxic } from "./toxics.ts";

/** Slots of the shared control array (Int32Array). */
export const CONTROL = { STOP: 0, VERSION: 1 } as const;

/** The toxics of both streams, numbered: the Worker applies a version once it has it. */
export interface WorkerToxics {
  type: "toxics";
  version: number;
  upstream: Toxic[];
  downstream: Toxic[];
}

/** What the host tells the Worker first. */
export interface UdpWorkerStart {
  type: "start";
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
  toxics: WorkerToxics;
}

/** What the Worker tells the host. */
export type UdpWorkerReply =
  | { type: "bound"; hostname: string; port: number }
  | { type: "refused"; reason: string }
  | { type: "error"; call: string; errno: number }
  | { type: "closed" };
