import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/mod.ts";
import { warmUpConnect, warmUpExchange } from "./_warm_up.ts";

Deno.test("warmUpExchange() runs three whole exchanges with its own responder, bodies into the sink", async () => {
  using ctx = createContext();
  const bodies: string[] = [];
  const warm = await warmUpExchange({ insecure: false, client: "native" }, ctx, () => {
    const index = bodies.push("") - 1;
    return (chunk) => void (bodies[index] += new TextDecoder().decode(chunk));
  });
  assert.equal(warm, "loopback-exchange");
  // The body is read to its end through the sink, as the probe's first one is.
  assert.deepEqual(bodies, ["ok", "ok", "ok"]);
});

Deno.test("warmUpExchange() says none when the context is already cancelled", async () => {
  const controller = new AbortController();
  controller.abort();
  using ctx = createContext({ signal: controller.signal });
  assert.equal(
    await warmUpExchange({ insecure: false, client: "native" }, ctx, () => () => {}),
    "none",
  );
});

Deno.test("warmUpConnect() opens one loopback connection", async () => {
  assert.equal(await warmUpConnect(), true);
});
