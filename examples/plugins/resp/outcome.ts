/**
 * What the resp client reports: every metric and fact of its outcome, for
 * `wiretest reference --plugins manifest.json` and for the test that checks
 * real outcomes against it (`outcomeProblems`).
 *
 * @module
 */
import { summaryMetricDeclarations } from "@wiretest/wiretest/metrics";
import type { OutcomeDeclaration } from "@wiretest/wiretest/plugin";

/** The resp client's outcome: metrics and facts, with units, types and when present. */
export const respOutcome: OutcomeDeclaration = {
  metrics: [
    { name: "connections", unit: "count", description: "Connections opened." },
    { name: "commands", unit: "count", description: "Commands sent (PING, SET, GET, INFO)." },
    { name: "ops", unit: "count", description: "SET/GET round trips completed." },
    {
      name: "mismatches",
      unit: "count",
      description: "GET replies that differ from the value SET.",
    },
    { name: "bytes_sent", unit: "bytes", description: "Bytes written, over all connections." },
    { name: "bytes_received", unit: "bytes", description: "Bytes read, over all connections." },
    { name: "ops_per_s", unit: "1/s", description: "SET/GET round trips per second." },
    ...summaryMetricDeclarations("connect", "the times to connect", "once a connection opened"),
    ...summaryMetricDeclarations("ping", "PING round trips", "once a PING was answered"),
    ...summaryMetricDeclarations("set", "SET round trips", "once a SET was answered"),
    ...summaryMetricDeclarations("get", "GET round trips", "once a GET was answered"),
  ],
  facts: [
    { path: "key_prefix", type: "string", description: "The prefix of this run's keys." },
    { path: "peer", type: "string", description: "The server's address." },
    {
      path: "redis_version",
      type: "string",
      description: "The server's version, from `INFO server`.",
      when: "when the server answers INFO",
    },
  ],
};
