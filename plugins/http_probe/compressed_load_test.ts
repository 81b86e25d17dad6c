// A load run's session with `compressed` decodes like a single probe: node:zlib
// is imported when the session opens (see _body_decoder.ts). Its own file, so
// no probe earlier in the same process has imported it already. Without it
// the iteration fails ("loadDecoders() was not awaited").
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { createContext, validateParams } from "../../lib/plugin/mod.ts";
import httpProbe from "./mod.ts";

Deno.test("an http-probe load session with compressed decodes a gzip body", async () => {
  const body = new TextEncoder().encode("the same line again\n".repeat(500));
  const encoded = new Uint8Array(gzipSync(body));
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(encoded, { headers: { "content-encoding": "gzip" } }),
  );
  const params = validateParams(httpProbe.client!.params, {
    url: `http://127.0.0.1:${server.addr.port}/`,
    compressed: true,
  });
  using ctx = createContext({ timeout: 10_000 });
  const session = await httpProbe.client!.session!(params, ctx);
  try {
    const outcome = await session.iterate(ctx);
    assert.equal(outcome.error?.message, undefined);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.status, 200);
    // The body went through the decoder: a load iteration reports wire bytes.
    assert.ok(outcome.metrics.bytes_received > encoded.length, JSON.stringify(outcome.metrics));
  } finally {
    await session.close();
  }
});
