import assert from "node:assert/strict";
import { canonicalParams, PARAMS_CACHE_KEY_CHARS, ParamsCache } from "./_isolation_params_cache.ts";

Deno.test("canonicalParams() names plain JSON inputs and refuses what JSON would blur", () => {
  assert.equal(
    canonicalParams({ url: "http://a/", n: 1, on: true, x: null }),
    '{"url":"http://a/","n":1,"on":true,"x":null}',
  );
  assert.equal(canonicalParams([1, [2, { a: "b" }]]), '[1,[2,{"a":"b"}]]');
  // Each would stringify like another input (or not at all): parsed every time.
  for (
    const blurred of [
      { a: undefined },
      { a: Number.NaN },
      { a: Infinity },
      { a: -0 },
      { a: new Date(0) },
      { a: new Uint8Array(1) },
      { a: 1n },
      { a: () => 1 },
      [1, , 3],
      Object.assign(Object.create({ inherited: 1 }), { a: 1 }),
      Object.defineProperty({}, "hidden", { value: 1, enumerable: false }),
      { [Symbol("s")]: 1 },
      undefined,
    ]
  ) {
    assert.equal(canonicalParams(blurred), undefined, Deno.inspect(blurred));
  }
  assert.equal(canonicalParams({ body: "x".repeat(PARAMS_CACHE_KEY_CHARS) }), undefined);
});

Deno.test("ParamsCache parses an input once and never answers one input with another's params", () => {
  const cache = new ParamsCache(4);
  let parses = 0;
  const parse = (input: unknown) => {
    parses++;
    return { parsed: input };
  };
  const inputs = [
    { value: 1 },
    { value: "1" },
    { value: true },
    { value: "true" },
    { value: null },
    { value: "null" },
    { value: [1] },
    { value: ["1"] },
    { value: 1, extra: 0 },
  ];
  for (let round = 0; round < 3; round++) {
    for (const input of inputs) {
      assert.deepEqual(cache.parse("client", input, parse), { parsed: input });
    }
  }
  // Four entries kept: nine inputs in turn evict each other every round.
  assert.equal(parses, 27);
  assert.equal(cache.size, 4);
  parses = 0;
  const a = cache.parse("client", { value: 1 }, parse) as { parsed: { value: unknown } };
  // A run may change its params: the next one gets a copy as parsed, not the changed one.
  a.parsed.value = "changed";
  // Every later one too, each changing what it got.
  for (let hit = 0; hit < 3; hit++) {
    const b = cache.parse("client", { value: 1 }, parse) as { parsed: { value: unknown } };
    assert.deepEqual(b, { parsed: { value: 1 } }, `hit ${hit}`);
    assert.notEqual(b, a);
    (b.parsed as { value: unknown }).value = `changed by hit ${hit}`;
  }
  assert.equal(parses, 1);
  // The role is part of the key: a server's params are not a client's.
  cache.parse("server", { value: 1 }, parse);
  assert.equal(parses, 2);
});

Deno.test("ParamsCache parses each time when the parsed params are not plain JSON (a copy would differ)", () => {
  const cache = new ParamsCache();
  let parses = 0;
  const toUrl = (input: unknown) => (parses++, { url: new URL((input as { url: string }).url) });
  const a = cache.parse("client", { url: "http://a/" }, toUrl) as { url: URL };
  const b = cache.parse("client", { url: "http://a/" }, toUrl) as { url: URL };
  assert.ok(b.url instanceof URL);
  assert.notEqual(a, b);
  assert.equal(parses, 2);
  assert.equal(cache.size, 0);
});

Deno.test("ParamsCache keeps no failure and parses blurred inputs each time", () => {
  const cache = new ParamsCache();
  let parses = 0;
  const refuse = () => {
    parses++;
    throw new TypeError("bad");
  };
  assert.throws(() => cache.parse("client", { a: 1 }, refuse), TypeError);
  assert.throws(() => cache.parse("client", { a: 1 }, refuse), TypeError);
  assert.equal(parses, 2);
  assert.equal(cache.size, 0);
  const count = (input: unknown) => (parses++, input);
  cache.parse("client", { a: undefined }, count);
  cache.parse("client", { a: undefined }, count);
  assert.equal(parses, 4);
  assert.equal(cache.size, 0);
});
