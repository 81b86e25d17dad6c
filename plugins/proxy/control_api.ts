/**
 * The toxiproxy-compatible HTTP control API: the same routes, JSON shapes and
 * status codes as toxiproxy 2's `api.go`, so its clients drive wiretest's
 * proxy unchanged. One addition: `GET /proxies/{proxy}/stats`, the proxy's
 * counters.
 *
 * @module
 */
import type { ProxyCollection, ProxyInput } from "./proxy.ts";
import { ProxyApiError } from "./proxy_api_error.ts";
import { urlNameProblem } from "./_url_name.ts";

/** The version `GET /version` reports. */
export const PROXY_API_VERSION = "wiretest-proxy-0.1.0";

// A control request is a few hundred bytes; this bounds a hostile one.
const MAX_BODY_BYTES = 1 << 20;

/**
 * Answers one control API request.
 *
 * @param proxies The proxies it drives.
 * @param request The request.
 * @returns toxiproxy's answer: JSON, errors as `{"error", "status"}`.
 *
 * @example Creating a proxy through the handler
 * ```ts
 * import { handleControlRequest, ProxyCollection } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const proxies = new ProxyCollection({ seed: 1, udpFlowIdleMs: 60_000 });
 * const created = await handleControlRequest(proxies, new Request("http://x/proxies", {
 *   method: "POST",
 *   body: JSON.stringify({ name: "db", upstream: "127.0.0.1:9" }),
 * }));
 * assert.equal(created.status, 201);
 * const missing = await handleControlRequest(proxies, new Request("http://x/proxies/nope"));
 * assert.equal(missing.status, 404);
 * assert.deepEqual(JSON.parse(await missing.text()), { error: "proxy not found", status: 404 });
 * await proxies.close();
 * ```
 */
export async function handleControlRequest(
  proxies: ProxyCollection,
  request: Request,
): Promise<Response> {
  // toxiproxy refuses browsers: a page cannot drive the API behind a user's back.
  if ((request.headers.get("user-agent") ?? "").startsWith("Mozilla/")) {
    return new Response("User agent not allowed\n", {
      status: 403,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const url = new URL(request.url);
  const method = request.method;
  try {
    const parts = url.pathname.split("/").slice(1).map((part) => decodePart(url.pathname, part));
    const route = routeOf(parts);
    if (route === undefined) return notFound();
    const allowed = ALLOWED[route];
    if (!allowed.includes(method)) return new Response(null, { status: 405 });
    switch (route) {
      case "version":
        return new Response(`{"version": "${PROXY_API_VERSION}"}\n`, {
          headers: { "content-type": "application/json;charset=utf-8" },
        });
      case "reset":
        await proxies.reset();
        return new Response(null, { status: 204 });
      case "proxies": {
        if (method === "GET") {
          const all: Record<string, unknown> = {};
          for (const proxy of proxies.all()) all[proxy.name] = proxy.toJSON();
          return json(all);
        }
        const body = object(await readJson(request));
        const input = proxyInput(body);
        const proxy = await proxies.add(
          input,
          body.enabled === undefined ? true : body.enabled === true,
        );
        return json(proxy.toJSON(), 201);
      }
      case "populate": {
        const body = await readJson(request);
        if (!Array.isArray(body)) throw badBody("expected a JSON array of proxies");
        const inputs = body.map((item, i) => {
          try {
            return { input: proxyInput(object(item)), enabled: object(item).enabled !== false };
          } catch (error) {
            if (error instanceof ProxyApiError) {
              throw new ProxyApiError(`${error.message} at proxy ${i + 1}`, error.status);
            }
            throw error;
          }
        });
        const done = [];
        for (const { input, enabled } of inputs) {
          try {
            done.push(await proxies.addOrReplace(input, enabled));
          } catch (error) {
            const e = error instanceof ProxyApiError
              ? error
              : new ProxyApiError(String(error), 500);
            return json({
              error: e.message,
              status: e.status,
              proxies: done.map((p) => p.toJSON()),
            }, e.status);
          }
        }
        return json({ proxies: done.map((p) => p.toJSON()) }, 201);
      }
      case "proxy": {
        const proxy = proxies.get(parts[1]);
        if (method === "GET") return json(proxy.toJSON());
        if (method === "DELETE") {
          await proxies.remove(proxy.name);
          return new Response(null, { status: 204 });
        }
        const body = object(await readJson(request));
        for (const key of Object.keys(body)) {
          if (!["name", "listen", "upstream", "enabled", "protocol"].includes(key)) {
            throw badBody(`unknown field "${key}"`);
          }
        }
        await proxy.update({
          listen: optionalString(body, "listen"),
          upstream: optionalString(body, "upstream"),
          enabled: optionalBoolean(body, "enabled"),
        });
        return json(proxy.toJSON());
      }
      case "stats":
        return json(proxies.get(parts[1]).counters);
      case "toxics": {
        const proxy = proxies.get(parts[1]);
        if (method === "GET") return json(proxy.allToxics());
        // toxiproxy answers a created toxic with 200, not 201.
        return json(proxy.addToxic(await readJson(request)));
      }
      case "toxic": {
        const proxy = proxies.get(parts[1]);
        if (method === "GET") return json(proxy.toxic(parts[3]));
        if (method === "DELETE") {
          proxy.removeToxic(parts[3]);
          return new Response(null, { status: 204 });
        }
        return json(proxy.updateToxic(parts[3], await readJson(request)));
      }
    }
  } catch (error) {
    const e = error instanceof ProxyApiError
      ? error
      : new ProxyApiError((error as Error).message ?? String(error), 500, { cause: error });
    // Go's http.Error: plain text content type, the JSON, a newline.
    return new Response(JSON.stringify({ error: e.message, status: e.status }) + "\n", {
      status: e.status,
      headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
    });
  }
}

type Route = "version" | "reset" | "proxies" | "populate" | "proxy" | "stats" | "toxics" | "toxic";

const ALLOWED: Record<Route, readonly string[]> = {
  version: ["GET"],
  reset: ["POST"],
  proxies: ["GET", "POST"],
  populate: ["POST"],
  proxy: ["GET", "POST", "PATCH", "DELETE"],
  stats: ["GET"],
  toxics: ["GET", "POST"],
  toxic: ["GET", "POST", "PATCH", "DELETE"],
};

function routeOf(parts: string[]): Route | undefined {
  const [a, b, c, d] = parts;
  if (parts.length === 1) {
    return a === "version" || a === "reset" || a === "proxies" || a === "populate" ? a : undefined;
  }
  if (a !== "proxies" || b === "") return undefined;
  if (parts.length === 2) return "proxy";
  if (parts.length === 3 && c === "toxics") return "toxics";
  if (parts.length === 3 && c === "stats") return "stats";
  if (parts.length === 4 && c === "toxics" && d !== "") return "toxic";
  return undefined;
}

function decodePart(path: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new ProxyApiError(
      `bad request path: ${JSON.stringify(path)} has a malformed escape`,
      400,
      { cause: error },
    );
  }
}

async function readJson(request: Request): Promise<unknown> {
  const tooBig = () => new ProxyApiError(`bad request body: over ${MAX_BODY_BYTES} bytes`, 413);
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) throw tooBig();
  // Read as it comes and cut at the cap: a chunked body has no length to check first.
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw tooBig();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProxyApiError(`bad request body: ${(error as Error).message}`, 400, { cause: error });
  }
}

function proxyInput(body: Record<string, unknown>): ProxyInput {
  for (const key of Object.keys(body)) {
    if (!["name", "listen", "upstream", "enabled", "protocol", "toxics"].includes(key)) {
      throw badBody(`unknown field "${key}"`);
    }
  }
  const name = optionalString(body, "name");
  if (!name) throw new ProxyApiError("missing required field: name", 400);
  const unreachable = urlNameProblem(name);
  if (unreachable) throw badBody(`name ${JSON.stringify(name)} ${unreachable}`);
  const upstream = optionalString(body, "upstream");
  if (!upstream) throw new ProxyApiError("missing required field: upstream", 400);
  const protocol = body.protocol ?? "tcp";
  if (protocol !== "tcp" && protocol !== "udp") {
    throw badBody(`protocol must be "tcp" or "udp", got ${JSON.stringify(protocol)}`);
  }
  optionalBoolean(body, "enabled");
  return { name, upstream, listen: optionalString(body, "listen"), protocol };
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badBody("expected a JSON object");
  }
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value !== undefined && typeof value !== "string") {
    throw badBody(`${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value !== undefined && typeof value !== "boolean") {
    throw badBody(`${key} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function notFound(): Response {
  return new Response("404 page not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function badBody(detail: string): ProxyApiError {
  return new ProxyApiError(`bad request body: ${detail}`, 400);
}
