// runClient and startServer take what the role's schema takes: a wrong or
// missing param is a compile error (checked here with @ts-expect-error,
// which fails `deno check` once the error is gone), and what a plugin gets
// is the schema's output.
import assert from "node:assert/strict";
import { z } from "zod";
import echo from "../../plugins/echo/mod.ts";
import { formatAddress } from "../transport/address.ts";
import { definePlugin } from "./define_plugin.ts";
import type { ParamsInput, ParamsOutput } from "./params_schema.ts";
import { ParamsError } from "./params_schema.ts";
import { runClient, startServer } from "./run.ts";

const addParams = z.object({ a: z.number(), b: z.number().default(1) });

const add = definePlugin({
  name: "add",
  version: "1.0.0",
  description: "Adds two numbers.",
  client: {
    params: addParams,
    run: (p) => Promise.resolve({ ok: true, metrics: { sum: p.a + p.b }, facts: {} }),
  },
});

Deno.test("runClient() takes the client schema's input type, inferred by definePlugin", async () => {
  const input: ParamsInput<typeof addParams> = { a: 2 };
  assert.equal((await runClient(add, input)).metrics.sum, 3);
  // @ts-expect-error: "a" is a number in the schema
  await assert.rejects(() => runClient(add, { a: "2" }), ParamsError);
  // @ts-expect-error: "a" is required
  await assert.rejects(() => runClient(add, {}), ParamsError);
  // @ts-expect-error: "c" is not a param
  await assert.rejects(() => runClient(add, { a: 1, c: 1 }), ParamsError);
  // Data of unknown shape (a fixture's, the CLI's) does not widen the type: it is cast on purpose.
  const raw: unknown = { a: 1 };
  // @ts-expect-error: unknown is not the schema's input
  assert.equal((await runClient(add, raw)).metrics.sum, 2);
});

Deno.test("ParamsOutput is what the role receives, defaults filled in", () => {
  const params: ParamsOutput<typeof addParams> = { a: 1, b: 2 };
  // @ts-expect-error: "b" has a default, so the role always gets it
  const missing: ParamsOutput<typeof addParams> = { a: 1 };
  assert.deepEqual([params, missing], [{ a: 1, b: 2 }, { a: 1 }]);
});

Deno.test("a built-in plugin's runClient and startServer are typed without a wrapper", async () => {
  // @ts-expect-error: "transport" is one of four names
  await assert.rejects(() => startServer(echo, { transport: "sctp" }), ParamsError);
  const server = await startServer(echo, { transport: "tcp" });
  try {
    // @ts-expect-error: "target" is required
    await assert.rejects(() => runClient(echo, { count: 1 }), ParamsError);
    const outcome = await runClient(echo, { target: formatAddress(server.address), count: 2 });
    assert.equal(outcome.metrics.round_trips, 2);
  } finally {
    await server.close();
  }
});
