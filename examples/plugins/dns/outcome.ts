/**
 * What the dns client reports: every metric and fact of its outcome, for
 * `wiretest reference --plugins manifest.json` and for the test that checks
 * real outcomes against it (`outcomeProblems`).
 *
 * @module
 */
import { summaryMetricDeclarations } from "@wiretest/wiretest/metrics";
import type { OutcomeDeclaration } from "@wiretest/wiretest/plugin";

const ANSWERED = "once a response came";

/** The dns client's outcome: metrics and facts, with units, types and when present. */
export const dnsOutcome: OutcomeDeclaration = {
  metrics: [
    { name: "queries", unit: "count", description: "Queries sent." },
    { name: "responses", unit: "count", description: "Responses to our queries." },
    { name: "timeouts", unit: "count", description: "Queries unanswered within `timeoutMs`." },
    { name: "foreign", unit: "count", description: "Datagrams that answer none of our queries." },
    {
      name: "answers",
      unit: "count",
      description: "Records in the last response's answer section.",
      when: ANSWERED,
    },
    {
      name: "response_bytes",
      unit: "bytes",
      description: "Size of the last response.",
      when: ANSWERED,
    },
    ...summaryMetricDeclarations("rtt", "query-to-response times", ANSWERED),
  ],
  facts: [
    { path: "server", type: "string", description: "The server as given (`host:port`)." },
    {
      path: "rcode",
      type: "string",
      description: 'The last response code, e.g. `"NOERROR"`.',
      when: ANSWERED,
    },
    {
      path: "answers",
      type: "array",
      description: "The last response's answer records.",
      when: ANSWERED,
    },
    { path: "answers[]", type: "object", description: "One record." },
    {
      path: "answers[].name",
      type: "string",
      description: "Its owner name, without the final dot.",
    },
    { path: "answers[].type", type: "string", description: 'Its type, e.g. `"A"`.' },
    { path: "answers[].class", type: "number", description: "Its class (1 is IN)." },
    { path: "answers[].ttl", type: "number", description: "Seconds it may be cached." },
    { path: "answers[].data", type: "string", description: "Its data as text (an address for A)." },
    { path: "authoritative", type: "boolean", description: "The AA flag.", when: ANSWERED },
    { path: "truncated", type: "boolean", description: "The TC flag.", when: ANSWERED },
    { path: "recursion_available", type: "boolean", description: "The RA flag.", when: ANSWERED },
  ],
};
