// Reads HTTP/1.x requests for the responder: just what answering and
// keeping a connection in step needs (method, version, framing of the body,
// Connection and Expect), through one buffer, with the body discarded.
import type { Conn } from "../../lib/transport/mod.ts";

/** What the responder needs of a request head. */
export interface RequestHead {
  method: string;
  /** `"1.1"` or `"1.0"`. */
  version: string;
  /** Body length, or `"chunked"`. */
  body: number | "chunked";
  /** The client asked to close (`Connection: close`, or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** `Expect: 100-continue`. */
  expectContinue: boolean;
}

/** A request the responder cannot answer; `status` is what it answers instead. */
export class BadRequest extends Error {
  readonly status: 400 | 431 | 505;

  constructor(status: 400 | 431 | 505, message: string) {
    super(message);
    this.name = "BadRequest";
    this.status = status;
  }
}

const LF = 10;
const CR = 13;
// The target: no space and no control character (RFC 9112 3.2).
// deno-lint-ignore no-control-regex
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\x00-\x20\x7f]+) HTTP\/(\d)\.(\d)$/;
// A field value holds visible characters, spaces and tabs only (RFC 9110
// 5.5): a bare CR or a NUL is read differently by different parsers, and
// other controls (ESC, DEL) have no business there either.
// deno-lint-ignore no-control-regex
const VALUE_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
// Host is uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): an IP literal
// or a reg-name, never user info, a path or a space; empty is allowed.
const HOST_VALUE = /^(?:\[[0-9a-f:.]+\]|[a-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_CHUNK_LINE = 4096;
const latin1 = new TextDecoder("latin1");

export class RequestReader {
  #conn: Conn;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #maxHead: number;
  /** Called after every read that brought bytes, with how many (the rate clock). */
  onBytes: (count: number) => void = () => {};
  /** Called when the first byte of a head is in (the head clock starts). */
  onHeadStart: () => void = () => {};

  constructor(conn: Conn, maxHeadBytes: number) {
    this.#conn = conn;
    this.#maxHead = maxHeadBytes;
    this.#buf = new Uint8Array(Math.min(16 * 1024, maxHeadBytes + 4));
  }

  /**
   * Reads the next request head; `null` when the client closed between
   * requests.
   *
   * @throws {BadRequest} When the head is too large or not HTTP/1.x.
   */
  async readHead(): Promise<RequestHead | null> {
    // Empty lines before a request line are allowed (RFC 9112 section 2.2).
    while (true) {
      if (this.#end === this.#start && !await this.#fill()) return null;
      const b = this.#buf[this.#start];
      if (b !== CR && b !== LF) break;
      this.#start++;
    }
    this.onHeadStart();
    let scanned = 0;
    while (true) {
      const end = this.#headEnd(scanned);
      if (end >= 0) return this.#parse(latin1.decode(this.#buf.subarray(this.#start, end)), end);
      if (this.#end - this.#start > this.#maxHead) {
        throw new BadRequest(431, `request head exceeds ${this.#maxHead} bytes`);
      }
      scanned = Math.max(0, this.#end - this.#start - 3);
      if (!await this.#fill()) throw new BadRequest(400, "connection closed inside a request head");
    }
  }

  /** Reads and discards the body the head announced. */
  async skipBody(head: RequestHead): Promise<void> {
    if (head.body === "chunked") return await this.#skipChunked();
    await this.#skip(head.body);
  }

  async #skipChunked(): Promise<void> {
    while (true) {
      const line = await this.#line();
      // Hex digits, then a chunk extension or nothing: whitespace only before
      // its ";" (RFC 9112 7.1.1), none around a bare size.
      const semicolon = line.indexOf(";");
      const size = semicolon < 0 ? line : line.slice(0, semicolon).trimEnd();
      if (!/^[0-9A-Fa-f]{1,15}$/.test(size)) {
        throw new BadRequest(400, `invalid chunk size line "${line.slice(0, 40)}"`);
      }
      const n = parseInt(size, 16);
      if (n === 0) break;
      await this.#skip(n);
      if (await this.#line() !== "") throw new BadRequest(400, "chunk data not followed by CRLF");
    }
    // Trailer fields, up to the empty line: as bounded as a head, line ends
    // counted, so a flood of tiny fields is as large as it looks.
    let trailerBytes = 0;
    while (true) {
      const line = await this.#line();
      if (line === "") return;
      trailerBytes += line.length + 2;
      if (trailerBytes > this.#maxHead) {
        throw new BadRequest(431, `request trailers exceed ${this.#maxHead} bytes`);
      }
    }
  }

  async #skip(count: number): Promise<void> {
    let left = count;
    while (left > 0) {
      if (this.#end === this.#start && !await this.#fill()) {
        throw new BadRequest(400, "connection closed inside a request body");
      }
      const take = Math.min(left, this.#end - this.#start);
      this.#start += take;
      left -= take;
    }
  }

  async #line(): Promise<string> {
    while (true) {
      const view = this.#buf.subarray(0, this.#end);
      const i = view.indexOf(LF, this.#start);
      if (i >= 0) {
        if (i - this.#start > MAX_CHUNK_LINE) throw new BadRequest(400, "chunk size line too long");
        // A bare LF ends a line for some parsers and not for others: inside
        // a body that is how requests are smuggled, so only CRLF is a line end.
        if (i === this.#start || this.#buf[i - 1] !== CR) {
          throw new BadRequest(400, "a line in a chunked body not ended by CRLF");
        }
        const line = latin1.decode(this.#buf.subarray(this.#start, i - 1));
        this.#start = i + 1;
        return line;
      }
      if (this.#end - this.#start > MAX_CHUNK_LINE) {
        throw new BadRequest(400, "chunk size line too long");
      }
      if (!await this.#fill()) throw new BadRequest(400, "connection closed inside a request body");
    }
  }

  // Index just past the empty line ending the head, or -1.
  #headEnd(from: number): number {
    const b = this.#buf, end = this.#end;
    const view = b.subarray(0, end);
    let i = view.indexOf(LF, this.#start + from);
    while (i >= 0) {
      if (i + 1 < end && b[i + 1] === LF) return i + 2;
      if (i + 2 < end && b[i + 1] === CR && b[i + 2] === LF) return i + 3;
      if (i + 2 >= end) return -1;
      i = view.indexOf(LF, i + 1);
    }
    return -1;
  }

  #parse(text: string, end: number): RequestHead {
    this.#start = end;
    const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
    const m = REQUEST_LINE.exec(lines[0]);
    if (!m) throw new BadRequest(400, `invalid request line "${lines[0].slice(0, 80)}"`);
    if (m[3] !== "1") throw new BadRequest(505, `HTTP version ${m[3]}.${m[4]} is not supported`);
    const version = `${m[3]}.${m[4]}`;
    let length: number | undefined;
    let chunked = false;
    let close = version === "1.0";
    let expectContinue = false;
    let hosts = 0;
    for (const line of lines.slice(1)) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      if (colon <= 0 || !TOKEN.test(name)) {
        throw new BadRequest(400, `invalid header line "${line.slice(0, 80)}"`);
      }
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (VALUE_CONTROL.test(value)) {
        throw new BadRequest(400, `${name} header value holds a control character (CR, NUL…)`);
      }
      if (name === "host") {
        hosts++;
        if (!HOST_VALUE.test(value)) {
          throw new BadRequest(400, `invalid Host "${value.slice(0, 80)}"`);
        }
      } else if (name === "content-length") {
        for (const part of value.split(",")) {
          const n = part.trim();
          if (!/^\d{1,15}$/.test(n) || (length !== undefined && Number(n) !== length)) {
            throw new BadRequest(400, `invalid Content-Length "${value.slice(0, 40)}"`);
          }
          length = Number(n);
        }
      } else if (name === "transfer-encoding") {
        const codings = value.split(",").map((s) => s.trim());
        // chunked once and last (RFC 9112 6.1); a second Transfer-Encoding
        // line adds to the list, so "chunked" twice is refused too. HTTP/1.0
        // has no chunked framing: a 1.0 request with it is faulty framing.
        if (
          codings.at(-1) !== "chunked" || chunked ||
          codings.indexOf("chunked") !== codings.length - 1 ||
          version === "1.0"
        ) {
          throw new BadRequest(400, `unsupported Transfer-Encoding "${value.slice(0, 40)}"`);
        }
        chunked = true;
      } else if (name === "connection") {
        const tokens = value.split(",").map((s) => s.trim());
        if (tokens.includes("close")) close = true;
        else if (tokens.includes("keep-alive")) close = false;
      } else if (name === "expect" && value === "100-continue") {
        expectContinue = true;
      }
    }
    // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host, HTTP/1.0 at most one.
    if (hosts > 1 || (hosts === 0 && version !== "1.0")) {
      throw new BadRequest(400, hosts > 1 ? `${hosts} Host headers` : "no Host header");
    }
    // Both framings at once is how requests are smuggled: refuse (RFC 9112 6.3).
    if (chunked && length !== undefined) {
      throw new BadRequest(400, "both Content-Length and Transfer-Encoding");
    }
    return {
      method: m[1],
      version,
      body: chunked ? "chunked" : length ?? 0,
      close,
      expectContinue,
    };
  }

  // Reads more bytes after #end, compacting or growing the buffer up to the
  // head limit; `false` at end of stream.
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(Math.min(this.#buf.length * 2, this.#maxHead + 4 + 4096));
        if (bigger.length <= this.#buf.length) {
          throw new BadRequest(431, `request head exceeds ${this.#maxHead} bytes`);
        }
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    this.onBytes(n);
    return true;
  }
}
