/**
 * The proxy client role: a fixture step that sets a proxy's toxics (and
 * state) through the control API, then reports the proxy's counters.
 *
 * @module
 */
import type { Context, Outcome } from "../../lib/plugin/mod.ts";
import type { ProxyClientParams } from "./params.ts";
import { ProxyApiError } from "./proxy_api_error.ts";
import type { Toxic } from "./toxics.ts";

/**
 * Makes the proxy's toxics exactly `params.toxics` (when given): removes the
 * others, adds the new, updates the changed; applies `enabled`; reads the
 * counters. `metrics` are the proxy's counters; `facts` its `name`,
 * `listen`, `upstream`, `enabled`, `protocol` and `toxics` (names).
 *
 * @param params Validated client params.
 * @param ctx The run context.
 * @returns The outcome; `ok: false` with the API's error when a request was refused.
 *
 * @example Against a proxy server
 * ```ts
 * import { runProxyClient, startProxyServer } from "@wiretest/wiretest/plugins/proxy";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const service = await startProxyServer({ upstream: "127.0.0.1:9" });
 * const outcome = await runProxyClient({
 *   api: formatAddress(service.address),
 *   toxics: [{ type: "latency", attributes: { latency: 20 } }],
 * });
 * await service.close();
 * assert.equal(outcome.ok, true);
 * assert.deepEqual(outcome.facts.toxics, ["latency_downstream"]);
 * ```
 */
export async function runProxy(params: ProxyClientParams, ctx: Context): Promise<Outcome> {
  const base = `http://${params.api}/proxies/${encodeURIComponent(params.proxy)}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(params.timeoutMs)]);
    const res = await fetch(base + path, {
      method,
      signal,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error: string }).error;
      } catch {
        // Not toxiproxy's JSON: keep the text.
      }
      throw new ProxyApiError(
        `Cannot ${method} ${base + path}: ${res.status} ${message}`,
        res.status,
      );
    }
    return text === "" ? undefined : JSON.parse(text);
  };
  try {
    let proxy = await call("GET", "") as { toxics: Toxic[] };
    if (params.toxics !== undefined) {
      const wanted = new Map(
        params.toxics.map((t) => [t.name || `${t.type}_${t.stream ?? "downstream"}`, t]),
      );
      for (const toxic of proxy.toxics) {
        const want = wanted.get(toxic.name);
        if (
          want === undefined || want.type !== toxic.type ||
          (want.stream ?? "downstream") !== toxic.stream
        ) {
          await call("DELETE", `/toxics/${encodeURIComponent(toxic.name)}`);
        } else {
          await call("POST", `/toxics/${encodeURIComponent(toxic.name)}`, {
            attributes: want.attributes ?? {},
            toxicity: want.toxicity ?? 1,
          });
          wanted.delete(toxic.name);
        }
      }
      for (const [name, toxic] of wanted) await call("POST", "/toxics", { ...toxic, name });
    }
    if (params.enabled !== undefined) await call("PATCH", "", { enabled: params.enabled });
    proxy = await call("GET", "") as { toxics: Toxic[] };
    const counters = await call("GET", "/stats") as Record<string, number>;
    const p = proxy as unknown as Record<string, unknown>;
    return {
      ok: true,
      metrics: counters,
      facts: {
        name: p.name,
        listen: p.listen,
        upstream: p.upstream,
        enabled: p.enabled,
        protocol: p.protocol,
        toxics: proxy.toxics.map((t) => t.name),
      },
    };
  } catch (error) {
    const e = error as Error & { status?: number };
    return {
      ok: false,
      metrics: {},
      facts: {},
      error: {
        name: e.name,
        message: e.message,
        ...(e.status !== undefined ? { code: String(e.status) } : {}),
      },
    };
  }
}
