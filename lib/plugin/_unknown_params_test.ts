import assert from "node:assert/strict";
import { z } from "zod";
import { findUnknownParams } from "./_unknown_params.ts";
import { paramsInputJsonSchema } from "./params_schema.ts";

const unknownOf = (schema: Record<string, unknown>, input: unknown) =>
  findUnknownParams(schema, input).unknown.map((u) => [u.path.join("."), u.suggestion]);

Deno.test("findUnknownParams() finds keys at any depth, in lists too, and drops them", () => {
  const schema = paramsInputJsonSchema(z.object({
    count: z.number().optional(),
    tls: z.object({ caFile: z.string().optional() }).optional(),
    routes: z.array(z.object({ path: z.string() })).optional(),
  }));
  const input = { cout: 1, tls: { cafile: "x" }, routes: [{ path: "/" }, { paht: "/a" }] };
  const found = findUnknownParams(schema, input);
  assert.deepEqual(found.unknown.map((u) => [u.path, u.suggestion]), [
    [["cout"], "count"],
    [["tls", "cafile"], "caFile"],
    [["routes", 1, "paht"], "path"],
  ]);
  assert.deepEqual(found.known, { tls: {}, routes: [{ path: "/" }, {}] });
  // Nothing unknown: the very same value comes back.
  const good = { count: 1 };
  assert.equal(findUnknownParams(schema, good).known, good);
});

Deno.test("findUnknownParams() accepts what the schema explicitly allows", () => {
  const schema = paramsInputJsonSchema(z.object({
    loose: z.looseObject({ a: z.string().optional() }),
    record: z.record(z.string(), z.object({ v: z.number() })),
    any: z.unknown(),
  }));
  assert.deepEqual(
    unknownOf(schema, { loose: { b: 1 }, record: { k: { v: 1, w: 2 } }, any: { z: 1 } }),
    [["record.k.w", "v"]],
  );
  const patterns = {
    type: "object",
    properties: { a: {} },
    patternProperties: { "^x-": { type: "object", properties: { n: {} } } },
    additionalProperties: false,
  };
  assert.deepEqual(unknownOf(patterns, { a: 1, "x-one": { n: 1, m: 2 }, b: 2 }), [
    ["x-one.m", "n"],
    ["b", "a"],
  ]);
});

Deno.test("findUnknownParams() reads unions, nullables, allOf and $ref", () => {
  const schema = paramsInputJsonSchema(z.object({
    auth: z.union([z.object({ user: z.string() }), z.object({ token: z.string() })]).nullable(),
  }));
  assert.deepEqual(unknownOf(schema, { auth: { user: "u", token: "t", tokn: "x" } }), [
    ["auth.tokn", "token"],
  ]);
  assert.deepEqual(unknownOf(schema, { auth: null }), []);
  const refs = {
    $defs: { Peer: { type: "object", properties: { host: {} }, additionalProperties: false } },
    allOf: [{ properties: { peer: { $ref: "#/$defs/Peer" } } }, { properties: { port: {} } }],
  };
  assert.deepEqual(unknownOf(refs, { peer: { hots: 1 }, port: 1, prot: 2 }), [
    ["peer.hots", "host"],
    ["prot", "port"],
  ]);
  // A reference that cannot be followed could declare anything.
  assert.deepEqual(unknownOf({ properties: { p: { $ref: "other.json" } } }, { p: { q: 1 } }), []);
});

Deno.test("findUnknownParams() lists missing required keys, and stops on cycles", () => {
  const schema = paramsInputJsonSchema(z.object({ target: z.string(), count: z.number() }));
  assert.deepEqual(findUnknownParams(schema, { count: 1 }).required, [["target"]]);
  const cyclic = { $ref: "#", properties: { a: {} }, additionalProperties: false };
  assert.deepEqual(unknownOf(cyclic, { b: 1 }), [["b", "a"]]);
});
