/**
 * Params of the HTTP probe's two roles: the client (`url`, `method`,
 * `headers`, limits, redirects, TLS options) and the server (where to
 * listen and what to answer).
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "../../lib/plugin/mod.ts";
import { checkHost } from "../../lib/transport/mod.ts";
import { urlControlProblem, urlIpv4RewriteProblem, urlProblem } from "./_url_problem.ts";

/** A header line as users write it: `Name: value` (an RFC 9110 token, no CR or LF). */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/;
/** An RFC 9110 method token. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MIB = 1024 * 1024;

// A URL names a server to connect to: port 0 names none, and its host must
// be one a lookup could find (the URL parser takes a 5,000-character label).
function urlTarget(text: string, ctx: z.RefinementCtx): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return; // z.url() says so (urlProblem)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return; // as z.url() says
  if (url.port === "0") {
    ctx.addIssue({
      code: "custom",
      message: "has port 0, which cannot be connected to (give 1-65535)",
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const message = urlIpv4RewriteProblem(text, url.hostname) ?? problemOf(() => checkHost(host));
  if (message !== undefined) ctx.addIssue({ code: "custom", message });
}

function noControlCharacters(text: string, ctx: z.RefinementCtx): void {
  const message = urlControlProblem(text);
  // `continue: false`: the URL check would report the same text again.
  if (message !== undefined) ctx.addIssue({ code: "custom", message, continue: false });
}

// A transport check's message as a params issue: "Cannot use host …: why".
function problemOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** What users pass to the client role (optional fields have defaults). */
export interface HttpProbeClientOptions {
  /** `http://` or `https://` URL to request. */
  url: string;
  /** Request method (default `GET`). */
  method?: string;
  /** Extra request headers, each `"Name: value"`; they replace defaults of the same name. */
  headers?: string[];
  /** Request body as text (sent with `Content-Length`). */
  body?: string;
  /** Path of a file streamed as the request body. */
  bodyFile?: string;
  /** Deadline for the whole probe, all requests and redirects (default 10000). */
  timeoutMs?: number;
  /** Largest response head (status line and headers) accepted, in bytes (default 65536). */
  maxHeaderBytes?: number;
  /** Largest response body accepted, in bytes (default 100 MiB). */
  maxBodyBytes?: number;
  /** How many body bytes to keep as the `body_text` fact (default 4096). */
  bodyTextLimit?: number;
  /** Follow 301/302/303/307/308 redirects (default `false`, like curl). */
  followRedirects?: boolean;
  /** Most redirects followed before giving up (default 5). */
  maxRedirects?: number;
  /**
   * Send credential headers and the URL's user info on to other origins when
   * following redirects, as curl's `--location-trusted` does (default `false`).
   */
  locationTrusted?: boolean;
  /** Requests sent one after another on one keep-alive connection (default 1). */
  repeat?: number;
  /**
   * Fail the probe when a response's status is 400 or more, as curl's
   * `--fail` does: the outcome keeps every metric and fact (default `false`).
   */
  fail?: boolean;
  /**
   * Ask for a compressed body (`Accept-Encoding: gzip, deflate, br`) and
   * decode it, as curl's `--compressed` does: `body_sha256`, `body_text` and
   * `body_bytes` describe the decoded body (default `false`).
   */
  compressed?: boolean;
  /** Largest decoded body accepted with `compressed`, in bytes (default 100 MiB). */
  maxDecodedBytes?: number;
  /** Do not fail on an unverifiable certificate; report it as a fact (default `false`). */
  insecure?: boolean;
  /** PEM file of CA certificates to trust instead of the system's. */
  caFile?: string;
  /** TLS server name (SNI and verification) instead of the URL's host. */
  servername?: string;
  /**
   * Which TLS client carries HTTPS requests (default `"native"`):
   * `"native"` is Deno's own client, whose connect, handshake and ttfb
   * phases are within the issue targets of curl's and blackbox_exporter's,
   * after a handshake-only `node:tls` connection that reads the protocol and
   * cipher (one extra connection per origin, about 3-4 ms of wall time
   * that no phase counts); `"node"` is one `node:tls` connection that
   * carries the requests and reports every TLS fact of that connection
   * (half the wall time of a probe of one request, but its connect, tls
   * and ttfb phases carry 0.1-0.3 ms of node:tls's own layers); `"auto"`
   * is `"node"` for one request (`repeat` 1) and `"native"` for more
   * (`repeat` > 1, load runs).
   */
  tlsClient?: TlsClient;
}

/**
 * The TLS client of HTTPS requests: `node:tls` on one connection, Deno's own
 * after an inspecting handshake, or the first for one request and the second
 * for many.
 */
export type TlsClient = "auto" | "native" | "node";

/** The client role's params after defaults are applied. */
export interface HttpProbeClientParams {
  /** `http://` or `https://` URL to request. */
  url: string;
  /** Request method. */
  method: string;
  /** Extra request headers, each `"Name: value"`. */
  headers: string[];
  /** Request body as text. */
  body?: string;
  /** Path of a file streamed as the request body. */
  bodyFile?: string;
  /** Deadline for the whole probe, in milliseconds. */
  timeoutMs: number;
  /** Largest response head accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest response body accepted, in bytes. */
  maxBodyBytes: number;
  /** How many body bytes to keep as the `body_text` fact. */
  bodyTextLimit: number;
  /** Follow redirects. */
  followRedirects: boolean;
  /** Most redirects followed. */
  maxRedirects: number;
  /** Send credentials on to other origins when following redirects. */
  locationTrusted: boolean;
  /** Requests sent on one keep-alive connection. */
  repeat: number;
  /** Fail on a status of 400 or more. */
  fail: boolean;
  /** Ask for and decode a compressed body. */
  compressed: boolean;
  /** Largest decoded body accepted, in bytes. */
  maxDecodedBytes: number;
  /** Report certificate problems instead of failing. */
  insecure: boolean;
  /** PEM file of CA certificates to trust. */
  caFile?: string;
  /** TLS server name. */
  servername?: string;
  /** Which TLS client carries HTTPS requests. */
  tlsClient: TlsClient;
}

const httpProbeClientSchema = z
  .object({
    // The control check comes first: the URL check drops tabs and line
    // breaks from the value (z.string().url() rather than z.url() for that order).
    url: z.string().superRefine(noControlCharacters)
      .url({ protocol: /^https?$/, error: (issue) => urlProblem(String(issue.input)) })
      .superRefine(urlTarget)
      .describe("URL to request (http:// or https://)"),
    method: z.string().regex(METHOD, "must be an HTTP method token").default("GET")
      .describe("Request method"),
    headers: z.array(
      z.string().regex(HEADER_LINE, 'must be "Name: value" without line breaks'),
    ).max(100).default([])
      .describe('Request header "Name: value" (repeat for several); replaces a default header')
      // One header per flag reads naturally on the command line: --header A --header B.
      .meta({ "x-wiretest-alias": "header" }),
    body: z.string().optional().describe("Request body text (sent with Content-Length)"),
    bodyFile: z.string().min(1).optional().describe("File streamed as the request body"),
    timeoutMs: z.number().int().min(1).max(3_600_000).default(10_000)
      .describe("Deadline for the whole probe (all requests and redirects), in ms"),
    maxHeaderBytes: z.number().int().min(256).max(16 * MIB).default(65_536)
      .describe("Largest response head (status line + headers) accepted, in bytes"),
    maxBodyBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100 * MIB)
      .describe("Largest response body accepted, in bytes (it is hashed, not kept)"),
    bodyTextLimit: z.number().int().min(0).max(16 * MIB).default(4096)
      .describe("Body bytes kept as the body_text fact"),
    followRedirects: z.boolean().default(false)
      .describe("Follow 301/302/303/307/308 redirects (curl -L)"),
    maxRedirects: z.number().int().min(0).max(100).default(5)
      .describe("Most redirects followed before failing"),
    locationTrusted: z.boolean().default(false)
      .describe(
        "Send credential headers (Authorization, Cookie, X-Api-Key…) on to other origins when following redirects (curl --location-trusted)",
      ),
    repeat: z.number().int().min(1).max(1_000_000).default(1)
      .describe("Requests sent one after another on one keep-alive connection"),
    fail: z.boolean().default(false)
      .describe("Fail when a response's status is 400 or more (curl --fail)"),
    compressed: z.boolean().default(false)
      .describe("Ask for gzip, deflate or br and decode the body (curl --compressed)"),
    maxDecodedBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100 * MIB)
      .describe("Largest decoded body accepted with compressed, in bytes"),
    insecure: z.boolean().default(false)
      .describe("Accept unverifiable certificates; report the problem as a fact"),
    caFile: z.string().min(1).optional().describe("PEM file of CA certificates to trust"),
    servername: z.string().min(1).optional()
      .describe("TLS server name for SNI and verification (default: the URL's host)"),
    tlsClient: z.enum(["auto", "native", "node"]).default("native")
      .describe(
        "TLS client for requests: native (Deno's, phases within curl's and blackbox's, after a handshake-only connection that reads the protocol and cipher), node (node:tls, one connection, every fact from it, half the wall time of one request but 0.1-0.3 ms of its own in the connect, tls and ttfb phases) or auto (node for repeat 1, native for more and for load)",
      ),
  })
  .refine((p) => p.body === undefined || p.bodyFile === undefined, {
    path: ["bodyFile"],
    message: "cannot be combined with body",
  });

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<
  typeof httpProbeClientSchema,
  HttpProbeClientParams,
  HttpProbeClientOptions
>;

/**
 * Schema of the client role's params.
 *
 * @example Defaults filled in
 * ```ts
 * import { httpProbeClientParams } from "@wiretest/wiretest/plugins/http-probe";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const p = validateParams(httpProbeClientParams, { url: "http://127.0.0.1:8080/" });
 * assert.equal(p.method, "GET");
 * assert.equal(p.followRedirects, false);
 * ```
 */
export const httpProbeClientParams: ParamsSchema<HttpProbeClientParams, HttpProbeClientOptions> =
  httpProbeClientSchema;

/** What users pass to the server role (optional fields have defaults). */
export interface HttpServerOptions {
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Response status (default 200). */
  status?: number;
  /** Response body text (default `ok`). */
  body?: string;
  /** The body is `body` repeated this many times (default 1), for large responses. */
  bodyRepeat?: number;
  /** Stream the body (one chunk per repetition), so it goes out chunked (default `false`). */
  chunked?: boolean;
  /** Extra response headers, each `"Name: value"`. */
  headers?: string[];
  /** Wait this long before answering each request (default 0). */
  delayMs?: number;
  /** Close a connection silent for this long, in ms; 0 means never (default 60000). */
  idleTimeoutMs?: number;
  /** Close a connection whose request head has not arrived whole in this long, in ms (default 30000). */
  headersTimeoutMs?: number;
  /**
   * Close a connection whose request body arrives, or whose answer is read,
   * slower than this many bytes per second after `minDataRateGraceMs`; 0
   * means no minimum (default 240, Kestrel's).
   */
  minDataRate?: number;
  /** The slack of `minDataRate`, in ms (default 5000). */
  minDataRateGraceMs?: number;
  /**
   * Refuse (close at once) connections beyond this many open (default 4000:
   * at about 105 KiB each with a 64 KiB head in flight, within the 512 MiB an
   * isolated plugin gets).
   */
  maxConnections?: number;
  /**
   * How long `close()` lets answers in progress finish, in ms, before it
   * closes their connections and says so (default 1000).
   */
  closeTimeoutMs?: number;
  /** PEM certificate file: serve HTTPS (needs `keyFile`). */
  certFile?: string;
  /** PEM private key file for `certFile`. */
  keyFile?: string;
  /**
   * TLS server for HTTPS (default `"deno"`): `"deno"` is Deno.listenTls,
   * faster, but it keeps the socket of a connection closed mid-handshake
   * until the client leaves (clients that stall handshakes can use up
   * descriptors); `"node"` runs node:tls over our own TCP and frees it at
   * once: use it when untrusted clients can reach the server.
   */
  tlsServer?: "deno" | "node";
}

/** The server role's params after defaults are applied. */
export interface HttpServerParams {
  /** Address to bind. */
  host: string;
  /** Port, 0 for a free one. */
  port: number;
  /** Response status. */
  status: number;
  /** Response body text. */
  body: string;
  /** Times `body` is repeated. */
  bodyRepeat: number;
  /** Stream the body chunked. */
  chunked: boolean;
  /** Extra response headers, each `"Name: value"`. */
  headers: string[];
  /** Delay before each answer, in milliseconds. */
  delayMs: number;
  /** Idle timeout of a connection, in milliseconds; 0 means never. */
  idleTimeoutMs: number;
  /** Time a request head may take to arrive, in milliseconds. */
  headersTimeoutMs: number;
  /** Slowest request body or answer reading allowed, in bytes per second; 0 for none. */
  minDataRate: number;
  /** The slack of `minDataRate`, in milliseconds. */
  minDataRateGraceMs: number;
  /** Most connections open at once. */
  maxConnections: number;
  /** Time `close()` gives answers in progress, in milliseconds. */
  closeTimeoutMs: number;
  /** PEM certificate file, for HTTPS. */
  certFile?: string;
  /** PEM private key file, for HTTPS. */
  keyFile?: string;
  /** TLS server for HTTPS. */
  tlsServer: "deno" | "node";
}

const httpServerSchema = z
  .object({
    host: z.string().superRefine((host, ctx) => {
      const message = problemOf(() => checkHost(host));
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
    }).default("127.0.0.1").describe("Address to bind"),
    port: z.number().int().min(0).max(65535).default(0).describe("Port (0 picks a free one)"),
    status: z.number().int().min(200).max(599).default(200).describe("Response status"),
    body: z.string().default("ok").describe("Response body text"),
    bodyRepeat: z.number().int().min(1).max(1_000_000_000).default(1)
      .describe("Send the body this many times over (for large responses)"),
    chunked: z.boolean().default(false)
      .describe("Stream the body, one chunk per repetition (Transfer-Encoding: chunked)"),
    headers: z.array(
      z.string().regex(HEADER_LINE, 'must be "Name: value" without line breaks'),
    ).max(100).default([]).describe('Response header "Name: value" (repeat for several)')
      .meta({ "x-wiretest-alias": "header" }),
    delayMs: z.number().int().min(0).max(3_600_000).default(0)
      .describe("Wait this long before answering each request, in ms"),
    idleTimeoutMs: z.number().int().min(0).max(86_400_000).default(60_000)
      .describe("Close a connection silent for this long, in ms; 0 means never"),
    headersTimeoutMs: z.number().int().min(1).max(3_600_000).default(30_000)
      .describe("Close a connection whose request head has not arrived whole in this long, in ms"),
    minDataRate: z.number().int().min(0).max(1_000_000_000).default(240).describe(
      "Close a connection whose request body arrives, or whose answer is read, slower than this many bytes/s once minDataRateGraceMs has passed (each write of n bytes gets minDataRateGraceMs + n / minDataRate); 0 means no minimum",
    ),
    minDataRateGraceMs: z.number().int().min(1).max(3_600_000).default(5000)
      .describe("Slack of minDataRate, in ms: how far ahead of the bytes a body may fall"),
    maxConnections: z.number().int().min(1).max(1_000_000).default(4000)
      .describe("Refuse (close at once) connections beyond this many open"),
    closeTimeoutMs: z.number().int().min(0).max(3_600_000).default(1000).describe(
      "Time close() gives answers in progress before it closes their connections (counted in shutdown_aborted and logged)",
    ),
    certFile: z.string().min(1).optional().describe("PEM certificate file: serve HTTPS"),
    keyFile: z.string().min(1).optional().describe("PEM private key file for --cert-file"),
    tlsServer: z.enum(["deno", "node"]).default("deno").describe(
      "TLS server for HTTPS: deno (Deno.listenTls, faster; keeps the socket of a connection closed mid-handshake until the client leaves) or node (node:tls over our TCP, frees it at once: use with untrusted clients)",
    ),
  })
  .refine((p) => (p.certFile === undefined) === (p.keyFile === undefined), {
    path: ["keyFile"],
    message: "certFile and keyFile go together",
  });

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof httpServerSchema, HttpServerParams, HttpServerOptions>;

/**
 * Schema of the server role's params.
 *
 * @example Defaults filled in
 * ```ts
 * import { httpServerParams } from "@wiretest/wiretest/plugins/http-probe";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const p = validateParams(httpServerParams, {});
 * assert.equal(p.status, 200);
 * assert.equal(p.body, "ok");
 * ```
 */
export const httpServerParams: ParamsSchema<HttpServerParams, HttpServerOptions> = httpServerSchema;
