// What the proxy roles report: the client's outcome (a proxy's counters and
// state) and the server's stats() (counters summed over its proxies).
// tests/outcome_declarations_test.ts checks them against real runs.
import type { MetricDeclaration, OutcomeDeclaration } from "../../lib/plugin/mod.ts";

const TCP = "tcp proxies";
const UDP = "udp proxies";

const counters: readonly MetricDeclaration[] = [
  { name: "connections", unit: "count", description: "Client connections accepted.", when: TCP },
  { name: "active", unit: "count", description: "Connections (udp: flows) open now." },
  {
    name: "upstream_errors",
    unit: "count",
    description: "Connections closed because the upstream could not be reached.",
    when: TCP,
  },
  {
    name: "rejected",
    unit: "count",
    description:
      "Connections closed at once (udp: datagrams of new sources dropped) over `maxConnections`.",
  },
  {
    name: "aborted",
    unit: "count",
    description: "Connections a peer ended with a reset or an error.",
    when: TCP,
  },
  { name: "bytes_upstream", unit: "bytes", description: "Bytes relayed client to upstream." },
  { name: "bytes_downstream", unit: "bytes", description: "Bytes relayed upstream to client." },
  {
    name: "latency_delayed",
    unit: "count",
    description: "Chunks (udp: datagrams) the latency toxic delayed.",
  },
  {
    name: "bandwidth_delayed_bytes",
    unit: "bytes",
    description: "Bytes paced by the bandwidth toxic.",
    when: TCP,
  },
  {
    name: "slow_close_delayed",
    unit: "count",
    description: "Closes the slow_close toxic delayed.",
    when: TCP,
  },
  {
    name: "timeout_dropped_bytes",
    unit: "bytes",
    description: "Bytes the timeout toxic held back (never delivered).",
    when: TCP,
  },
  {
    name: "timeout_closed",
    unit: "count",
    description: "Connections the timeout toxic closed.",
    when: TCP,
  },
  {
    name: "reset_peer_resets",
    unit: "count",
    description: "Connections the reset_peer toxic ended with a TCP reset.",
    when: TCP,
  },
  {
    name: "slicer_slices",
    unit: "count",
    description: "Slices the slicer toxic wrote.",
    when: TCP,
  },
  {
    name: "limit_data_closed",
    unit: "count",
    description: "Connections the limit_data toxic closed.",
    when: TCP,
  },
  { name: "flows", unit: "count", description: "Client flows opened.", when: UDP },
  {
    name: "flows_expired",
    unit: "count",
    description: "Flows forgotten after `udpFlowIdleMs` of silence.",
    when: UDP,
  },
  {
    name: "errors",
    unit: "count",
    description: "Datagrams that could not be received or sent.",
    when: UDP,
  },
  {
    name: "datagrams_upstream",
    unit: "count",
    description: "Datagrams sent to the upstream.",
    when: UDP,
  },
  {
    name: "datagrams_downstream",
    unit: "count",
    description: "Datagrams sent to clients.",
    when: UDP,
  },
  {
    name: "loss_dropped",
    unit: "count",
    description: "Datagrams the loss toxic dropped.",
    when: UDP,
  },
  {
    name: "loss_runs",
    unit: "count",
    description: "Runs of consecutive losses (mean run length: `loss_dropped / loss_runs`).",
    when: UDP,
  },
  {
    name: "duplicate_added",
    unit: "count",
    description: "Extra copies the duplicate toxic sent.",
    when: UDP,
  },
  {
    name: "reorder_held",
    unit: "count",
    description: "Datagrams the reorder toxic held back.",
    when: UDP,
  },
  {
    name: "corrupt_corrupted",
    unit: "count",
    description: "Datagrams the corrupt toxic flipped bits in.",
    when: UDP,
  },
  {
    name: "truncate_truncated",
    unit: "count",
    description: "Datagrams the truncate toxic cut.",
    when: UDP,
  },
  {
    name: "rate_delayed",
    unit: "count",
    description: "Datagrams the rate toxic queued.",
    when: UDP,
  },
  {
    name: "rate_dropped",
    unit: "count",
    description: "Datagrams the rate toxic dropped (queue full).",
    when: UDP,
  },
];

export const proxyOutcome: OutcomeDeclaration = {
  metrics: counters,
  facts: [
    { path: "name", type: "string", description: "The proxy's name." },
    { path: "listen", type: "string", description: "Where it listens, host:port." },
    { path: "upstream", type: "string", description: "Where it relays to." },
    { path: "enabled", type: "boolean", description: "`false` when down." },
    { path: "protocol", type: "string", description: '`"tcp"` or `"udp"`.' },
    { path: "toxics", type: "array", description: "Names of its toxics." },
    { path: "toxics[]", type: "string", description: "One toxic's name." },
  ],
};

export const proxyStats: readonly MetricDeclaration[] = [
  { name: "proxies", unit: "count", description: "Proxies the control API holds." },
  { name: "seed", unit: "count", description: "Seed of the toxics' randomness (replays them)." },
  ...counters,
];
