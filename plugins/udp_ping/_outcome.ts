// What the udp-ping roles report: every metric and fact of the client's
// outcome (client.ts, _ping_run.ts) and every counter of the server's
// stats() (server.ts). tests/outcome_declarations_test.ts checks them
// against real runs.
import { summaryMetricDeclarations } from "../../lib/metrics/mod.ts";
import type { MetricDeclaration, OutcomeDeclaration } from "../../lib/plugin/mod.ts";

export const udpPingOutcome: OutcomeDeclaration = {
  metrics: [
    { name: "sent", unit: "count", description: "Pings sent." },
    {
      name: "received",
      unit: "count",
      description: "Pings whose first echo came within `timeoutMs`.",
    },
    {
      name: "lost",
      unit: "count",
      description: "Pings sent but not received (`sent - received`, late ones included).",
    },
    {
      name: "loss_pct",
      unit: "%",
      description: "`lost` as a percentage of `sent`.",
      when: "once a ping was sent",
    },
    {
      name: "duplicates",
      unit: "count",
      description: "Further echoes of a ping already received or late.",
    },
    {
      name: "reordered",
      unit: "count",
      description: "Received pings that arrived after an echo of a newer ping.",
    },
    {
      name: "late",
      unit: "count",
      description: "Pings whose first echo came after `timeoutMs` (also counted lost).",
    },
    {
      name: "foreign",
      unit: "count",
      description:
        "Datagrams from another address or port, or without this run's magic and identifier.",
    },
    {
      name: "malformed",
      unit: "count",
      description:
        "Datagrams with this run's identifier but cut, lengthened, garbled, or for a ping never sent.",
    },
    {
      name: "unreachable",
      unit: "count",
      description:
        "ICMP port-unreachable errors the kernel reported for sent pings (nothing listened at the target then).",
      when: 'io is "libc" (the runtime\'s sockets cannot see ICMP errors)',
    },
    {
      name: "receive_drops",
      unit: "count",
      description:
        "Datagrams this host's kernel dropped on their way into the run's own socket, its receive buffer full: lost here, not on the network.",
      when:
        'counted: on io "libc" wherever the kernel keeps the count; on io "deno" only where /proc/net/udp can be read (Linux, --allow-all)',
    },
    ...summaryMetricDeclarations(
      "rtt",
      "the round-trip times of received pings",
      "once a ping was received",
    ),
    {
      name: "jitter_ms",
      unit: "ms",
      description: "RFC 3550 interarrival jitter of the round-trip times, in arrival order.",
      when: "once two pings were received",
    },
    { name: "duration_ms", unit: "ms", description: "From the first send to the end of the run." },
  ],
  facts: [
    { path: "target", type: "string", description: "The target as given (`host:port`)." },
    {
      path: "peer",
      type: "string",
      description: "The address pinged, the name resolved (`ip:port`).",
    },
    {
      path: "local",
      type: "string",
      description: "The local address the pings left from (`ip:port`).",
    },
    {
      path: "identifier",
      type: "string",
      description: "This run's random identifier, 8 hex digits, in every ping.",
    },
    {
      path: "rtt_percentiles",
      type: "array",
      description:
        "Percentile curve of the round-trip times: `[percentile, ms]` pairs, at most 13.",
      when: "once a ping was received",
    },
    { path: "rtt_percentiles[]", type: "array", description: "One `[percentile, ms]` pair." },
    {
      path: "rtt_percentiles[][]",
      type: "number",
      description: "The percentile (0 to 100), then the round-trip time in ms.",
    },
    {
      path: "rtt_by_seq",
      type: "array",
      description:
        "Round-trip time by sequence number, at most 500 points, each over as many consecutive pings.",
      when: "once a ping was sent",
    },
    {
      path: "rtt_by_seq[]",
      type: "array",
      description: "`[first seq, largest rtt ms or null when none came back, pings lost]`.",
    },
    {
      path: "rtt_by_seq[][]",
      type: ["number", "null"],
      description: "The first sequence number, the largest round trip, the losses.",
    },
    {
      path: "warm_up",
      type: "object",
      description:
        "The untimed warm-up pings sent before the timed ones (`warmUp`), which are in no metric.",
    },
    {
      path: "warm_up.sent",
      type: "number",
      description: "Warm-up pings sent (0 with `warmUp: 0`; fewer when one went unanswered).",
    },
    {
      path: "warm_up.answered",
      type: "number",
      description:
        "Warm-up pings whose echo came while it was waited for (up to `timeoutMs`, at most 1 s).",
    },
    {
      path: "io",
      type: "string",
      description:
        "Which I/O path measured: `libc` (blocking libc calls through FFI in a Worker of its own) or `deno` (the runtime's sockets).",
    },
    {
      path: "clock",
      type: "string",
      description:
        "What timed arrivals: `kernel-rx` (the kernel's SO_TIMESTAMPNS receive timestamp; sends by clock_gettime right before sendto), `realtime` (clock_gettime after recvmsg) or `performance.now` (when the runtime delivered the datagram).",
    },
    {
      path: "receive_drops_unknown",
      type: "string",
      description:
        "Why `receive_drops` could not be counted (e.g. /proc/net/udp unreadable without --allow-all).",
      when: "receive_drops is absent",
    },
  ],
};

export const udpPingStats: readonly MetricDeclaration[] = [
  { name: "datagrams_in", unit: "count", description: "Datagrams received, warm-up pings apart." },
  {
    name: "datagrams_out",
    unit: "count",
    description: "Datagrams echoed back, warm-up pings apart.",
  },
  { name: "bytes_in", unit: "bytes", description: "Bytes received, warm-up pings apart." },
  { name: "bytes_out", unit: "bytes", description: "Bytes echoed back, warm-up pings apart." },
  {
    name: "warm_up_in",
    unit: "count",
    description:
      "Warm-up pings received (a client's untimed pings before its timed ones): echoed like the rest, counted only here.",
  },
  {
    name: "send_errors",
    unit: "count",
    description: "Echoes the kernel refused (e.g. its buffers were full); the server goes on.",
  },
  {
    name: "receive_drops",
    unit: "count",
    description:
      "Datagrams this host's kernel dropped on their way into the server's socket, its receive buffer full (the server fell behind a burst): in no other counter, and lost here, not on the network.",
    when: 'io is "libc" (where the kernel keeps the count)',
  },
];
