/**
 * Params of the proxy plugin's two roles: the server (proxies and their
 * control API) and the client (a step that sets a proxy's toxics through the
 * control API and reports its counters).
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema } from "../../lib/plugin/mod.ts";
import { checkHost, parseConnectAddress, parseHostPort } from "../../lib/transport/mod.ts";
import type { ToxicInput } from "./toxics.ts";
import { urlNameProblem } from "./_url_name.ts";
import { UDP_IO_VALUES, type UdpIo } from "../../lib/transport/unstable_udp.ts";

const DAY_MS = 86_400_000;

/** A proxy declared in the server's params. */
export interface ProxySpec {
  /** Unique name (the control API's `{proxy}`). */
  name: string;
  /** `host:port` to listen on (default `127.0.0.1:0`). */
  listen?: string;
  /** `host:port` to relay to. */
  upstream: string;
  /** `tcp` (default) or `udp`. */
  protocol?: "tcp" | "udp";
  /** Start listening at once (default `true`). */
  enabled?: boolean;
  /** Toxics from the start. */
  toxics?: ToxicInput[];
}

/** What a user passes to the proxy server role. */
export interface ProxyServerOptions {
  /** Address the control API binds (default `127.0.0.1`: loopback only). */
  host?: string;
  /** Control API port; 0 (default) picks a free one (`wiretest proxy` uses 8474). */
  port?: number;
  /** Seed of the toxics' randomness (default: a random one, reported in the stats as `seed`). */
  seed?: number;
  /** Forget a UDP flow after this long without a datagram (default 60000). */
  udpFlowIdleMs?: number;
  /** Refuse (close at once) client connections beyond this many open, per TCP proxy; per UDP proxy, drop datagrams from new sources while this many flows are open (default 10000). */
  maxConnections?: number;
  /** UDP proxies' sockets: `auto` (default; libc's in a Worker where FFI is granted for libc, else the runtime's), `deno`, `libc`. */
  io?: UdpIo;
  /** Proxies to create at start. */
  proxies?: ProxySpec[];
  /** Shorthand for one proxy: its upstream. */
  upstream?: string;
  /** Shorthand: its name (default `proxy`). */
  name?: string;
  /** Shorthand: where it listens (default `127.0.0.1:0`). */
  listen?: string;
  /** Shorthand: `tcp` (default) or `udp`. */
  protocol?: "tcp" | "udp";
  /** Shorthand: its toxics. */
  toxics?: ToxicInput[];
}

/** The server role's params after defaults. */
export interface ProxyServerParams {
  /** Control API address. */
  host: string;
  /** Control API port. */
  port: number;
  /** Seed, when given. */
  seed?: number;
  /** UDP flow idle expiry, ms. */
  udpFlowIdleMs: number;
  /** Most client connections open at once, per TCP proxy. */
  maxConnections: number;
  /** UDP proxies' sockets. */
  io: UdpIo;
  /** Proxies to create. */
  proxies: ProxySpec[];
  /** Shorthand upstream. */
  upstream?: string;
  /** Shorthand name. */
  name: string;
  /** Shorthand listen. */
  listen?: string;
  /** Shorthand protocol. */
  protocol: "tcp" | "udp";
  /** Shorthand toxics. */
  toxics: ToxicInput[];
}

const toxicSchema = z.object({
  name: z.string().optional().describe("Toxic name (default <type>_<stream>)"),
  type: z.string().describe(
    "Toxic type: latency, bandwidth, timeout… (tcp); loss, duplicate… (udp)",
  ),
  stream: z.enum(["upstream", "downstream"]).optional().describe(
    "upstream (client to server) or downstream (default)",
  ),
  toxicity: z.number().min(0).max(1).optional().describe("Probability it applies (default 1)"),
  attributes: z.record(z.string(), z.number()).optional().describe("Attributes of the type"),
});

// A name the control API could never reach again (see _url_name.ts).
function nameIssue(name: string, ctx: z.RefinementCtx): void {
  const problem = urlNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: `name ${JSON.stringify(name)} ${problem}` });
}

const proxySchema = z.object({
  name: z.string().min(1).max(100).superRefine(nameIssue).describe("Proxy name"),
  listen: z.string().superRefine(addressIssue("listen")).optional()
    .describe("host:port to listen on (default 127.0.0.1:0)"),
  upstream: z.string().superRefine(addressIssue("upstream")).describe("host:port to relay to"),
  protocol: z.enum(["tcp", "udp"]).optional().describe("tcp (default) or udp"),
  enabled: z.boolean().optional().describe("Listen at once (default true)"),
  toxics: z.array(toxicSchema).max(100).optional().describe("Toxics from the start"),
});

/**
 * Schema of the proxy server role's params.
 *
 * @example One proxy in front of a service, by shorthand
 * ```ts
 * import { proxyServerParams } from "@wiretest/wiretest/plugins/proxy";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(proxyServerParams, { upstream: "127.0.0.1:8080" });
 * assert.equal(params.host, "127.0.0.1");
 * assert.equal(params.name, "proxy");
 * ```
 */
export const proxyServerParams: ParamsSchema<ProxyServerParams, ProxyServerOptions> = z.object({
  host: z.string().superRefine(hostIssue).default("127.0.0.1").describe(
    "Address the control API binds (loopback only unless told)",
  ),
  port: z.number().int().min(0).max(65535).default(0).describe(
    "Control API port; 0 picks a free one",
  ),
  seed: z.number().int().min(0).max(0xffffffff).optional().describe(
    "Seed of the toxics' randomness (default: random, reported as stats.seed)",
  ),
  udpFlowIdleMs: z.number().int().min(1).max(DAY_MS).default(60_000).describe(
    "Forget a UDP flow after this many milliseconds without a datagram",
  ),
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000).describe(
    "Refuse (close at once) client connections beyond this many open, per TCP proxy; per UDP proxy, drop datagrams from new sources while this many flows are open",
  ),
  io: z.enum(UDP_IO_VALUES as [UdpIo, ...UdpIo[]]).default("auto").describe(
    "Proxies' sockets: auto (libc's in a Worker where FFI is granted for libc, else the runtime's; a TCP connection moves to the runtime's once its proxy has a toxic), deno, libc",
  ),
  proxies: z.array(proxySchema).max(1000).default([]).describe("Proxies to create at start"),
  upstream: z.string().superRefine(addressIssue("upstream")).optional().describe(
    "Shorthand for one proxy: its upstream host:port",
  ),
  name: z.string().min(1).max(100).superRefine(nameIssue).default("proxy").describe(
    "Shorthand: the proxy's name",
  ),
  listen: z.string().superRefine(addressIssue("listen")).optional().describe(
    "Shorthand: host:port it listens on (default 127.0.0.1:0)",
  ),
  protocol: z.enum(["tcp", "udp"]).default("tcp").describe("Shorthand: tcp or udp"),
  toxics: z.array(toxicSchema).max(100).default([]).describe("Shorthand: its toxics"),
});

/** What a user passes to the proxy client role (a fixture step). */
export interface ProxyClientOptions {
  /** The control API, `host:port` (`${services.<proxy>.addr}`). */
  api: string;
  /** The proxy's name (default `proxy`). */
  proxy?: string;
  /** When given, the proxy's toxics from now on: others are removed, these added or updated. */
  toxics?: ToxicInput[];
  /** `false` takes the proxy down, `true` brings it back. */
  enabled?: boolean;
  /** Milliseconds each control request may take (default 5000). */
  timeoutMs?: number;
}

/** The client role's params after defaults. */
export interface ProxyClientParams {
  /** Control API. */
  api: string;
  /** Proxy name. */
  proxy: string;
  /** Toxics to set. */
  toxics?: ToxicInput[];
  /** Enable or disable. */
  enabled?: boolean;
  /** Per-request timeout, ms. */
  timeoutMs: number;
}

/**
 * Schema of the proxy client role's params.
 *
 * @example Setting one toxic
 * ```ts
 * import { proxyClientParams } from "@wiretest/wiretest/plugins/proxy";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(proxyClientParams, {
 *   api: "127.0.0.1:8474",
 *   toxics: [{ type: "latency", attributes: { latency: 50 } }],
 * });
 * assert.equal(params.proxy, "proxy");
 * assert.equal(params.timeoutMs, 5000);
 * ```
 */
export const proxyClientParams: ParamsSchema<ProxyClientParams, ProxyClientOptions> = z.object({
  api: z.string().min(1).describe("Control API host:port"),
  proxy: z.string().min(1).max(100).default("proxy").describe("Proxy name"),
  toxics: z.array(toxicSchema).max(100).optional().describe(
    "The proxy's toxics from now on (others are removed)",
  ),
  enabled: z.boolean().optional().describe("false takes the proxy down, true brings it back"),
  timeoutMs: z.number().int().min(1).max(DAY_MS).default(5000).describe(
    "Milliseconds each control request may take",
  ),
});

/**
 * Parses a proxy's `listen` (host:port, port 0 for a free one) or `upstream`
 * (host:port to connect to: port 1-65535); hosts are IP addresses or host names.
 */
export function addressOf(value: string, field: string): { hostname: string; port: number } {
  if (field === "upstream") return parseConnectAddress(value);
  const address = parseHostPort(value);
  checkHost(address.hostname);
  return address;
}

function addressIssue(field: "listen" | "upstream") {
  return (value: string, ctx: z.RefinementCtx): void => {
    try {
      addressOf(value, field);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  };
}

function hostIssue(host: string, ctx: z.RefinementCtx): void {
  try {
    checkHost(host);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
}
