import assert from "node:assert/strict";
import { z } from "zod";
import { definePlugin } from "./define_plugin.ts";
import {
  checkOutcomeDeclaration,
  type FactDeclaration,
  type OutcomeDeclaration,
  outcomeProblems,
  statsProblems,
} from "./outcome_declaration.ts";

const WHERE = 'plugin "x" (client)';

function declaring(facts: FactDeclaration[], metrics: OutcomeDeclaration["metrics"] = []) {
  return () => checkOutcomeDeclaration({ metrics, facts }, WHERE);
}

Deno.test("checkOutcomeDeclaration() refuses malformed declarations, naming the first", () => {
  const d = "a fact";
  assert.throws(
    declaring([], [{ name: "RttMs", unit: "ms", description: d }]),
    /: metric name "RttMs" is not snake_case$/,
  );
  assert.throws(
    declaring([], [
      { name: "rtt_ms", unit: "ms", description: d },
      { name: "rtt_ms", unit: "ms", description: d },
    ]),
    /: metric "rtt_ms" is declared twice$/,
  );
  assert.throws(
    declaring([], [{ name: "rtt_ms", unit: "", description: d }]),
    /: metric "rtt_ms" has no unit$/,
  );
  assert.throws(
    declaring([], [{ name: "rtt_ms", unit: "ms", description: "" }]),
    /: metric "rtt_ms" has no description$/,
  );
  assert.throws(
    declaring([{ path: "a", type: "string", description: d }, {
      path: "a",
      type: "string",
      description: d,
    }]),
    /: fact "a" is declared twice$/,
  );
  assert.throws(declaring([{ path: "a..b", type: "string", description: d }]), /fact "a\.\.b"/);
  assert.throws(
    declaring([{ path: "a", type: "text" as "string", description: d }]),
    /: fact "a" has type "text", not one of string, number/,
  );
  assert.throws(
    declaring([{ path: "list[]", type: "string", description: d }]),
    /: fact "list\[\]" is in "list", which is not declared as an array before it$/,
  );
  assert.throws(
    declaring([
      { path: "list", type: "object", description: d },
      { path: "list[]", type: "string", description: d },
    ]),
    /which is not declared as an array/,
  );
  assert.throws(
    declaring([{ path: "a", type: "string", description: d, when: "" }]),
    /: fact "a" has a "when" that is not text$/,
  );
  // Well formed: containers before their contents.
  declaring([
    { path: "list", type: "array", description: d },
    { path: "list[]", type: "object", description: d },
    { path: "list[].name", type: "string", description: d },
    { path: "map", type: "object", description: d },
    { path: "map.*", type: ["string", "null"], description: d },
  ])();
});

Deno.test("definePlugin() refuses a malformed outcome or stats declaration", () => {
  const run = () => Promise.resolve({ ok: true, metrics: {}, facts: {} });
  assert.throws(
    () =>
      definePlugin({
        name: "x",
        version: "1.0.0",
        description: "x",
        client: {
          params: z.object({}),
          run,
          outcome: { metrics: [{ name: "a-b", unit: "ms", description: "x" }], facts: [] },
        },
      }),
    /^TypeError: Cannot declare the outcome of plugin "x" \(client\): metric name "a-b"/,
  );
  assert.throws(
    () =>
      definePlugin({
        name: "x",
        version: "1.0.0",
        description: "x",
        server: {
          params: z.object({}),
          serve: () => Promise.reject(new Error("unused")),
          stats: [{ name: "n", unit: "count", description: "" }],
        },
      }),
    /^TypeError: Cannot declare the outcome of plugin "x" \(server\): stat "n" has no description/,
  );
});

const DECLARED: OutcomeDeclaration = {
  metrics: [
    { name: "sent", unit: "count", description: "s" },
    { name: "rtt_ms", unit: "ms", description: "r", when: "once a reply came" },
  ],
  facts: [
    { path: "peer", type: "string", description: "p" },
    { path: "tls", type: "object", description: "t", when: "for tls" },
    { path: "tls.alpn", type: ["string", "null"], description: "a" },
    { path: "tls.extra", type: "string", description: "e", when: "sometimes" },
    { path: "hops", type: "array", description: "h" },
    { path: "hops[]", type: "object", description: "h" },
    { path: "hops[].status", type: "number", description: "s" },
    { path: "headers", type: "object", description: "h" },
    { path: "headers.*", type: "string", description: "v" },
    { path: "headers.set-cookie", type: "array", description: "c" },
    { path: "headers.set-cookie[]", type: "string", description: "c" },
  ],
};

Deno.test("outcomeProblems() accepts an outcome that matches, wildcards and lists included", () => {
  const seen = new Set<string>();
  const problems = outcomeProblems(DECLARED, {
    ok: true,
    metrics: { sent: 2 },
    facts: {
      peer: "p",
      tls: { alpn: null },
      hops: [{ status: 301 }, { status: 302 }],
      headers: { "content-type": "text/plain", "set-cookie": ["a=1"] },
      ignored: undefined,
    },
  }, { seen });
  assert.deepEqual(problems, []);
  assert.deepEqual([...seen].sort(), [
    "facts.headers",
    "facts.headers.*",
    "facts.headers.set-cookie",
    "facts.headers.set-cookie[]",
    "facts.hops",
    "facts.hops[]",
    "facts.hops[].status",
    "facts.peer",
    "facts.tls",
    "facts.tls.alpn",
    "metrics.sent",
  ]);
});

Deno.test("outcomeProblems() names what is undeclared, mistyped or missing", () => {
  assert.deepEqual(
    outcomeProblems(DECLARED, {
      ok: true,
      metrics: { rtt_ms: 1, extra_ms: 2 },
      facts: {
        tls: { cipher: "x" },
        hops: [{ status: 301 }, { status: "302" }, {}],
        headers: { "set-cookie": "a=1", date: 5 },
        hop: [],
      },
    }),
    [
      'metric "extra_ms" is not declared',
      'metric "sent" is declared always present but missing',
      'fact "tls.cipher" is not declared',
      // Nested facts are required wherever their parent is.
      'fact "tls.alpn" is declared always present but missing',
      'fact "hops[1].status" is string, declared number',
      'fact "hops[2].status" is declared always present but missing',
      'fact "headers.set-cookie" is string, declared array',
      'fact "headers.date" is number, declared string',
      'fact "hop" is not declared',
      'fact "peer" is declared always present but missing',
    ],
  );
});

Deno.test("outcomeProblems() requires top-level fields only when ok, nested ones always", () => {
  assert.deepEqual(
    outcomeProblems(DECLARED, { ok: false, metrics: {}, facts: { hops: [{}] } }),
    ['fact "hops[0].status" is declared always present but missing'],
  );
});

Deno.test("statsProblems() checks names, numbers and always-present counters", () => {
  const declared = [
    { name: "requests", unit: "count", description: "r" },
    { name: "datagrams", unit: "count", description: "d", when: "udp" },
  ];
  assert.deepEqual(statsProblems(declared, { requests: 1 }), []);
  assert.deepEqual(
    statsProblems(declared, { datagrams: "1" as unknown as number, other: 0 }),
    [
      'stat "datagrams" is string, not a number',
      'stat "other" is not declared',
      'stat "requests" is declared always present but missing',
    ],
  );
});
