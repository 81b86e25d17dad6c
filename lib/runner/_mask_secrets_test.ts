import assert from "node:assert/strict";
import { MASK, maskSecrets } from "./_mask_secrets.ts";

Deno.test("maskSecrets() replaces every secret in strings, keys and whole numbers, longest first", () => {
  const secrets = new Set(["tok", "token-123", "8080"]);
  const params = {
    headers: ["Authorization: Bearer token-123", "X-Other: tok tok"],
    "token-123": true,
    port: 8080,
    nested: { deep: ["a token-123 b"] },
    count: 3,
  };
  assert.deepEqual(JSON.parse(JSON.stringify(maskSecrets(params, secrets))), {
    headers: [`Authorization: Bearer ${MASK}`, `X-Other: ${MASK} ${MASK}`],
    [MASK]: true,
    port: MASK,
    nested: { deep: [`a ${MASK} b`] },
    count: 3,
  });
  assert.deepEqual(params.headers[0], "Authorization: Bearer token-123", "the input is unchanged");
});

Deno.test("maskSecrets() cuts long strings and keeps the result JSON-safe", () => {
  const masked = maskSecrets(
    { body: "x".repeat(2500), bytes: new Uint8Array(4), big: 10n, inf: Infinity, f: () => 1 },
    new Set(),
  ) as Record<string, unknown>;
  assert.equal(masked.body, `${"x".repeat(2000)}… (500 more characters)`);
  assert.equal(masked.bytes, "<4 bytes>");
  assert.equal(masked.big, "10");
  assert.equal(masked.inf, "Infinity");
  assert.equal(masked.f, undefined);
  assert.doesNotThrow(() => JSON.stringify(masked));
});
