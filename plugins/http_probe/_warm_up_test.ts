import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/mod.ts";
import { forgetWarmUps, warmUpConnect, warmUpExchange } from "./_warm_up.ts";
import type { TlsSettings } from "./_tls.ts";

const SETTINGS: TlsSettings = { insecure: false, client: "native" };

for (
  const [scheme, client, fact] of [
    ["http:", "native", "loopback-exchange"],
    ["https:", "native", "loopback-exchange-tls"],
    ["https:", "node", "loopback-exchange-tls"],
  ] as const
) {
  Deno.test(`warmUpExchange() runs three whole ${scheme} exchanges (${client} TLS client) with its own responder, bodies into the sink`, async () => {
    forgetWarmUps();
    using ctx = createContext();
    const bodies: string[] = [];
    const warm = await warmUpExchange(scheme, { ...SETTINGS, client }, ctx, () => {
      const index = bodies.push("") - 1;
      return (chunk: Uint8Array) => void (bodies[index] += new TextDecoder().decode(chunk));
    });
    assert.equal(warm, fact);
    // The body is read to its end through the sink, as the probe's first one is.
    assert.deepEqual(bodies, ["ok", "ok", "ok"]);
  });
}

Deno.test("warmUpExchange() over TLS trusts only its own CA, not the probe's settings", async () => {
  forgetWarmUps();
  using ctx = createContext();
  // A probe of another server with its own CA and insecure off still warms up.
  const settings: TlsSettings = {
    insecure: false,
    caCerts: ["not a certificate"],
    client: "native",
  };
  assert.equal(
    await warmUpExchange("https:", settings, ctx, () => () => {}),
    "loopback-exchange-tls",
  );
});

for (const scheme of ["http:", "https:"]) {
  Deno.test(`warmUpExchange() runs once per process and kind: a later ${scheme} probe's warm-up exchanges nothing`, async () => {
    forgetWarmUps();
    using ctx = createContext();
    let sinks = 0;
    const sink = () => {
      sinks++;
      return () => {};
    };
    const first = await warmUpExchange(scheme, SETTINGS, ctx, sink);
    assert.equal(sinks, 3);
    assert.equal(await warmUpExchange(scheme, SETTINGS, ctx, sink), first);
    assert.equal(sinks, 3);
    // Another TLS client is another kind: it runs its own.
    await warmUpExchange(scheme, { ...SETTINGS, client: "node" }, ctx, sink);
    assert.equal(sinks, scheme === "https:" ? 6 : 3);
  });
}

Deno.test("warmUpExchange() says none when the context is already cancelled", async () => {
  const controller = new AbortController();
  controller.abort();
  using ctx = createContext({ signal: controller.signal });
  assert.equal(await warmUpExchange("http:", SETTINGS, ctx, () => () => {}), "none");
  assert.equal(await warmUpExchange("https:", SETTINGS, ctx, () => () => {}), "none");
});

Deno.test("warmUpConnect() opens one loopback connection", async () => {
  assert.equal(await warmUpConnect(), true);
});
