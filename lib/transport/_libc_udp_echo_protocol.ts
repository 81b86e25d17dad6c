// What startLibcUdpEcho() and its Worker say to each other.

/** Index of each counter in the shared counts. */
export const ECHO_COUNTERS = {
  IN: 0,
  OUT: 1,
  BYTES_IN: 2,
  BYTES_OUT: 3,
  SEND_ERRORS: 4,
  APART: 5,
  /** The socket's cumulative drop count (LibcUdpSocket.drops), -1 when the kernel keeps none. */
  RECEIVE_DROPS: 6,
} as const;

/** How many counters there are. */
export const ECHO_COUNTER_COUNT = 7;

/** What the host tells the worker. */
export interface EchoWorkerStart {
  hostname: string;
  port: number;
  reuseAddress: boolean;
  /** Datagrams to count apart: at least `minLength` bytes, starting with the big-endian `magic`. */
  apart?: { magic: number; minLength: number };
  counts: SharedArrayBuffer;
  stop: SharedArrayBuffer;
}

/** What the worker tells the host. */
export type EchoWorkerReply =
  | { type: "bound"; hostname: string; port: number; kernelTimestamps: boolean }
  | { type: "refused"; reason: string }
  | { type: "error"; call: string; errno: number }
  | { type: "closed" };
