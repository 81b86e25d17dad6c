/**
 * The HTTP probe's server role: a small configurable HTTP/1.1 (and HTTPS)
 * responder on `Deno.serve`, so fixtures and examples have a target with
 * nothing installed.
 *
 * @module
 */
import { toNetError } from "../../lib/errors.ts";
import type { Context, Service } from "../../lib/plugin/types.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import type { HttpServerParams } from "./params.ts";

// Statuses whose responses have no body: a Response with a body throws.
const NULL_BODY = new Set([204, 205, 304]);

/**
 * Starts the responder: every request, whatever its method or path, gets
 * `status`, `headers` and `body` (repeated `bodyRepeat` times, streamed
 * chunked when `chunked` is set), after `delayMs`. It serves HTTPS when
 * `certFile` and `keyFile` are set.
 *
 * The service's `stats()` are `requests` (answered or being answered) and
 * `connections` (distinct client addresses seen, which is the number of
 * connections when clients do not reuse ports). `close()` stops accepting,
 * cuts pending delays short and resolves once every response is finished.
 *
 * @param params Validated server params.
 * @param _ctx The role's context (the responder runs until closed).
 * @returns The running service.
 * @throws {ConnectionError} When the address is in use (code `address-in-use`).
 *
 * @example Answering one request
 * ```ts
 * import { httpServerParams, serveHttp } from "@wiretest/wiretest/plugins/http-probe";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext();
 * const service = await serveHttp(validateParams(httpServerParams, { body: "hi" }), ctx);
 * const { hostname, port } = service.address as Deno.NetAddr;
 * const response = await fetch(`http://${hostname}:${port}/`);
 * assert.equal(await response.text(), "hi");
 * await service.close();
 * assert.equal(service.stats().requests, 1);
 * ```
 */
export async function serveHttp(params: HttpServerParams, _ctx: Context): Promise<Service> {
  const tls = params.certFile && params.keyFile
    ? {
      cert: await Deno.readTextFile(params.certFile),
      key: await Deno.readTextFile(params.keyFile),
    }
    : undefined;
  const headers = new Headers();
  for (const line of params.headers) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const chunk = new TextEncoder().encode(params.body);
  const hasBody = !NULL_BODY.has(params.status);
  if (hasBody && !params.chunked && params.bodyRepeat > 1) {
    headers.set("content-length", String(chunk.length * params.bodyRepeat));
  }
  const closing = new AbortController();
  const seen = new Set<string>();
  let requests = 0;

  const respond = (): Response => {
    if (!hasBody) return new Response(null, { status: params.status, headers });
    if (params.bodyRepeat === 1 && !params.chunked) {
      return new Response(chunk, { status: params.status, headers });
    }
    // One enqueue per repetition: a large body is never built in memory,
    // and a chunked response gets one chunk per repetition.
    let left = params.bodyRepeat;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- > 0) controller.enqueue(chunk);
        else controller.close();
      },
    });
    return new Response(body, { status: params.status, headers });
  };

  const handler: Deno.ServeHandler<Deno.NetAddr> = async (_request, info) => {
    requests++;
    const peer = info.remoteAddr;
    seen.add(`${peer.hostname}:${peer.port}`);
    if (params.delayMs > 0) await sleep(params.delayMs, closing.signal);
    return respond();
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname: params.host, port: params.port, ...tls, onListen() {} },
      handler,
    );
  } catch (error) {
    const where = formatAddress({ transport: "tcp", hostname: params.host, port: params.port });
    throw toNetError(error, "listen", where);
  }

  let closed: Promise<void> | undefined;
  return {
    address: server.addr,
    stats: () => ({ requests, connections: seen.size }),
    close: () => {
      closed ??= (async () => {
        closing.abort();
        await server.shutdown();
        await server.finished;
      })();
      return closed;
    },
  };
}

// Waits `ms`, or less when the server is closing.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
