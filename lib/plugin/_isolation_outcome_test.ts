import assert from "node:assert/strict";
import { checkedFacts, MAX_SERVICE_FACTS } from "./_isolation_outcome.ts";

Deno.test("checkedFacts() keeps a service's string facts, on a null prototype", () => {
  const facts = checkedFacts({ io: "deno", fallback: "from libc: ffi is not granted" }, "p");
  assert.deepEqual({ ...facts }, { io: "deno", fallback: "from libc: ffi is not granted" });
  assert.equal(Object.getPrototypeOf(facts), null);
  const named = checkedFacts(JSON.parse('{"__proto__":"x"}'), "p");
  assert.equal(named.__proto__, "x");
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("checkedFacts() refuses facts a forged frame could send", () => {
  const cases: [unknown, string][] = [
    [[], "facts"],
    ["io libc", "facts"],
    [{ io: 1 }, "facts.io"],
    [{ io: { nested: "x" } }, "facts.io"],
    [{ io: "x".repeat(501) }, "facts.io"],
    [
      Object.fromEntries(Array.from({ length: MAX_SERVICE_FACTS + 1 }, (_, i) => [`f${i}`, ""])),
      "facts",
    ],
  ];
  for (const [value, field] of cases) {
    assert.throws(() => checkedFacts(value, "p"), {
      name: "TypeError",
      message: `Cannot start plugin "p": its process sent malformed service facts ("${field}")`,
    });
  }
});
