/**
 * The HTTP probe's client role: HTTP/1.1 requests over wiretest's own TCP
 * and TLS transports, with per-phase timings, streamed body hashing,
 * keep-alive repeats and redirects.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { LatencyHistogram, summaryMetrics } from "../../lib/metrics/mod.ts";
import {
  type ClientSession,
  type Context,
  describeError,
  openInputFile,
  type Outcome,
  redactPasswords,
} from "../../lib/plugin/mod.ts";
import { HttpStatusError, RedirectError } from "./errors.ts";
import type { HttpProbeClientParams } from "./params.ts";
import {
  ACCEPT_ENCODING,
  BodyDecoder,
  contentCodings,
  type DecodeDeadline,
  loadDecoders,
} from "./_body_decoder.ts";
import { basicAuthLine, encodeRequestHead, redirectHeaders } from "./_request.ts";
import type { BodySink, HeaderFields, ResponseHead } from "./_response_reader.ts";
import { type Exchange, type OutgoingRequest, type Phases, Session } from "./_session.ts";
import { tlsSettings } from "./_tls.ts";
import { IterationWatchdog, Watchdog } from "./_watchdog.ts";
import { warmUpConnect, warmUpExchange } from "./_warm_up.ts";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const PROGRESS_EVERY_MS = 250;

/** One redirect response that was followed (or refused), as a fact. */
export interface RedirectHop {
  /** The URL requested. */
  url: string;
  /** Its redirect status. */
  status: number;
  /** Its `Location` header. */
  location: string;
  /** The server's `ip:port` that answered it. */
  remote_address: string;
  /**
   * Lower-case names of the request headers not sent to the next URL
   * because it is another origin: credentials and a custom `Host` (see
   * `locationTrusted`).
   */
  dropped_headers: string[];
  /** Name lookup, in milliseconds (0 for an IP literal or a reused connection). */
  dns_ms: number;
  /** TCP handshake, in milliseconds (0 on a reused connection). */
  connect_ms: number;
  /** TLS handshake, in milliseconds (0 for http or a reused connection). */
  tls_ms: number;
  /** Connection ready (connected, or TLS done) to first response byte, in milliseconds. */
  ttfb_ms: number;
  /** First response byte to end of body, in milliseconds. */
  transfer_ms: number;
  /** The whole request, in milliseconds. */
  total_ms: number;
}

/**
 * Runs the probe: requests `url` (following redirects when asked), `repeat`
 * times on one keep-alive connection, and reports what it saw.
 *
 * It does not throw for a failed exchange: refused, timed out, an invalid
 * response ({@linkcode HttpParseError}), a limit exceeded (`RangeError`), a
 * redirect loop ({@linkcode RedirectError}) all come back as `ok: false`
 * with `error` and every metric and fact gathered until then (phases of the
 * requests that completed, and those a failed first request finished, e.g.
 * `connect_ms` when no answer came; redirect hops, TLS facts). Any status is an
 * observation unless `fail` is set: then a status of 400 or more, on any
 * request, is an {@linkcode HttpStatusError}, after the metrics and facts
 * of the response are recorded. A request whose reused connection closed
 * before any response is sent again on a new connection only if its method
 * is idempotent; a POST fails instead (`ConnectionError` `closed`, "not
 * retried"), since the server may have run it.
 *
 * Metrics describe the first request (after its redirects): `status`,
 * `dns_ms`, `connect_ms`, `tls_ms`, `ttfb_ms`, `transfer_ms`, `total_ms`,
 * `redirect_ms`, `body_bytes` (decoded, with `compressed`), `header_bytes`,
 * `redirects`, and with `compressed` `encoded_body_bytes` (as received); over all
 * requests: `requests` (sent, hops included), `connections` (opened to
 * carry requests), `tls_inspections` (see below); with `repeat` > 1 also
 * `latency_*_ms` (each request's total) and `requests_per_s`.
 *
 * HTTPS (`tlsClient` "native", the default, or "auto" with `repeat` > 1):
 * before its first connection to an address and name, the probe
 * inspects the server with a handshake-only connection (`node:tls`), which
 * reports the protocol, cipher and certificate (fact `tls`, with `source:
 * "inspection"`) and fails the probe with the reason when the certificate
 * does not verify (the `tls` fact still describes the handshake). The
 * requests then go over Deno's own TLS client, whose cost per request is
 * close to curl's but which reports only ALPN and the certificate it
 * received: that certificate is the `tls.certificate` fact, and one that
 * differs from the inspection's fails the probe (`tls.inspection_certificate`
 * shows the other); so the server sees one more connection per address, and
 * no phase or rate counts the inspection. With `insecure` and a certificate that does not verify,
 * the inspected connection carries the requests itself (`source:
 * "connection"`): Deno's client cannot accept such a certificate, and each
 * request costs about 0.1 ms more. So does a new `node:tls` connection
 * when Deno's client refuses a certificate that `node:tls` verified (one
 * whose name is only in the subject's CN, which Deno's client ignores).
 * With `tlsClient` "node" (or "auto" with `repeat` 1) one `node:tls`
 * connection carries the requests and reports the protocol, cipher,
 * certificate and verdict of that very connection (`source: "connection"`,
 * no inspection): half the wall time of a probe of one request, but its
 * connect, tls and ttfb phases include 0.1-0.3 ms of node:tls's own layers.
 *
 * Credentials: user info in the URL (`http://alice:pw@host/`) is sent as
 * `Authorization: Basic` of the percent-decoded `user:password`, as curl
 * does (a user's own `Authorization` header wins), and its password is
 * shown as `***` in every fact, summary and error. On a redirect to another
 * origin (scheme, host or port), credential headers are not sent on
 * (`Authorization`, `Proxy-Authorization`, `Cookie` and any header whose
 * name contains `auth`, `cookie`, `token`, `secret`, `key`, `pass`,
 * `credential`, `session`, `signature`, `csrf` or `xsrf`), nor a custom
 * `Host`, unless `locationTrusted`; each hop's `dropped_headers` names them.
 *
 * Phases are durations that add up to `total_ms`: `redirect_ms` (earlier
 * hops), `dns_ms` (`node:dns` lookup, honouring /etc/hosts; 0 for IP
 * literals and reused connections), `connect_ms` (TCP handshake), `tls_ms`
 * (TLS handshake, 0 for http), `ttfb_ms` (from the connection's being
 * ready, connected or its TLS done, to the first response byte: sending the
 * request and the server's answer), `transfer_ms` (first byte to body
 * end; `total_ms` ends there too, not when the connection closes).
 * curl's `-w` times are cumulative; the `timeline_ms` fact gives ours the
 * same way: `namelookup`, `connect`, `appconnect` (0 for http, as in curl),
 * `starttransfer` and `total`, each from the start of the probe.
 *
 * @param params Validated client params.
 * @param ctx The role's context: its signal and deadline cut the probe short.
 * @returns What the probe observed.
 *
 * @example Probing the plugin's own responder
 * ```ts
 * import {
 *   httpProbeClientParams,
 *   probeHttp,
 *   startHttpServer,
 * } from "@wiretest/wiretest/plugins/http-probe";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const service = await startHttpServer({ body: "hello" });
 * const { port } = service.address as Deno.NetAddr;
 * using ctx = createContext();
 * const outcome = await probeHttp(
 *   validateParams(httpProbeClientParams, { url: `http://127.0.0.1:${port}/` }),
 *   ctx,
 * );
 * await service.close();
 * assert.equal(outcome.metrics.status, 200);
 * assert.equal(outcome.facts.body_text, "hello");
 * ```
 */
export async function probeHttp(params: HttpProbeClientParams, ctx: Context): Promise<Outcome> {
  const firstUrl = new URL(params.url);
  // Started after the warm-up: its exchanges are bounded on their own, and
  // their time is not the target's (a 10 ms probe timed out on its warm-up).
  using watch = new Watchdog(params.timeoutMs, ctx, {
    operation: "connect",
    address: firstUrl.host,
  }, true);
  let session: Session | undefined;
  const metrics: Record<string, number> = {};
  const facts: Record<string, unknown> = { redirects: [] };
  const hops: RedirectHop[] = [];
  // Only repeats have a latency distribution; one request's histogram costs ~30 µs.
  const latency = params.repeat > 1 ? new LatencyHistogram() : undefined;
  // The first request's body as it comes: what came of one that failed counts.
  const digest = new BodyDigest(params.bodyTextLimit);
  try {
    const tls = await tlsSettings(params);
    // Before any clock starts: see _body_decoder.ts.
    if (params.compressed) await loadDecoders();
    session = new Session({
      maxHeaderBytes: params.maxHeaderBytes,
      maxBodyBytes: params.maxBodyBytes,
      tls,
    }, watch);
    // Encoded once: every repetition sends the same bytes.
    const request = outgoing(
      firstUrl,
      params.method,
      withUserinfo(firstUrl, params.headers),
      await requestBody(params),
      params.compressed,
    );
    // Before any clock starts: see _warm_up.ts. Each warm-up request goes
    // the probe's own way (fetchFollowing, its sink choice, a digest of the
    // body), so no function the timed request calls runs there first.
    facts.warm_up = await warmUpExchange(firstUrl.protocol, tls, ctx, async (warm, url) => {
      const digest = new BodyDigest(params.bodyTextLimit);
      const fetched = await fetchFollowing(
        warm,
        params,
        warmUpRequest(url, params),
        [],
        digest,
        watch,
      );
      return fetched.exchange.head.status;
    }, params.timeoutMs);
    watch.start();
    const started = performance.now();
    let lastProgress = started;
    for (let i = 0; i < params.repeat; i++) {
      const first = i === 0;
      const fetched = await fetchFollowing(
        session,
        params,
        request,
        first ? hops : [],
        first ? digest : undefined,
        watch,
      );
      latency?.record(fetched.totalMs);
      if (first) {
        Object.assign(metrics, firstMetrics(fetched, params.compressed));
        Object.assign(facts, firstFacts(fetched, digest), { redirects: hops });
      }
      const { status, reason } = fetched.exchange.head;
      if (params.fail && status >= 400) {
        throw new HttpStatusError({ status, reason, url: fetched.url.href });
      }
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        ctx.progress({ done: i + 1, total: params.repeat, unit: "requests" });
      }
    }
    if (latency) {
      const seconds = (performance.now() - started - session.pausedMs) / 1000;
      Object.assign(metrics, summaryMetrics("latency", latency.summary()));
      metrics.requests_per_s = params.repeat / seconds;
    }
    return { ok: true, metrics: counters(metrics, session), facts: redactFacts(facts) };
  } catch (error) {
    // Repeats that completed before the failure still have latencies.
    if (latency) Object.assign(metrics, summaryMetrics("latency", latency.summary()));
    facts.redirects = hops;
    // The first request failed midway: the phases it finished are measured.
    if (metrics.dns_ms === undefined && session) {
      const f = session.finished;
      if (f.dns !== undefined) metrics.dns_ms = f.dns;
      if (f.connect !== undefined) metrics.connect_ms = f.connect;
      if (f.tls !== undefined) metrics.tls_ms = f.tls;
      if (f.ttfb !== undefined) metrics.ttfb_ms = f.ttfb;
    }
    // The response failed after its head: its status and fields came.
    const response = session?.response;
    if (metrics.status === undefined && response) {
      const { head, method } = response;
      metrics.status = head.status;
      // The body bytes (decoded, with compressed) that came before it failed.
      metrics.body_bytes = digest.bytes;
      Object.assign(facts, {
        method,
        status: head.status,
        reason: head.reason,
        http_version: head.httpVersion,
        headers: asFact(head.headers),
      });
    }
    // Which server it failed at (blackbox_exporter hashes its address).
    if (facts.remote_address === undefined && session?.address) {
      facts.remote_address = session.address;
    }
    // A refused certificate still has its facts: the handshake completed.
    if (facts.tls === undefined && session?.refusedTls) facts.tls = session.refusedTls;
    const described = describeError(watch.explain(error));
    return {
      ok: false,
      metrics: counters(metrics, session),
      facts: redactFacts(facts),
      error: { ...described, message: redactPasswords(described.message) },
    };
  } finally {
    session?.close();
  }
}

/** What one load iteration of http-probe is (see {@linkcode openHttpLoadSession}). */
export const HTTP_LOAD_ITERATION = "One request and its response (redirects followed when " +
  "`followRedirects` is set) over the VU's keep-alive connection, opened again when the server " +
  "closes it; `timeoutMs` bounds each iteration, `fail` makes a status of 400 or more an error.";

/**
 * A load run's VU: one HTTP/1.1 keep-alive connection, reused from request
 * to request and opened again when the server closes it (or after a failed
 * request); each iteration is one request and its response, its phases
 * measured as `run` measures them (`connect_ms` is 0 on a reused
 * connection). `repeat` belongs to a single run and is ignored here.
 *
 * @param params The validated client params.
 * @param _ctx The session's context.
 * @returns The session.
 */
export async function openHttpLoadSession(
  params: HttpProbeClientParams,
  _ctx: Context,
): Promise<ClientSession> {
  const url = new URL(params.url);
  const options = {
    maxHeaderBytes: params.maxHeaderBytes,
    maxBodyBytes: params.maxBodyBytes,
    // A VU's connection carries many requests: "auto" is Deno's client.
    tls: await tlsSettings(params, true),
  };
  // Before any clock starts: see _body_decoder.ts.
  if (params.compressed) await loadDecoders();
  const request = outgoing(
    url,
    params.method,
    withUserinfo(url, params.headers),
    await requestBody(params),
    params.compressed,
  );
  const body = request.body;
  const sent = request.head.length +
    (body === undefined ? 0 : body instanceof Uint8Array ? body.length : body.size);
  // Before any clock starts: see _warm_up.ts.
  await warmUpConnect();
  const activity = { operation: "connect" as const, address: url.host };
  const watch = new IterationWatchdog(params.timeoutMs, activity);
  const session = new Session(options, watch);
  return {
    async iterate(ctx: Context): Promise<Outcome> {
      watch.begin(ctx.signal, activity);
      const before = session.connections;
      const metrics: Record<string, number> = {};
      try {
        const fetched = await fetchFollowing(session, params, request, [], undefined, watch);
        const { exchange } = fetched;
        const p = exchange.phases;
        Object.assign(metrics, {
          status: exchange.head.status,
          redirect_ms: fetched.redirectMs,
          dns_ms: p.dns,
          connect_ms: p.connect,
          tls_ms: p.tls,
          ttfb_ms: p.ttfb,
          transfer_ms: p.transfer,
          total_ms: fetched.totalMs,
          bytes_sent: sent,
          bytes_received: exchange.headerBytes + exchange.body.bytes,
          connections: session.connections - before,
        });
        const { status, reason } = exchange.head;
        if (params.fail && status >= 400) {
          throw new HttpStatusError({ status, reason, url: fetched.url.href });
        }
        watch.end();
        return { ok: true, metrics, facts: {} };
      } catch (error) {
        session.close();
        const described = describeError(watch.explain(error));
        watch.end();
        return {
          ok: false,
          metrics,
          facts: {},
          error: { ...described, message: redactPasswords(described.message) },
        };
      }
    },
    close(): Promise<void> {
      session.close();
      watch[Symbol.dispose]();
      return Promise.resolve();
    },
  };
}

/** One logical request: the final exchange and the hops before it. */
interface Fetched {
  url: URL;
  method: string;
  exchange: Exchange;
  redirectMs: number;
  totalMs: number;
  hopCount: number;
  /** Bytes of the decoded body, when `compressed` and the body was encoded. */
  decodedBytes?: number;
}

type RequestBody = Uint8Array | { file: string; size: number } | undefined;

async function fetchFollowing(
  session: Session,
  params: HttpProbeClientParams,
  first: OutgoingRequest,
  hops: RedirectHop[],
  digest: BodyDigest | undefined,
  deadline: DecodeDeadline,
): Promise<Fetched> {
  let request = first;
  let headers: readonly string[] = withUserinfo(first.url, params.headers);
  let visited: Set<string> | undefined;
  let hopCount = 0;
  // The chain's time starts when its first exchange does, as curl's does,
  // and leaves out what no phase counts (TLS inspections).
  let start: number | undefined;
  let paused = 0;
  const follows = (head: ResponseHead) =>
    params.followRedirects && REDIRECT_STATUSES.has(head.status) &&
    typeof head.headers.location === "string";
  let decoder: BodyDecoder | undefined;
  const sinkFor = (head: ResponseHead): BodySink => {
    if (follows(head)) return countOnly;
    const sink = digest?.sink ?? countOnly;
    if (!params.compressed) return sink;
    const where = request.url.host;
    const codings = contentCodings(head.headers["content-encoding"], where);
    if (codings.length === 0) return sink;
    const active = decoder = new BodyDecoder(
      codings,
      sink,
      params.maxDecodedBytes,
      where,
      deadline,
    );
    return (chunk) => active.write(chunk);
  };
  while (true) {
    let exchange: Exchange;
    let decodedBytes: number | undefined;
    try {
      exchange = await session.exchange(request, sinkFor);
      // A response without body bytes (HEAD, 204, 304) has nothing to decode.
      if (decoder && exchange.body.bytes > 0) await decoder.end();
      decodedBytes = decoder?.bytes;
    } finally {
      decoder?.close();
      decoder = undefined;
    }
    start ??= exchange.start;
    const { url, method } = request;
    if (!follows(exchange.head)) {
      const redirectMs = exchange.start - start - paused;
      return {
        url,
        method,
        exchange,
        redirectMs,
        totalMs: redirectMs + exchange.phases.total,
        hopCount,
        decodedBytes,
      };
    }
    paused += exchange.pausedMs;
    const location = exchange.head.headers.location as string;
    hopCount++;
    const hop: RedirectHop = {
      url: url.href,
      status: exchange.head.status,
      location,
      remote_address: exchange.remoteAddress,
      dropped_headers: [],
      ...phaseFacts(exchange),
    };
    hops.push(hop);
    const next = resolveLocation(location, url);
    // As curl does: 303 always, and 301/302 after a POST, become GET without a body.
    const status = exchange.head.status;
    const toGet = (status === 303 && method !== "HEAD") ||
      ((status === 301 || status === 302) && method === "POST");
    const nextMethod = toGet ? "GET" : method;
    const body = toGet ? undefined : request.body;
    const key = `${nextMethod} ${next.href}`;
    visited ??= new Set([`${first.method} ${first.url.href}`]);
    if (visited.has(key)) throw new RedirectError({ code: "redirect-loop", location: next.href });
    if (hopCount > params.maxRedirects) {
      throw new RedirectError({
        code: "too-many-redirects",
        location: next.href,
        maxRedirects: params.maxRedirects,
      });
    }
    visited.add(key);
    const sent = redirectHeaders(
      headers,
      next.origin === url.origin,
      toGet,
      params.locationTrusted,
    );
    headers = sent.headers;
    hop.dropped_headers = sent.dropped;
    request = outgoing(next, nextMethod, headers, body, params.compressed);
  }
}

// The warm-up's request: a GET with the probe's headers, no body.
function warmUpRequest(url: URL, params: HttpProbeClientParams): OutgoingRequest {
  return outgoing(url, "GET", params.headers, undefined, params.compressed);
}

function outgoing(
  url: URL,
  method: string,
  headers: readonly string[],
  body: RequestBody,
  compressed: boolean,
): OutgoingRequest {
  const bodyLength = body === undefined
    ? undefined
    : body instanceof Uint8Array
    ? body.length
    : body.size;
  const acceptEncoding = compressed ? ACCEPT_ENCODING : undefined;
  return {
    url,
    method,
    body,
    head: encodeRequestHead({ method, url, headers, bodyLength, acceptEncoding }),
  };
}

function resolveLocation(location: string, base: URL): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch (error) {
    throw new RedirectError({
      code: "bad-location",
      location,
      detail: "it is not a valid URL",
      cause: error,
    });
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new RedirectError({
      code: "bad-location",
      location,
      detail: `scheme "${next.protocol}" is not http: or https:`,
    });
  }
  return next;
}

async function requestBody(params: HttpProbeClientParams): Promise<RequestBody> {
  if (params.body !== undefined) return new TextEncoder().encode(params.body);
  if (params.bodyFile !== undefined) {
    using file = await openInputFile(params.bodyFile);
    const { size } = await file.stat();
    return { file: params.bodyFile, size };
  }
  return undefined;
}

const countOnly: BodySink = () => {};

/** Hashes a body as it streams and keeps its first bytes as text. */
class BodyDigest {
  readonly #hash = createHash("sha256");
  readonly #text: Uint8Array;
  #kept = 0;
  /** Bytes that came so far. */
  bytes = 0;

  constructor(textLimit: number) {
    this.#text = new Uint8Array(textLimit);
  }

  get textLimit(): number {
    return this.#text.length;
  }

  readonly sink: BodySink = (chunk) => {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    if (this.#kept < this.#text.length) {
      const n = Math.min(chunk.length, this.#text.length - this.#kept);
      this.#text.set(chunk.subarray(0, n), this.#kept);
      this.#kept += n;
    }
  };

  get sha256(): string {
    return this.#hash.digest("hex");
  }

  get text(): string {
    // Streaming mode holds back a character cut by the limit instead of
    // turning it into U+FFFD.
    return new TextDecoder().decode(this.#text.subarray(0, this.#kept), { stream: true });
  }
}

// The user's own Authorization header wins over the URL's user info, as in curl.
function withUserinfo(url: URL, headers: readonly string[]): readonly string[] {
  const basic = basicAuthLine(url);
  if (basic === undefined) return headers;
  const given = headers.some((line) => /^\s*authorization\s*:/i.test(line));
  return given ? headers : [basic, ...headers];
}

// Every string fact but the body: URLs (the probe's, hops', Location
// headers) lose their passwords.
function redactFacts(facts: Record<string, unknown>): Record<string, unknown> {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return redactPasswords(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        Object.defineProperty(out, key, {
          value: walk(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(facts)) {
    out[key] = key === "body_text" ? value : walk(value);
  }
  return out;
}

function phaseFacts(
  exchange: Exchange,
): Omit<RedirectHop, "url" | "status" | "location" | "remote_address" | "dropped_headers"> {
  const p = exchange.phases;
  return {
    dns_ms: p.dns,
    connect_ms: p.connect,
    tls_ms: p.tls,
    ttfb_ms: p.ttfb,
    transfer_ms: p.transfer,
    total_ms: p.total,
  };
}

function firstMetrics(fetched: Fetched, compressed: boolean): Record<string, number> {
  const { exchange, redirectMs, totalMs } = fetched;
  const p: Phases = exchange.phases;
  const metrics: Record<string, number> = {
    status: exchange.head.status,
    redirect_ms: redirectMs,
    dns_ms: p.dns,
    connect_ms: p.connect,
    tls_ms: p.tls,
    ttfb_ms: p.ttfb,
    transfer_ms: p.transfer,
    total_ms: totalMs,
    body_bytes: fetched.decodedBytes ?? exchange.body.bytes,
    header_bytes: exchange.headerBytes,
    redirects: fetched.hopCount,
  };
  // With compressed, body_bytes is the decoded size; this is what came.
  if (compressed) metrics.encoded_body_bytes = exchange.body.bytes;
  return metrics;
}

function firstFacts(fetched: Fetched, digest: BodyDigest): Record<string, unknown> {
  const { exchange, redirectMs, totalMs } = fetched;
  const { head, phases: p } = exchange;
  const facts: Record<string, unknown> = {
    url: fetched.url.href,
    method: fetched.method,
    remote_address: exchange.remoteAddress,
    status: head.status,
    reason: head.reason,
    http_version: head.httpVersion,
    headers: asFact(head.headers),
    body_sha256: digest.sha256,
    body_text: digest.text,
    body_truncated: (fetched.decodedBytes ?? exchange.body.bytes) > digest.textLimit,
    reused_connection: exchange.reused,
  };
  if (exchange.body.trailers) facts.trailers = asFact(exchange.body.trailers);
  if (typeof head.headers.location === "string") facts.location = head.headers.location;
  if (exchange.tls) facts.tls = exchange.tls;
  const namelookup = redirectMs + p.dns;
  const connect = namelookup + p.connect;
  const appconnect = exchange.tls ? connect + p.tls : 0;
  facts.timeline_ms = {
    namelookup,
    connect,
    appconnect,
    starttransfer: connect + p.tls + p.ttfb,
    total: totalMs,
  };
  return facts;
}

// Fields are parsed into a null-prototype object; a fact is a plain one
// (own keys only, "__proto__" included), as it is after crossing from a plugin's
// process, so in-process and isolated runs compare the same.
function asFact(fields: HeaderFields): HeaderFields {
  return Object.fromEntries(Object.entries(fields));
}

function counters(
  metrics: Record<string, number>,
  session: Session | undefined,
): Record<string, number> {
  return {
    ...metrics,
    requests: session?.requests ?? 0,
    connections: session?.connections ?? 0,
    tls_inspections: session?.tlsInspections ?? 0,
  };
}
