// One client connection at a time, reused while the server keeps it alive:
// opening it (timed DNS, TCP, TLS), sending a request, reading the response
// with phase timings.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { type Conn, ConnectionError, connectTcp, formatAddress } from "../../lib/transport/mod.ts";
import { withDeadline } from "../../lib/plugin/mod.ts";
import { type OpenedTls, type TlsFacts, TlsOpener, type TlsSettings } from "./_tls.ts";
import {
  type BodyFraming,
  bodyFraming,
  type BodyResult,
  type BodySink,
  keepsAlive,
  type ResponseHead,
  ResponseReader,
} from "./_response_reader.ts";
import type { Activity, WatchdogLike } from "./_watchdog.ts";

/** Durations of one request's phases, in milliseconds; they add up to `total`. */
export interface Phases {
  dns: number;
  connect: number;
  tls: number;
  ttfb: number;
  transfer: number;
  total: number;
}

/** The phases of an exchange that ended before they all did. */
export type FinishedPhases = Partial<Pick<Phases, "dns" | "connect" | "tls" | "ttfb">>;

/** A request ready to send. */
export interface OutgoingRequest {
  url: URL;
  method: string;
  /** The encoded head (request line and headers). */
  head: Uint8Array;
  /** The body: bytes, a file to stream, or none. */
  body?: Uint8Array | { file: string; size: number };
}

/** What one exchange produced. */
export interface Exchange {
  head: ResponseHead;
  /** Bytes of every head read, interim (1xx) responses included. */
  headerBytes: number;
  framing: BodyFraming;
  body: BodyResult;
  phases: Phases;
  /** `performance.now()` when the exchange started. */
  start: number;
  /**
   * `performance.now()` when the connection was ready for the request: over
   * TLS once its facts are read, over plain TCP when the connect ended.
   * `processing` (`ttfb`) starts there, as blackbox_exporter's starts when
   * the connection is handed over.
   */
  readyAt: number;
  /**
   * Milliseconds inside the exchange that no phase counts: a TLS inspection
   * before the measured connection, and reading the TLS facts after the
   * handshake (blackbox_exporter's `processing` starts when the connection
   * is handed over, too). 0 over plain TCP. `start + pausedMs +
   * phases.total` is when it ended.
   */
  pausedMs: number;
  /** Whether an already open connection carried it. */
  reused: boolean;
  /** The connected peer, `ip:port`. */
  remoteAddress: string;
  /** TLS facts of the connection, for https. */
  tls?: TlsFacts;
}

/** Limits and TLS settings a session applies to every exchange. */
export interface SessionOptions {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  tls: TlsSettings;
}

const STALE = new Set(["closed", "reset", "broken-pipe", "aborted"]);
/**
 * Methods a client may send again on its own (RFC 9110 section 9.2.2): the
 * server ending up with two is the same as one. Any other (POST, PATCH, a
 * custom method) is never resent: the server may have run it already.
 */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const FILE_CHUNK = 64 * 1024;

/** A head's framing and whether its connection stays open, for one method. */
interface Framed {
  head: ResponseHead;
  method: string;
  framing: BodyFraming;
  keepsAlive: boolean;
}

/** When each phase of opening a connection ended, and time to leave out. */
interface OpenMarks {
  dns: number;
  connect: number;
  tls: number;
  /** When the connection was ready for the request (over TLS, its facts read). */
  ready: number;
  /** A TLS inspection before the measured connection, ms. */
  pausedMs: number;
}

export class Session {
  #options: SessionOptions;
  #watch: WatchdogLike;
  #tlsOpener: TlsOpener;
  #conn: Conn | undefined;
  #reader: ResponseReader | undefined;
  #origin = "";
  #remote = "";
  #tls: TlsFacts | undefined;
  #reusable = false;
  #fileBuffer: Uint8Array | undefined;
  // What the watchdog reports a timeout in, made once per connection.
  #writing: Activity = { operation: "write", address: "" };
  #reading: Activity = { operation: "read", address: "" };
  // How the last head's body is framed: a reader returns the same head
  // object for the same bytes, so a keep-alive run frames it once.
  #framed: Framed | undefined;
  /** Connections opened so far. */
  connections = 0;
  /** Requests sent so far (a resend on a new connection counts once more). */
  requests = 0;
  /** Milliseconds spent on TLS inspections, which no phase counts. */
  pausedMs = 0;
  /**
   * The phases the exchange under way (or the last one) finished, in ms: a
   * probe that fails midway reports what it measured, as blackbox_exporter
   * does (a timeout while waiting for the response still has its connect).
   */
  finished: FinishedPhases = {};
  /**
   * The server's `ip:port` the exchange under way (or the last one) is
   * connected to, or its last connection was tried at: a probe refused by
   * every address a name resolved to still says which it tried last.
   */
  address: string | undefined;
  /**
   * The head of the exchange under way (or the last one) and its request's
   * method, once read: a probe whose body then fails still reports the
   * status and headers that came, as blackbox_exporter does.
   */
  response: { head: ResponseHead; method: string } | undefined;

  constructor(options: SessionOptions, watch: WatchdogLike) {
    this.#options = options;
    this.#watch = watch;
    this.#tlsOpener = new TlsOpener(options.tls);
    watch.onFire(() => this.close());
  }

  /** TLS facts of the last handshake refused after it completed (see {@linkcode TlsOpener.refused}). */
  get refusedTls(): TlsFacts | undefined {
    return this.#tlsOpener.refused;
  }

  /** Handshake-only connections that inspected an HTTPS origin. */
  get tlsInspections(): number {
    return this.#tlsOpener.inspections;
  }

  /** Closes the current connection, if any. */
  close(): void {
    this.#conn?.close();
    this.#conn = undefined;
    this.#reader = undefined;
    this.#reusable = false;
  }

  /**
   * Sends `request` and reads the response; `sinkFor` picks where the body
   * goes once the head is known. A connection the server kept alive is
   * reused for the same origin; if it turns out stale (closed before any
   * response byte), an idempotent request is sent once more on a new
   * connection. Any other is not (RFC 9112 section 9.3.1): the server may
   * have run it before closing, so the exchange fails and says so. To make
   * that rare, such a request first checks that the server has not already
   * closed the idle connection.
   *
   * @throws {ConnectionError} `closed` when a non-idempotent request's
   * reused connection closed after it was sent.
   */
  async exchange(
    request: OutgoingRequest,
    sinkFor: (head: ResponseHead) => BodySink,
  ): Promise<Exchange> {
    const origin = request.url.origin;
    const idempotent = IDEMPOTENT.has(request.method);
    let reused = this.#conn !== undefined && this.#reusable && this.#origin === origin;
    if (reused && !idempotent && await this.#reader!.closedWhileIdle()) {
      this.close();
      reused = false;
    }
    let start = performance.now();
    this.finished = reused ? { dns: 0, connect: 0, tls: 0 } : {};
    this.response = undefined;
    let marks = reused
      ? { dns: start, connect: start, tls: start, ready: start, pausedMs: 0 }
      : await this.#open(request.url, start);
    const progress = { sent: false };
    let firstByte: number;
    try {
      firstByte = await this.#request(request, progress);
    } catch (error) {
      if (!reused || !isStale(error) || this.#watch.signal.aborted) throw error;
      if (!idempotent) throw notRetried(request.method, progress.sent, error as ConnectionError);
      start = performance.now();
      reused = false;
      marks = await this.#open(request.url, start);
      firstByte = await this.#request(request, progress);
    }
    this.finished.ttfb = firstByte - marks.ready;
    const reader = this.#reader!;
    this.#watch.activity = this.#reading;
    const { maxHeaderBytes, maxBodyBytes } = this.#options;
    let head = await reader.readHead(maxHeaderBytes);
    let headerBytes = head.headBytes;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    while (head.status >= 100 && head.status < 200 && head.status !== 101) {
      head = await reader.readHead(maxHeaderBytes);
      headerBytes += head.headBytes;
    }
    let framed = this.#framed;
    if (framed?.head !== head || framed.method !== request.method) {
      const framing = Object.freeze(bodyFraming(head, request.method, this.#remote));
      framed = this.#framed = {
        head,
        method: request.method,
        framing,
        keepsAlive: keepsAlive(head, framing),
      };
    }
    const framing = framed.framing;
    // Only a head whose body can be framed: one with a malformed
    // Content-Length is no response (nor is it one to Go's client).
    this.response = { head, method: request.method };
    const body = await reader.readBody(framing, sinkFor(head), maxBodyBytes, maxHeaderBytes);
    const end = performance.now();
    this.#reusable = framed.keepsAlive;
    // An inspection happened after the DNS lookup: the phases from there on
    // start that much later.
    const inspection = marks.pausedMs;
    const paused = inspection + (marks.ready - marks.tls);
    const exchange: Exchange = {
      head,
      headerBytes,
      framing,
      body,
      start,
      readyAt: marks.ready,
      pausedMs: paused,
      reused,
      remoteAddress: this.#remote,
      tls: this.#tls,
      phases: {
        dns: marks.dns - start,
        connect: marks.connect - marks.dns - inspection,
        tls: marks.tls - marks.connect,
        ttfb: firstByte - marks.ready,
        transfer: end - firstByte,
        total: end - start - paused,
      },
    };
    if (!this.#reusable) this.close();
    return exchange;
  }

  // Opens a connection to the URL's origin; returns when each phase ended.
  async #open(url: URL, start: number): Promise<OpenMarks> {
    this.close();
    const signal = this.#watch.signal;
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    this.#watch.activity = { operation: "resolve", address: host };
    this.address = undefined;
    const literal = isIP(host) !== 0;
    const addresses = literal ? [host] : await resolve(host, signal);
    // An IP literal has no lookup: its DNS phase is empty, as in curl.
    const dns = literal ? start : performance.now();
    this.finished = { dns: dns - start };
    // When the TCP connection under way started: its connect ends where the
    // TLS handshake begins (an inspection connection before it is not counted).
    let connectStart = dns;
    let conn: Conn | undefined;
    let tls: OpenedTls | undefined;
    let lastError: unknown;
    // Like curl, try each address the name resolved to until one connects.
    for (const hostname of addresses) {
      const where = formatAddress({ transport: "tcp", hostname, port });
      this.#watch.activity = { operation: "connect", address: where };
      this.address = where;
      try {
        if (url.protocol === "https:") {
          tls = await this.#tlsOpener.open(hostname, port, host, signal, (step) => {
            this.#watch.activity = { operation: step, address: where };
            const now = performance.now();
            if (step === "connect") connectStart = now;
            else this.finished = { dns: dns - start, connect: now - connectStart };
          });
          conn = tls.conn;
        } else {
          conn = await connectTcp({ hostname, port, signal });
        }
        break;
      } catch (error) {
        lastError = error;
        const code = error instanceof ConnectionError ? error.code : "";
        if (signal.aborted || (code !== "refused" && code !== "unreachable")) throw error;
      }
    }
    if (!conn) throw lastError;
    const connected = tls?.connectEnd ?? performance.now();
    this.connections++;
    this.#conn = conn;
    this.#remote = this.address = formatAddress(conn.remoteAddr);
    this.#writing = { operation: "write", address: this.#remote };
    this.#reading = { operation: "read", address: this.#remote };
    this.#reader = new ResponseReader(conn, this.#remote);
    this.#origin = url.origin;
    this.#tls = tls?.facts;
    const pausedMs = tls?.inspectionMs ?? 0;
    const tlsEnd = tls?.tlsEnd ?? connected;
    // Over plain TCP nothing after the connect is left out: setting up the
    // reader is this tool's own work and counts in ttfb, as curl's before
    // its pretransfer counts in its total.
    const ready = tls ? performance.now() : connected;
    this.pausedMs += pausedMs + (ready - tlsEnd);
    this.finished = {
      dns: dns - start,
      connect: connected - dns - pausedMs,
      tls: tlsEnd - connected,
    };
    return { dns, connect: connected, tls: tlsEnd, ready, pausedMs };
  }

  async #send(request: OutgoingRequest): Promise<void> {
    const conn = this.#conn!;
    this.#watch.activity = this.#writing;
    this.requests++;
    const body = request.body;
    if (body === undefined) return await conn.write(request.head);
    if (body instanceof Uint8Array) {
      // One write for head and a small body: one segment instead of two.
      if (body.length <= FILE_CHUNK) {
        const both = new Uint8Array(request.head.length + body.length);
        both.set(request.head);
        both.set(body, request.head.length);
        return await conn.write(both);
      }
      await conn.write(request.head);
      return await conn.write(body);
    }
    await conn.write(request.head);
    using file = await Deno.open(body.file, { read: true });
    const buffer = this.#fileBuffer ??= new Uint8Array(FILE_CHUNK);
    let sent = 0;
    while (sent < body.size) {
      const n = await file.read(buffer.subarray(0, Math.min(FILE_CHUNK, body.size - sent)));
      if (n === null) {
        throw new RangeError(
          `Cannot send body file "${body.file}": it shrank to ${sent} of ${body.size} bytes`,
        );
      }
      await conn.write(buffer.subarray(0, n));
      sent += n;
    }
  }

  /**
   * Sends the request and waits for the first response byte; resolves to
   * when that byte came (the end of `ttfb`), not to when the write
   * finished. The read waits while the write is in flight, as curl's poll
   * does: the write's completion and the response are seen in one turn of
   * the event loop instead of one turn each. `progress.sent` is set once
   * every request byte is written; until then a timeout is the write's.
   */
  async #request(request: OutgoingRequest, progress: { sent: boolean }): Promise<number> {
    progress.sent = false;
    const sending = this.#send(request).then(() => {
      progress.sent = true;
      this.#watch.activity = this.#reading;
    });
    const responding = this.#awaitResponse().then(() => performance.now());
    const [, firstByte] = await Promise.all([sending, responding]);
    return firstByte;
  }

  async #awaitResponse(): Promise<void> {
    if (!await this.#reader!.ready()) {
      throw new ConnectionError({
        code: "closed",
        operation: "read",
        address: this.#remote,
        detail: "connection closed before a response",
      });
    }
  }
}

// Says what happened to a request that may have reached the server.
function notRetried(method: string, sent: boolean, error: ConnectionError): ConnectionError {
  const when = sent ? "after the request was sent" : "while the request was being sent";
  return new ConnectionError({
    code: error.code,
    operation: error.operation,
    address: error.address,
    detail: `the reused connection closed ${when}, before any response; ${method} was not ` +
      "retried: it is not idempotent and the server may have run it (RFC 9112 section 9.3.1)",
    cause: error,
  });
}

function isStale(error: unknown): boolean {
  return error instanceof ConnectionError && STALE.has(error.code);
}

async function resolve(host: string, signal: AbortSignal): Promise<string[]> {
  try {
    const found = await withDeadline(
      { signal },
      { operation: "resolve", address: host },
      () => lookup(host, { all: true }),
    );
    return found.map((a) => a.address);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new ConnectionError({
      code: "dns",
      operation: "resolve",
      address: host,
      detail: `name could not be resolved (${(error as Error).message})`,
      cause: error,
    });
  }
}
