// A new process's first request pays costs that are not the network's:
// Deno initialises its network stack on the first connect (a new process's
// first loopback connect took 0.6-2.8 ms where the next took 0.05-0.3 ms),
// and every function on the request path (connect with its deadline and
// abort wiring, the connection wrapper, writing the request, reading the
// head and body, hashing it) is compiled on its first call and slow for a
// few more. A few exchanges of our own, through the same Session code, with
// a responder of our own on loopback and before any clock starts, pay for
// them; the target sees nothing of it.
// The outcome's `warm_up` fact says whether it ran. TLS is not warmed (it
// would need a certificate of our own): an https probe's handshake code
// still runs for the first time on the target.
import { connectTcp, listenTcp } from "../../lib/transport/mod.ts";
import type { Context } from "../../lib/plugin/mod.ts";
import type { BodySink } from "./_response_reader.ts";
import { Session } from "./_session.ts";
import type { TlsSettings } from "./_tls.ts";
import { Watchdog } from "./_watchdog.ts";

const WARM_UP_TIMEOUT_MS = 1000;
// Measured on nginx (BENCHMARKS.md): the first connect phase after one
// exchange was 0.41 ms, after three 0.25-0.29 ms, after five or eight no
// lower; each costs about a millisecond before the clock starts.
const EXCHANGES = 3;
const HEAD_LIMIT = 16 * 1024;
const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
);

/** What warmed the probe before timing: the `warm_up` fact. */
export type WarmUp = "loopback-exchange" | "none";

/**
 * A few HTTP exchanges over loopback through a Session like the probe's
 * (the same TLS settings, unused for http; bodies into `sink()`, as the
 * first request's), answered by a responder of our own; `"none"` when they
 * could not run (no net grant for loopback, or one failed).
 */
export async function warmUpExchange(
  tls: TlsSettings,
  ctx: Context,
  sink: () => BodySink,
): Promise<WarmUp> {
  if (!loopbackGranted()) return "none";
  try {
    for (let i = 0; i < EXCHANGES; i++) {
      if (!await exchangeOnce(tls, ctx, sink)) return "none";
    }
    return "loopback-exchange";
  } catch {
    return "none";
  }
}

async function exchangeOnce(
  tls: TlsSettings,
  ctx: Context,
  sink: () => BodySink,
): Promise<boolean> {
  using listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const answered = respondOnce(listener);
  // Awaited only when the exchange worked; its failure is the exchange's.
  answered.catch(() => {});
  using watch = new Watchdog(WARM_UP_TIMEOUT_MS, ctx, {
    operation: "connect",
    address: `127.0.0.1:${port}`,
  });
  const session = new Session({ maxHeaderBytes: HEAD_LIMIT, maxBodyBytes: 1024, tls }, watch);
  try {
    const url = new URL(`http://127.0.0.1:${port}/`);
    const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    const exchange = await session.exchange({ url, method: "GET", head }, sink);
    await answered;
    return exchange.head.status === 200;
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

/** Accepts one connection, reads its request head and answers it. */
async function respondOnce(listener: ReturnType<typeof listenTcp>): Promise<void> {
  using conn = await listener.accept({ timeout: WARM_UP_TIMEOUT_MS });
  const buffer = new Uint8Array(HEAD_LIMIT);
  let filled = 0;
  const end = new TextEncoder().encode("\r\n\r\n");
  while (!contains(buffer.subarray(0, filled), end)) {
    if (filled === buffer.length) throw new RangeError("Cannot warm up: request head too large");
    const n = await conn.read(buffer.subarray(filled), { timeout: WARM_UP_TIMEOUT_MS });
    if (n === null) throw new Error("Cannot warm up: the connection closed early");
    filled += n;
  }
  await conn.write(RESPONSE, { timeout: WARM_UP_TIMEOUT_MS });
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
