// What the echo roles report: every metric and fact of the client's outcome
// (client.ts) and every counter of the server's stats() (server.ts).
// tests/outcome_declarations_test.ts checks them against real runs.
import { summaryMetricDeclarations } from "../../lib/metrics/mod.ts";
import type { MetricDeclaration, OutcomeDeclaration } from "../../lib/plugin/mod.ts";

const STREAM = "stream transports (tcp, tls, unix)";

export const echoOutcome: OutcomeDeclaration = {
  metrics: [
    {
      name: "bytes_sent",
      unit: "bytes",
      description: "Payload bytes written, over all connections.",
    },
    {
      name: "bytes_received",
      unit: "bytes",
      description: "Echoed bytes read back, over all connections.",
    },
    {
      name: "round_trips",
      unit: "count",
      description: "Round trips completed (payload out, as many bytes back).",
    },
    {
      name: "mismatches",
      unit: "bytes",
      description: "Bytes read back that differ from those sent.",
    },
    {
      name: "connections",
      unit: "count",
      description: "Connections opened (for udp: sockets bound).",
    },
    {
      name: "errors",
      unit: "count",
      description: "Connections that ended in an error (refused, timed out, closed early).",
    },
    {
      name: "connect_ms",
      unit: "ms",
      description: "Mean time to connect, TLS handshake included.",
      when: `${STREAM}, once a connection opened`,
    },
    {
      name: "connect_p99_ms",
      unit: "ms",
      description: "99th percentile of the times to connect.",
      when: `${STREAM}, once a connection opened`,
    },
    ...summaryMetricDeclarations("rtt", "round-trip times", "once a round trip completed"),
    {
      name: "round_trips_per_s",
      unit: "1/s",
      description: "Round trips per second over the whole run.",
    },
    {
      name: "throughput_mib_s",
      unit: "MiB/s",
      description: "Bytes echoed back per second over the whole run.",
    },
    {
      name: "duration_ms",
      unit: "ms",
      description: "The whole run, from the first connect to the last close.",
    },
  ],
  facts: [
    { path: "transport", type: "string", description: '`"tcp"`, `"tls"`, `"unix"` or `"udp"`.' },
    {
      path: "target",
      type: "string",
      description: "The target as given (`host:port` or `unix:/path`).",
    },
    {
      path: "payload_bytes",
      type: "number",
      description: "Size of the payload sent in each round trip.",
    },
    {
      path: "rtt_percentiles",
      type: "array",
      description:
        "Percentile curve of the round-trip times: `[percentile, ms]` pairs, at most 13.",
      when: "once a round trip completed",
    },
    { path: "rtt_percentiles[]", type: "array", description: "One `[percentile, ms]` pair." },
    {
      path: "rtt_percentiles[][]",
      type: "number",
      description: "The percentile (0 to 100), then the round-trip time in ms.",
    },
  ],
};

export const echoStats: readonly MetricDeclaration[] = [
  { name: "connections", unit: "count", description: "Connections accepted.", when: STREAM },
  { name: "active", unit: "count", description: "Connections open now.", when: STREAM },
  {
    name: "rejected",
    unit: "count",
    description: "Connections closed at once for being over `maxConnections`.",
    when: STREAM,
  },
  {
    name: "idle_closed",
    unit: "count",
    description: "Connections closed after `idleTimeoutMs` of silence.",
    when: STREAM,
  },
  {
    name: "aborted",
    unit: "count",
    description:
      "Connections the peer ended without a clean close (a reset, TLS without close_notify).",
    when: STREAM,
  },
  { name: "datagrams", unit: "count", description: "Datagrams received.", when: "udp" },
  {
    name: "errors",
    unit: "count",
    description: "Connections (udp: datagrams) that failed otherwise.",
  },
  { name: "bytes_in", unit: "bytes", description: "Bytes received." },
  { name: "bytes_out", unit: "bytes", description: "Bytes echoed back." },
];
