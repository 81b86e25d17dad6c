// A new process's first request pays costs that are not the network's:
// Deno initialises its network stack on the first connect (a new process's
// first loopback connect took 0.6-2.8 ms where the next took 0.05-0.3 ms),
// and every function on the request path (connect with its deadline and
// abort wiring, the connection wrapper, writing the request, reading the
// head and body, hashing it) is compiled on its first call and slow for a
// few more. A few exchanges of our own, through the same Session code, with
// a responder of our own on loopback and before any clock starts, pay for
// them; the target sees nothing of it.
// For an https probe the exchanges are over TLS, with the probe's TLS
// client and a certificate of the warm-up's own (_warm_up_cert.ts), so the
// handshake code is warm too. The outcome's `warm_up` fact says which ran.
// Once per process and kind: a pooled plugin process (the exporter's, a
// runner's) keeps its network stack and compiled code from probe to probe,
// and three more exchanges before each probe cost it about half a
// millisecond.
import {
  type Conn,
  connectTcp,
  type Listener,
  listenTcp,
  listenTls,
} from "../../lib/transport/mod.ts";
import type { Context } from "../../lib/plugin/mod.ts";
import { Session } from "./_session.ts";
import type { TlsSettings } from "./_tls.ts";
import { Watchdog } from "./_watchdog.ts";
import { WARM_UP_CA, WARM_UP_CERT, WARM_UP_KEY } from "./_warm_up_cert.ts";

const WARM_UP_TIMEOUT_MS = 1000;
// Measured on nginx (BENCHMARKS.md): the first connect phase after one
// exchange was 0.41 ms, after three 0.25-0.29 ms, after five or eight no
// lower. Each costs 0.7 ms (http) or 6-10 ms (https) once the first has
// paid the runtime's first network and TLS use.
const EXCHANGES = 3;
const HEAD_LIMIT = 16 * 1024;
// Shaped like a common server's answer (nginx's to a static file): the head
// parser meets as many fields, as long, as it will on the target.
const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nServer: wiretest-warm-up/1.0\r\n" +
    "Date: Mon, 07 Dec 2026 10:31:38 GMT\r\nContent-Type: text/html\r\nContent-Length: 2\r\n" +
    "Last-Modified: Mon, 07 Dec 2026 10:31:01 GMT\r\nConnection: keep-alive\r\n" +
    'ETag: "6b168ae5-2"\r\nAccept-Ranges: bytes\r\n\r\nok',
);

// The kinds of exchange (scheme and TLS client) that ran in this process.
const warmed = new Set<string>();

/** Forgets which warm-ups ran (tests: the next call runs its exchanges). */
export function forgetWarmUps(): void {
  warmed.clear();
}

/**
 * One request as the probe makes it, through its own code, on `session`
 * (opened on the warm-up's responder) to `url`; resolves to the status.
 */
export type WarmUpRequest = (session: Session, url: URL) => Promise<number>;

/** What warmed the probe before timing: the `warm_up` fact. */
export type WarmUp = "loopback-exchange" | "loopback-exchange-tls" | "none";

/**
 * A few exchanges over loopback through a Session like the probe's (bodies
 * into `sink()`, as the first request's), answered by a responder of our
 * own; over TLS when `scheme` is `https:` (the probe's TLS client, trusting
 * only the warm-up's own CA). `"none"` when they could not run (no net
 * grant for loopback, the context cancelled, or one failed). Once they ran
 * in this process for this scheme and TLS client, later calls run none and
 * say they ran.
 */
export async function warmUpExchange(
  scheme: string,
  tls: TlsSettings,
  ctx: Context,
  request: WarmUpRequest,
  limitMs: number = WARM_UP_TIMEOUT_MS,
): Promise<WarmUp> {
  if (!loopbackGranted()) return "none";
  const https = scheme === "https:";
  const settings: TlsSettings = https
    ? { insecure: false, caCerts: [WARM_UP_CA], client: tls.client }
    : tls;
  const ran = https ? "loopback-exchange-tls" : "loopback-exchange";
  const kind = https ? `${ran} ${settings.client}` : ran;
  if (ctx.signal.aborted) return "none";
  if (warmed.has(kind)) return ran;
  try {
    for (let i = 0; i < EXCHANGES; i++) {
      if (!await exchangeOnce(https, settings, ctx, request, limitMs)) return "none";
    }
    warmed.add(kind);
    return ran;
  } catch {
    return "none";
  }
}

async function exchangeOnce(
  https: boolean,
  tls: TlsSettings,
  ctx: Context,
  request: WarmUpRequest,
  limitMs: number,
): Promise<boolean> {
  using listener = https
    ? listenTls({ hostname: "127.0.0.1", port: 0, cert: WARM_UP_CERT, key: WARM_UP_KEY })
    : listenTcp({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const answered = respondOnce(listener);
  // Awaited only when the exchange worked; its failure is the exchange's.
  answered.catch(() => {});
  using watch = new Watchdog(Math.min(WARM_UP_TIMEOUT_MS, limitMs), ctx, {
    operation: "connect",
    address: `127.0.0.1:${port}`,
  });
  const session = new Session({ maxHeaderBytes: HEAD_LIMIT, maxBodyBytes: 1024, tls }, watch);
  try {
    const url = new URL(`${https ? "https" : "http"}://127.0.0.1:${port}/`);
    const status = await request(session, url);
    await answered;
    return status === 200;
  } finally {
    session.close();
  }
}

/**
 * Opens and closes one loopback connection; `false` when it could not (no
 * net grant for loopback). For sessions of load runs, which have no
 * context to bound an exchange with before their first iteration.
 */
export async function warmUpConnect(): Promise<boolean> {
  if (!loopbackGranted()) return false;
  try {
    using listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept({ timeout: WARM_UP_TIMEOUT_MS });
    using _conn = await connectTcp({ port: listener.addr.port, timeout: WARM_UP_TIMEOUT_MS });
    using _peer = await accepted;
    return true;
  } catch {
    return false;
  }
}

function loopbackGranted(): boolean {
  return Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state === "granted";
}

/**
 * Answers the first connection that sends a request head. Over TLS the
 * probe's inspection connection comes first and closes after its handshake:
 * up to three connections are accepted.
 */
async function respondOnce(listener: Listener): Promise<void> {
  for (let accepted = 0; accepted < 3; accepted++) {
    using conn = await listener.accept({ timeout: WARM_UP_TIMEOUT_MS });
    if (await readHead(conn)) {
      await conn.write(RESPONSE, { timeout: WARM_UP_TIMEOUT_MS });
      return;
    }
  }
  throw new Error("Cannot warm up: no request came");
}

/** Reads up to the end of a request head; `false` when the connection ends first. */
async function readHead(conn: Conn): Promise<boolean> {
  const buffer = new Uint8Array(HEAD_LIMIT);
  let filled = 0;
  const end = new TextEncoder().encode("\r\n\r\n");
  while (!contains(buffer.subarray(0, filled), end)) {
    if (filled === buffer.length) throw new RangeError("Cannot warm up: request head too large");
    let n: number | null;
    try {
      n = await conn.read(buffer.subarray(filled), { timeout: WARM_UP_TIMEOUT_MS });
    } catch {
      // A TLS inspection connection may end with a reset or an alert.
      return false;
    }
    if (n === null) return false;
    filled += n;
  }
  return true;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
