/**
 * The proxy server role: the proxies its params declare and the
 * toxiproxy-compatible control API that drives them.
 *
 * @module
 */
import type { Context, Service } from "../../lib/plugin/mod.ts";
import { ConnectionError, formatAddress, toNetError } from "../../lib/transport/mod.ts";
import { handleControlRequest } from "./control_api.ts";
import type { ProxyServerParams } from "./params.ts";
import { ProxyCollection } from "./proxy.ts";
import { ProxyApiError } from "./proxy_api_error.ts";

/**
 * Starts the control API and the proxies of `params`. The service's address
 * is the control API's; each proxy listens on its own `listen` address (the
 * API and the client role's `facts.listen` tell it). `stats()` sums every
 * proxy's counters and adds `proxies` and `seed`.
 *
 * @param params Validated server params.
 * @param ctx The run context; aborting its signal closes the service.
 * @returns The running service.
 * @throws {ProxyApiError} When a declared proxy or toxic is invalid or cannot listen.
 *
 * @example A proxy in front of a TCP listener
 * ```ts
 * import { serveProxy } from "@wiretest/wiretest/plugins/proxy";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext();
 * const service = await serveProxy({
 *   host: "127.0.0.1", port: 0, seed: 7, udpFlowIdleMs: 60_000, maxConnections: 10_000, io: "auto",
 *   proxies: [],
 *   upstream: "127.0.0.1:9", name: "proxy", protocol: "tcp", toxics: [],
 * }, ctx);
 * const res = await fetch(`http://127.0.0.1:${(service.address as Deno.NetAddr).port}/proxies`);
 * assert.equal(Object.keys(await res.json()).join(), "proxy");
 * assert.equal(service.stats().seed, 7);
 * await service.close();
 * ```
 */
export async function serveProxy(params: ProxyServerParams, ctx: Context): Promise<Service> {
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const seed = params.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
  const proxies = new ProxyCollection({
    seed,
    udpFlowIdleMs: params.udpFlowIdleMs,
    maxConnections: params.maxConnections,
    udpIo: params.io,
  });
  const specs = [...params.proxies];
  if (params.upstream !== undefined) {
    specs.push({
      name: params.name,
      upstream: params.upstream,
      listen: params.listen,
      protocol: params.protocol,
      toxics: params.toxics,
    });
  }
  try {
    for (const spec of specs) {
      const proxy = await proxies.add(spec, spec.enabled ?? true);
      for (const toxic of spec.toxics ?? []) proxy.addToxic(toxic);
    }
  } catch (error) {
    await proxies.close();
    // An address the user gave that cannot be listened on is theirs to
    // change (serve makes a ConnectionError a usage error, exit 2).
    const cause = (error as Error).cause as Error | undefined;
    if (error instanceof ProxyApiError && cause?.name === "ConnectionError") {
      throw new ConnectionError({
        code: (cause as ConnectionError).code,
        operation: "listen",
        address: (cause as ConnectionError).address,
        cause: error,
      });
    }
    throw error;
  }
  const stopped = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: params.host,
      port: params.port,
      signal: stopped.signal,
      onListen: () => {},
      onError: (error) => {
        ctx.log("warn", `proxy control API: ${(error as Error).message}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, (request) => handleControlRequest(proxies, request));
  } catch (error) {
    await proxies.close();
    // In the transport's words (a ConnectionError, code address-in-use…),
    // not the runtime's "Address already in use (os error 98)".
    throw toNetError(
      error,
      "listen",
      formatAddress({ transport: "tcp", hostname: params.host, port: params.port }),
    );
  }
  const where = `http://${
    params.host.includes(":") ? `[${params.host}]` : params.host
  }:${server.addr.port}`;
  const loopback = params.host === "127.0.0.1" || params.host === "::1" ||
    params.host === "localhost";
  ctx.log(
    "info",
    `proxy control API on ${where} (${
      loopback ? "loopback only" : `reachable on ${params.host}`
    }); seed ${seed}`,
  );
  for (const proxy of proxies.all()) {
    ctx.log(
      "info",
      `proxy "${proxy.name}" (${proxy.protocol}) ${proxy.listen} -> ${proxy.upstream}`,
    );
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    ctx.signal.removeEventListener("abort", onAbort);
    return closing ??= (async () => {
      stopped.abort();
      await server.finished;
      await proxies.close();
    })();
  };
  const onAbort = () => void close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  return {
    address: server.addr,
    stats: () => ({ ...proxies.stats(), seed }),
    close,
  };
}
