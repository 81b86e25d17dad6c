import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/mod.ts";
import { forgetWarmUps, warmUpConnect, warmUpExchange, type WarmUpRequest } from "./_warm_up.ts";
import type { Session } from "./_session.ts";
import type { TlsSettings } from "./_tls.ts";

const SETTINGS: TlsSettings = { insecure: false, client: "native" };

/** A warm-up request as a plain GET through `session`, its body into `sink`. */
function getThrough(sink: (chunk: Uint8Array) => void): WarmUpRequest {
  return async (session: Session, url: URL) => {
    const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    const exchange = await session.exchange({ url, method: "GET", head }, () => sink);
    return exchange.head.status;
  };
}

for (
  const [scheme, client, fact] of [
    ["http:", "native", "loopback-exchange"],
    ["https:", "native", "loopback-exchange-tls"],
    ["https:", "node", "loopback-exchange-tls"],
  ] as const
) {
  Deno.test(`warmUpExchange() runs three whole ${scheme} requests (${client} TLS client) of the caller's, answered by its own responder`, async () => {
    forgetWarmUps();
    using ctx = createContext();
    const seen: { url: string; fields: string[]; body: string }[] = [];
    const warm = await warmUpExchange(
      scheme,
      { ...SETTINGS, client },
      ctx,
      async (session, url) => {
        let body = "";
        const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
        const exchange = await session.exchange(
          { url, method: "GET", head },
          () => (chunk) => void (body += new TextDecoder().decode(chunk)),
        );
        seen.push({ url: url.href, fields: Object.keys(exchange.head.headers), body });
        return exchange.head.status;
      },
    );
    assert.equal(warm, fact);
    assert.equal(seen.length, 3);
    for (const { url, fields, body } of seen) {
      assert.match(url, new RegExp(`^${scheme}//127\\.0\\.0\\.1:\\d+/$`));
      // The body is read to its end, as the probe's first one is …
      assert.equal(body, "ok");
      // … after a head shaped like a common server's, so parsing one that
      // long runs before the clock too.
      assert.deepEqual(fields, [
        "server",
        "date",
        "content-type",
        "content-length",
        "last-modified",
        "connection",
        "etag",
        "accept-ranges",
      ]);
    }
  });
}

Deno.test("warmUpExchange() says none when the caller's request does not get a 200", async () => {
  forgetWarmUps();
  using ctx = createContext();
  let calls = 0;
  const warm = await warmUpExchange("http:", SETTINGS, ctx, async (session, url) => {
    calls++;
    await getThrough(() => {})(session, url);
    return 500;
  });
  assert.equal(warm, "none");
  // It stopped at the first, and the next call tries again.
  assert.equal(calls, 1);
  assert.equal(
    await warmUpExchange("http:", SETTINGS, ctx, getThrough(() => {})),
    "loopback-exchange",
  );
});

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
    await warmUpExchange("https:", settings, ctx, getThrough(() => {})),
    "loopback-exchange-tls",
  );
});

for (const scheme of ["http:", "https:"]) {
  Deno.test(`warmUpExchange() runs once per process and kind: a later ${scheme} probe's warm-up exchanges nothing`, async () => {
    forgetWarmUps();
    using ctx = createContext();
    let requests = 0;
    const counted: WarmUpRequest = (session, url) => {
      requests++;
      return getThrough(() => {})(session, url);
    };
    const first = await warmUpExchange(scheme, SETTINGS, ctx, counted);
    assert.equal(requests, 3);
    assert.equal(await warmUpExchange(scheme, SETTINGS, ctx, counted), first);
    assert.equal(requests, 3);
    // Another TLS client is another kind: it runs its own.
    await warmUpExchange(scheme, { ...SETTINGS, client: "node" }, ctx, counted);
    assert.equal(requests, scheme === "https:" ? 6 : 3);
  });
}

Deno.test("warmUpExchange() says none when the context is already cancelled", async () => {
  const controller = new AbortController();
  controller.abort();
  using ctx = createContext({ signal: controller.signal });
  assert.equal(await warmUpExchange("http:", SETTINGS, ctx, getThrough(() => {})), "none");
  assert.equal(await warmUpExchange("https:", SETTINGS, ctx, getThrough(() => {})), "none");
});

Deno.test("warmUpConnect() opens one loopback connection", async () => {
  assert.equal(await warmUpConnect(), true);
});
