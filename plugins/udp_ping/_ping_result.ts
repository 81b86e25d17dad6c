// What a client run hands pingUdp(), whichever I/O path ran it.
import type { LatencyHistogram } from "../../lib/metrics/mod.ts";

export interface PingResult {
  tally: {
    sent: number;
    received: number;
    duplicates: number;
    reordered: number;
    late: number;
    foreign: number;
    malformed: number;
    jitter: number;
    /** ICMP port-unreachable errors seen (the libc path only: the runtime's sockets cannot see them). */
    unreachable?: number;
    /** Warm-up pings sent, and answered while waited for (in no other counter). */
    warmUpSent: number;
    warmUpAnswered: number;
  };
  rtt: LatencyHistogram;
  /** Round-trip time by sequence number (PingTally.rttSeries), for the `rtt_by_seq` fact. */
  rttBySeq: [number, number | null, number][];
  durationMs: number;
  /** Why the run stopped early (abort, deadline, socket error); unset when it ran to the end. */
  error: unknown;
  /** The local address, formatted. */
  local: string;
  /** Which I/O path measured: libc through FFI, or the runtime's sockets. */
  io: "libc" | "deno";
  /**
   * Datagrams the kernel dropped on their way into the run's socket (its
   * receive buffer was full), or why they could not be counted.
   */
  receiveDrops: number | string;
  /** Which clock timed arrivals (see the udp-ping outcome's `clock` fact). */
  clock: "kernel-rx" | "realtime" | "performance.now";
}
