/**
 * The HTTP probe's server role: a small configurable HTTP/1.1 (and HTTPS)
 * responder, so fixtures and examples have a target with nothing installed.
 *
 * It runs on wiretest's own TCP and TLS transports rather than `Deno.serve`,
 * which has neither an idle nor a header timeout: a client that connects and
 * says nothing, or trickles a request head a byte at a time, would hold its
 * socket forever.
 *
 * @module
 */
import { type Context, readInputTextFile, type Service } from "../../lib/plugin/mod.ts";
import {
  type Conn,
  formatAddress,
  type Listener,
  listenTcp,
  listenTls,
  serveConnections,
  type ServedConnection,
} from "../../lib/transport/mod.ts";
import type { HttpServerParams } from "./params.ts";
import { BadRequest, RequestReader } from "./_request_reader.ts";
import { MinDataRate } from "./_min_data_rate.ts";

// Statuses whose responses have no body.
const NULL_BODY = new Set([204, 205, 304]);
// Largest request head (and trailer section) accepted.
const MAX_HEAD_BYTES = 64 * 1024;
// Bodies are written in blocks of about this size: few writes, little memory.
const BLOCK_BYTES = 256 * 1024;
// How long, and how many bytes, a refused request's remains are read and dropped.
const LINGER_MS = 1000;
const LINGER_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Starts the responder: every request, whatever its method or path, gets
 * `status`, `headers` and `body` (repeated `bodyRepeat` times, streamed
 * chunked when `chunked` is set), after `delayMs`. It serves HTTPS when
 * `certFile` and `keyFile` are set (ALPN `http/1.1`).
 *
 * A connection is closed when it has been silent for `idleTimeoutMs`
 * (between requests, or a client that stopped reading the answer), when a
 * request head has not arrived whole within `headersTimeoutMs` (a slowloris
 * client), or when a request body arrives, or an answer is read, slower than
 * `minDataRate` bytes/s once `minDataRateGraceMs` has passed (a trickling
 * client is never silent). Connections beyond `maxConnections` are closed as
 * soon as accepted. A request that is not HTTP/1.x, is malformed (a control
 * character in the target or a value, no Host, two or one that is not
 * host[:port], broken body framing) gets `400`, a head or
 * trailers over 64 KiB `431`, and the connection is closed. Request bodies
 * are read and discarded.
 *
 * The service's `stats()` are `requests` (answered or being answered),
 * `connections` (accepted), `active` (open now), `rejected` (over
 * `maxConnections`), `timed_out` (closed by a timeout; `idle_timeouts`,
 * `headers_timeouts` and `rate_timeouts` say which), `bad_requests` and
 * `shutdown_aborted`. `close()` stops accepting, closes connections waiting
 * for a request, cuts pending delays short, gives answers in progress
 * `closeTimeoutMs`, then closes the connections still busy, counts them in
 * `shutdown_aborted` and logs a warning; it resolves once every connection
 * is closed.
 *
 * @param params Validated server params.
 * @param ctx The role's context; its log gets a line per failed connection.
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
export async function serveHttp(params: HttpServerParams, ctx: Context): Promise<Service> {
  const listener: Listener = params.certFile && params.keyFile
    ? listenTls({
      hostname: params.host,
      port: params.port,
      cert: await readInputTextFile(params.certFile),
      key: await readInputTextFile(params.keyFile),
      alpnProtocols: ["http/1.1"],
      tlsServer: params.tlsServer,
    })
    : listenTcp({ hostname: params.host, port: params.port });
  const where = formatAddress(listener.addr);
  const response = new ResponseBytes(params);
  const own = {
    requests: 0,
    bad_requests: 0,
    headers_timeouts: 0,
    rate_timeouts: 0,
    shutdown_aborted: 0,
  };

  const answer = async (conn: Conn, connection: ServedConnection) => {
    let busy = false;
    // Connections waiting for a request go at close(); answers in progress
    // get closeTimeoutMs to finish.
    const onShutdown = () => void (busy || conn.close());
    connection.signal.addEventListener("abort", onShutdown, { once: true });
    const reader = new RequestReader(conn, MAX_HEAD_BYTES);
    const rate = new MinDataRate(connection, params.minDataRate, params.minDataRateGraceMs);
    // What a deadline closing the connection was for.
    let phase: "head" | "rate" | undefined;
    // A request head must arrive whole within headersTimeoutMs (slowloris).
    reader.onHeadStart = () => {
      phase = "head";
      connection.setDeadline(params.headersTimeoutMs);
    };
    reader.onBytes = (count) => rate.received(count);
    // A TLS handshake is part of the first head: its bytes never reach the
    // reader, so a client that stops mid-ClientHello would otherwise be held
    // by the idle timeout alone (for ever with idleTimeoutMs 0).
    if (conn.transport === "tls") reader.onHeadStart();
    const sink: ResponseSink = {
      write: (bytes) => {
        rate.writing(bytes.length);
        return conn.write(bytes);
      },
    };
    try {
      while (!connection.signal.aborted) {
        busy = false;
        try {
          const head = await reader.readHead();
          connection.setDeadline(undefined);
          phase = undefined;
          if (head === null) return;
          busy = true;
          own.requests++;
          phase = "rate";
          if (head.expectContinue) await sink.write(CONTINUE);
          rate.startReading();
          await reader.skipBody(head);
          rate.stop();
          if (params.delayMs > 0) {
            // A wait of our own making, not the client's silence; cut short by close().
            await connection.pause(params.delayMs);
          }
          const close = head.close || connection.signal.aborted;
          await response.write(sink, head.method === "HEAD", close);
          rate.stop();
          phase = undefined;
          if (close) return;
        } catch (error) {
          if (!(error instanceof BadRequest)) throw error;
          own.bad_requests++;
          ctx.log("debug", `http-probe server ${where}: ${error.message}`);
          connection.setDeadline(undefined);
          phase = undefined;
          await refuse(conn, response.error(error.status));
          return;
        }
      }
    } catch (error) {
      if (connection.closeReason === "deadline") {
        if (phase === "head") own.headers_timeouts++;
        else own.rate_timeouts++;
      } else if (!connection.signal.aborted && connection.closeReason === undefined) {
        // Closed by close() or a timeout is the plan; anything else is worth a line.
        ctx.log("debug", `http-probe server ${where}: ${(error as Error).message}`);
      }
    } finally {
      connection.signal.removeEventListener("abort", onShutdown);
    }
  };

  const server = serveConnections(listener, answer, {
    idleTimeout: params.idleTimeoutMs,
    maxConnections: params.maxConnections,
    drainTimeout: params.closeTimeoutMs,
    // Out of file descriptors (or the like) passes as connections end: say
    // so once per run of failures.
    onAcceptError: (error, failures) => {
      if (failures === 1) ctx.log("warn", `http-probe server ${where}: ${error.message}`);
    },
  });

  const close = async () => {
    const { aborted } = await server.close();
    own.shutdown_aborted = aborted;
    if (aborted > 0) {
      ctx.log(
        "warn",
        `http-probe server ${where}: closed ${aborted} connection${
          aborted === 1 ? "" : "s"
        } still busy ${params.closeTimeoutMs} ms after close() began`,
      );
    }
  };
  let closed: Promise<void> | undefined;
  return {
    address: listener.addr,
    stats: () => {
      const s = server.stats();
      return {
        requests: own.requests,
        connections: s.accepted,
        active: s.active,
        rejected: s.rejected,
        timed_out: s.idle_closed + s.deadline_closed,
        idle_timeouts: s.idle_closed,
        headers_timeouts: own.headers_timeouts,
        rate_timeouts: own.rate_timeouts,
        bad_requests: own.bad_requests,
        shutdown_aborted: own.shutdown_aborted,
      };
    },
    close: () => closed ??= close(),
  };
}

/**
 * Answers a request the responder refuses and closes gently: the write side
 * first, then what the client still sends is read and dropped for a moment
 * (a bounded lingering close), so the answer is not lost to a reset from
 * unread bytes.
 */
async function refuse(conn: Conn, answer: Uint8Array): Promise<void> {
  try {
    await conn.write(answer, { timeout: LINGER_MS });
    await conn.closeWrite();
    const until = performance.now() + LINGER_MS;
    const scratch = new Uint8Array(16 * 1024);
    for (let dropped = 0; dropped < LINGER_BYTES;) {
      const left = until - performance.now();
      if (left <= 0) return;
      const n = await conn.read(scratch, { timeout: left });
      if (n === null) return;
      dropped += n;
    }
  } catch {
    // The client went first, or the lingering time ran out: closing is all that is left.
  }
}

/** Where a response is written (the connection, metered by the minimum data rate). */
interface ResponseSink {
  write(bytes: Uint8Array): Promise<void>;
}

const CONTINUE = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

/** The bytes of the one response the responder gives, built once. */
class ResponseBytes {
  #params: HttpServerParams;
  #hasBody: boolean;
  #chunk: Uint8Array;
  #heads = new Map<string, Uint8Array>();
  // The whole response when it is small: one write per request.
  #whole = new Map<boolean, Uint8Array>();
  // A block of repetitions (framed as chunks when chunked).
  #block: Uint8Array;
  #perBlock: number;

  constructor(params: HttpServerParams) {
    this.#params = params;
    this.#hasBody = !NULL_BODY.has(params.status);
    this.#chunk = encoder.encode(params.body);
    const framed = params.chunked && this.#chunk.length > 0
      ? concat(encoder.encode(`${this.#chunk.length.toString(16)}\r\n`), this.#chunk, CRLF)
      : this.#chunk;
    this.#perBlock = framed.length === 0
      ? params.bodyRepeat
      : Math.max(1, Math.min(params.bodyRepeat, Math.floor(BLOCK_BYTES / framed.length)));
    this.#block = framed.length === 0 ? framed : repeat(framed, this.#perBlock);
  }

  /** Writes the response; `headOnly` for HEAD, `close` adds `Connection: close`. */
  async write(conn: ResponseSink, headOnly: boolean, close: boolean): Promise<void> {
    const p = this.#params;
    const bodyBytes = this.#chunk.length * p.bodyRepeat;
    if (headOnly || !this.#hasBody) {
      await conn.write(this.#head(close));
      return;
    }
    if (!p.chunked && bodyBytes <= BLOCK_BYTES) {
      let whole = this.#whole.get(close);
      if (!whole) this.#whole.set(close, whole = concat(this.#head(close), this.#block));
      await conn.write(whole);
      return;
    }
    await conn.write(this.#head(close));
    if (this.#block.length > 0) {
      for (let left = p.bodyRepeat; left > 0; left -= this.#perBlock) {
        const block = left >= this.#perBlock
          ? this.#block
          : this.#block.subarray(0, this.#block.length / this.#perBlock * left);
        await conn.write(block);
      }
    }
    if (p.chunked) {
      await conn.write(LAST_CHUNK);
    }
  }

  /** A bodyless error answer that closes the connection. */
  error(status: 400 | 431 | 505): Uint8Array {
    return encoder.encode(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  }

  #head(close: boolean): Uint8Array {
    const key = String(close);
    let head = this.#heads.get(key);
    if (head) return head;
    const p = this.#params;
    const lines = [`HTTP/1.1 ${p.status} ${REASONS[p.status] ?? ""}`.trimEnd()];
    for (const line of p.headers) {
      const colon = line.indexOf(":");
      lines.push(`${line.slice(0, colon).trim()}: ${line.slice(colon + 1).trim()}`);
    }
    if (this.#hasBody) {
      lines.push(
        p.chunked
          ? "transfer-encoding: chunked"
          : `content-length: ${this.#chunk.length * p.bodyRepeat}`,
      );
    }
    if (close) lines.push("connection: close");
    head = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
    this.#heads.set(key, head);
    return head;
  }
}

// Reason phrases of the statuses RFC 9110 and its companions define (from 200 up).
const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a Teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const part of parts) {
    out.set(part, off);
    off += part.length;
  }
  return out;
}

function repeat(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}
