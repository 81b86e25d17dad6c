// What the libc TCP relays (_tcp_libc_relay.ts) and the Worker they share
// (_tcp_libc_worker.ts, through _relay_workers.ts) say to each other, each
// proxy known by its `id`.
import type { RelayWorkerMessage } from "./_relay_workers.ts";

/** Slots of a proxy's shared control array (Int32Array). */
export const TCP_CONTROL = {
  /** 1: close this proxy's listener and connections, then reply `closed`. */
  STOP: 0,
  /** 1: a toxic is set, hand every connection to the host (node:net) as soon as it is connected. */
  HAND_OFF: 1,
  /** Connections handed to the host, not finished: they count against the cap (the Worker adds at hand-off, the host subtracts). */
  HOST_ACTIVE: 2,
} as const;

/** A proxy the host adds to a Worker. */
export interface TcpWorkerAdd extends RelayWorkerMessage {
  type: "add";
  listen: { hostname: string; port: number };
  upstream: { hostname: string; port: number };
  maxConnections?: number;
  /** Counter names, in the order of `counts`' slots. */
  counters: readonly string[];
  /** Float64Array of the counters, written by the Worker only. */
  counts: SharedArrayBuffer;
  /** Int32Array: TCP_CONTROL slots. */
  control: SharedArrayBuffer;
}

/** A connection the Worker hands to the host, with what it read but could not write yet. */
export interface TcpHandOff {
  type: "hand-off";
  id: number;
  client: number;
  upstream: number;
  /** Read from the client, not yet written to the upstream. */
  toUpstream: Uint8Array | null;
  /** Read from the upstream, not yet written to the client. */
  toClient: Uint8Array | null;
}

/** What the Worker tells the host, about the proxy `id`. */
export type TcpWorkerReply =
  | { type: "bound"; id: number; hostname: string; port: number }
  | { type: "refused"; id: number; reason: string }
  | { type: "error"; id: number; call: string; errno: number }
  | TcpHandOff
  | { type: "closed"; id: number };
