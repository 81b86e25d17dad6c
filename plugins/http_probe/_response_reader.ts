// Reads HTTP/1.x responses from a Conn through one reusable buffer: the head
// is parsed as text, the body is handed to a sink in place (no copies), so a
// 100 MiB body costs one buffer, not 100 MiB.
import { clearImmediate, setImmediate } from "node:timers";
import { type Conn, ConnectionError } from "../../lib/transport/mod.ts";
import { clipText } from "../../lib/plugin/mod.ts";
import { HttpParseError, type HttpParsePart } from "./errors.ts";

/**
 * Response header fields: lowercased names; repeats joined by ", " (set-cookie
 * kept as a list). A null-prototype object: names come from the peer, so
 * `constructor` or `__proto__` must be fields like any other.
 */
export type HeaderFields = Record<string, string | string[]>;

/** A parsed status line and header section. */
export interface ResponseHead {
  /** `"1.1"` or `"1.0"`. */
  httpVersion: string;
  /** Status code. */
  status: number;
  /** Reason phrase (may be empty). */
  reason: string;
  /** Header fields. */
  headers: HeaderFields;
  /** Bytes of the head, terminator included. */
  headBytes: number;
}

/** How the body of a response is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/**
 * Receives body bytes; the view is only valid during the call (until the
 * promise it returns, if any, settles: reading waits for it).
 */
export type BodySink = (chunk: Uint8Array) => void | Promise<void>;

/** What reading a body found. */
export interface BodyResult {
  /** Body bytes (after removing chunked framing). */
  bytes: number;
  /** Trailer fields of a chunked body, if any. */
  trailers?: HeaderFields;
}

const LF = 10;
const CR = 13;
const MAX_CHUNK_LINE = 4096;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;
const SP = 32;
const HT = 9;
const HTTP_PREFIX = new TextEncoder().encode("HTTP/");
/** Why an idle connection's check stopped waiting: nothing had arrived. */
const STILL_IDLE = new Error("still idle");
const FORBIDDEN_IN_VALUE = /[\0\r]/;
/** Fields that hold one value, which a list join would corrupt. */
const SINGLETONS = new Set(["location"]);

// A connection's read buffer starts small (one probe's response fits, and a
// new connection per probe zeroed 64 KiB, about 40 µs) and grows while reads
// fill it, up to READ_BUFFER_BYTES, or to a head's limit.
const INITIAL_BUFFER_BYTES = 16 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;

/** A buffered reader of HTTP/1.x responses over one connection. */
export class ResponseReader {
  #conn: Conn;
  #address: string;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  // The last head parsed on this connection and its bytes: a keep-alive
  // connection mostly gets the same head again (a load run), and the same
  // bytes parse to the same head, so it is not parsed again.
  #lastHeadBytes: Uint8Array | undefined;
  #lastHead: ResponseHead | undefined;

  constructor(conn: Conn, address: string, bufferSize = INITIAL_BUFFER_BYTES) {
    this.#conn = conn;
    this.#address = address;
    this.#buf = new Uint8Array(bufferSize);
  }

  /** Bytes read from the socket but not consumed yet. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Waits until at least one byte is buffered; `false` at end of stream. */
  async ready(): Promise<boolean> {
    return this.#end > this.#start || await this.#fill();
  }

  /**
   * On an idle connection (between responses), tells whether the peer has
   * already closed it or sent something unasked (e.g. a 408 before closing):
   * either way it cannot carry a request. Waits no longer than it takes an
   * already arrived end of stream to be seen; a read still pending then is
   * kept by the Conn for the next response.
   */
  async closedWhileIdle(): Promise<boolean> {
    if (this.#end > this.#start) return true;
    this.#start = this.#end = 0;
    // Given up after one turn of the event loop, which delivers what the
    // socket already has; a timer would cost a millisecond or more.
    const idle = new AbortController();
    const turn = setImmediate(() => idle.abort(STILL_IDLE));
    try {
      const n = await this.#conn.read(this.#buf.subarray(this.#end), { signal: idle.signal });
      if (n === null) return true;
      this.#end += n;
      return true;
    } catch (error) {
      return error !== STILL_IDLE;
    } finally {
      clearImmediate(turn);
    }
  }

  /**
   * Reads a status line and header section of at most `maxBytes` bytes.
   * The head returned is frozen: a head byte for byte the same as the
   * last one on this connection is that same object, not parsed again.
   *
   * @throws {RangeError} When the head is larger than `maxBytes`.
   * @throws {HttpParseError} When it is not an HTTP/1.x response head.
   * @throws {ConnectionError} When the peer closes before the head ends.
   */
  async readHead(maxBytes: number): Promise<ResponseHead> {
    // The same bytes as the last head, its empty line included, end where
    // it ended: no need to look for the end either.
    const last = this.#lastHeadBytes;
    if (
      last !== undefined && last.length <= maxBytes && this.#end - this.#start >= last.length &&
      sameBytes(last, this.#buf, this.#start, last.length)
    ) {
      this.#start += last.length;
      return this.#lastHead!;
    }
    // A peer speaking another protocol (a banner, then silence) fails at
    // once instead of at the deadline: its first bytes are not "HTTP/".
    const length = await this.#readSection(maxBytes, "response head", false, () => {
      this.#checkStatusPrefix();
    });
    const start = this.#start;
    const head = this.#parseHead(length);
    this.#lastHeadBytes = this.#buf.slice(start, start + length);
    this.#lastHead = head;
    return head;
  }

  // Parses the `length` bytes of head at #start and consumes them.
  #parseHead(length: number): ResponseHead {
    const text = headText(this.#buf, this.#start, this.#start + length);
    this.#start += length;
    let eol = text.indexOf("\n");
    const statusLine = text.slice(0, eol > 0 && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol);
    const m = STATUS_LINE.exec(statusLine);
    if (!m) this.#parseError("status-line", `invalid status line "${clipText(statusLine)}"`);
    if (m[1] !== "1") {
      this.#parseError("status-line", `unsupported HTTP version "${m[1]}.${m[2]}"`);
    }
    // RFC 9110 section 15: a status code is 100 to 599; "000" is no answer.
    const status = Number(m[3]);
    if (status < 100 || status > 599) {
      this.#parseError("status-line", `status code "${m[3]}" is not in 100-599`);
    }
    if (FORBIDDEN_IN_VALUE.test(m[4] ?? "")) {
      this.#parseError(
        "status-line",
        `reason phrase has a NUL or bare CR: "${clipText(statusLine)}"`,
      );
    }
    eol++;
    const headers = this.#parseFields(text, eol);
    for (const value of Object.values(headers)) if (Array.isArray(value)) Object.freeze(value);
    return Object.freeze({
      httpVersion: `${m[1]}.${m[2]}`,
      status,
      reason: m[4] ?? "",
      headers: Object.freeze(headers),
      headBytes: length,
    });
  }

  /**
   * Reads a body delimited as `framing` says, handing every byte to `sink`.
   *
   * @throws {RangeError} When the body is larger than `maxBodyBytes`.
   * @throws {HttpParseError} On an invalid chunk size line or chunk end.
   * @throws {ConnectionError} When the peer closes before the body ends.
   */
  async readBody(
    framing: BodyFraming,
    sink: BodySink,
    maxBodyBytes: number,
    maxTrailerBytes: number,
  ): Promise<BodyResult> {
    switch (framing.kind) {
      case "none":
        this.#checkNoExcess("a response that has no body");
        return { bytes: 0 };
      case "length": {
        this.#checkBodySize(framing.length, maxBodyBytes);
        const got = await this.#pipe(framing.length, sink);
        if (got < framing.length) {
          this.#closed(`connection closed after ${got} of ${framing.length} body bytes`);
        }
        this.#checkNoExcess(`the ${framing.length}-byte body that Content-Length announced`);
        return { bytes: got };
      }
      case "chunked": {
        const result = await this.#readChunked(sink, maxBodyBytes, maxTrailerBytes);
        this.#checkNoExcess("the end of the chunked body");
        return result;
      }
      case "close": {
        let total = 0;
        while (await this.ready()) {
          const chunk = this.#buf.subarray(this.#start, this.#end);
          total += chunk.length;
          this.#checkBodySize(total, maxBodyBytes);
          const pending = sink(chunk);
          if (pending) await pending;
          this.#start = this.#end;
        }
        return { bytes: total };
      }
    }
  }

  async #readChunked(
    sink: BodySink,
    maxBodyBytes: number,
    maxTrailerBytes: number,
  ): Promise<BodyResult> {
    let total = 0;
    while (true) {
      const line = await this.#readLine(MAX_CHUNK_LINE, total);
      // Chunk extensions (";name=value") carry nothing we report.
      const sizeText = line.split(";", 1)[0].trim();
      if (!/^[0-9A-Fa-f]{1,15}$/.test(sizeText)) {
        this.#parseError("chunk", `invalid chunk size line "${clipText(line)}"`);
      }
      const size = parseInt(sizeText, 16);
      if (size === 0) break;
      this.#checkBodySize(total + size, maxBodyBytes);
      const got = await this.#pipe(size, sink);
      total += got;
      if (got < size) {
        this.#closed(`connection closed inside a chunk after ${total} body bytes`);
      }
      const end = await this.#readLine(MAX_CHUNK_LINE, total);
      if (end !== "") {
        this.#parseError("chunk", `chunk data is not followed by CRLF but "${clipText(end)}"`);
      }
    }
    const length = await this.#readSection(maxTrailerBytes, "trailer section", true);
    const text = headText(this.#buf, this.#start, this.#start + length);
    this.#start += length;
    const trailers = this.#parseFields(text, 0);
    return Object.keys(trailers).length ? { bytes: total, trailers } : { bytes: total };
  }

  // Hands up to `count` bytes to the sink; returns how many came before EOF.
  async #pipe(count: number, sink: BodySink): Promise<number> {
    let left = count;
    while (left > 0) {
      if (this.#end === this.#start && !await this.#fill()) break;
      const take = Math.min(left, this.#end - this.#start);
      const pending = sink(this.#buf.subarray(this.#start, this.#start + take));
      if (pending) await pending;
      this.#start += take;
      left -= take;
    }
    return count - left;
  }

  // Finds the end of a section ending in an empty line (head or trailers) and
  // returns its length from #start, terminator included. Only a trailer
  // section may be the empty line alone.
  async #readSection(
    maxBytes: number,
    what: string,
    mayBeEmpty = false,
    check?: () => void,
  ): Promise<number> {
    let scanned = 0;
    while (true) {
      const found = this.#sectionEnd(scanned, mayBeEmpty);
      if (found >= 0) {
        if (found - this.#start > maxBytes) this.#tooLarge(what, maxBytes);
        return found - this.#start;
      }
      if (this.#end - this.#start > maxBytes) this.#tooLarge(what, maxBytes);
      // Only before waiting: a head that came whole costs nothing extra.
      check?.();
      // Rescan the last bytes: a terminator may straddle two reads.
      scanned = Math.max(0, this.#end - this.#start - 3);
      this.#makeRoom(maxBytes + 4);
      if (!await this.#fill()) {
        const got = this.#end - this.#start;
        this.#closed(
          got === 0 && what === "response head"
            ? "connection closed before a response"
            : `connection closed inside the ${what} after ${got} bytes`,
        );
      }
    }
  }

  // Fails on a first line that cannot become a status line: bytes that are
  // not "HTTP/", or a whole first line the status line pattern rejects.
  #checkStatusPrefix(): void {
    const b = this.#buf, s = this.#start, n = Math.min(this.#end - s, 160);
    let ok = true;
    for (let i = 0; i < Math.min(n, HTTP_PREFIX.length); i++) ok &&= b[s + i] === HTTP_PREFIX[i];
    const eol = b.subarray(s, s + n).indexOf(LF);
    const stop = eol < 0 ? s + n : eol > 0 && b[s + eol - 1] === CR ? s + eol - 1 : s + eol;
    const line = headText(b, s, stop);
    if (!ok || (eol >= 0 && !STATUS_LINE.test(line))) {
      this.#parseError("status-line", `invalid status line "${clipText(line)}"`);
    }
  }

  #sectionEnd(scanned: number, mayBeEmpty: boolean): number {
    const b = this.#buf, s = this.#start, n = this.#end - s;
    if (mayBeEmpty) {
      if (n >= 1 && b[s] === LF) return s + 1;
      if (n >= 2 && b[s] === CR && b[s + 1] === LF) return s + 2;
      if (n < 2) return -1;
    }
    return findSectionEnd(b, s, s + scanned, this.#end);
  }

  // Reads one line (CRLF or LF) of at most maxLength bytes, as text.
  async #readLine(maxLength: number, bodyBytes: number): Promise<string> {
    let scanned = 0;
    while (true) {
      const i = this.#buf.subarray(0, this.#end).indexOf(LF, this.#start + scanned);
      if (i >= 0) {
        const stop = i > this.#start && this.#buf[i - 1] === CR ? i - 1 : i;
        const line = headText(this.#buf, this.#start, stop);
        this.#start = i + 1;
        return line;
      }
      if (this.#end - this.#start > maxLength) {
        this.#parseError("chunk", `chunk size line is longer than ${maxLength} bytes`);
      }
      scanned = this.#end - this.#start;
      this.#makeRoom(maxLength + 2);
      if (!await this.#fill()) {
        this.#closed(`connection closed inside a chunked body after ${bodyBytes} body bytes`);
      }
    }
  }

  // Ensures the buffer can hold `need` bytes from #start on, compacting or
  // growing it only when it is full.
  #makeRoom(need: number): void {
    if (this.#end < this.#buf.length) return;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
      return;
    }
    if (this.#buf.length < need) {
      const bigger = new Uint8Array(Math.min(need, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#end));
      this.#buf = bigger;
    }
  }

  // Reads more bytes after #end; `false` at end of stream.
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) this.#makeRoom(this.#buf.length);
    if (this.#end === this.#buf.length) {
      // Callers check their limits first, so this means a broken invariant.
      throw new RangeError(`Cannot read from ${this.#address}: the read buffer is full`);
    }
    const free = this.#buf.length - this.#end;
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    // A read that filled the buffer: more is coming (a large body), read it
    // in larger pieces. Views given to sinks stay valid: the old buffer is
    // not reused.
    if (n === free && this.#buf.length < READ_BUFFER_BYTES) {
      const bigger = new Uint8Array(Math.min(READ_BUFFER_BYTES, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = bigger;
    }
    return true;
  }

  // Parses field lines from `from` to the empty line that ends `text`.
  #parseFields(text: string, from: number): HeaderFields {
    const fields: HeaderFields = Object.create(null);
    let last: string | undefined;
    let pos = from;
    while (pos < text.length) {
      let eol = text.indexOf("\n", pos);
      if (eol < 0) eol = text.length;
      const line = text.slice(pos, eol > pos && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol);
      pos = eol + 1;
      if (line === "") continue;
      const first = line.charCodeAt(0);
      if (first === SP || first === HT) {
        // Obsolete line folding (RFC 9112 section 5.2): replace with a space.
        if (last === undefined) {
          this.#parseError("header", `invalid header line "${clipText(line)}"`);
        }
        const prev = fields[last];
        const more = line.trim();
        if (FORBIDDEN_IN_VALUE.test(line)) {
          this.#parseError(
            "header",
            `header "${clipText(last)}" has a NUL or bare CR in its value`,
          );
        }
        if (Array.isArray(prev)) prev[prev.length - 1] += ` ${more}`;
        else fields[last] = `${prev} ${more}`;
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0 || !isToken(line, colon)) {
        this.#parseError("header", `invalid header line "${clipText(line)}"`);
      }
      const key = line.slice(0, colon).toLowerCase();
      const raw = line.slice(colon + 1);
      // RFC 9110 section 5.5: a value with NUL or CR must be rejected; it is
      // how a header is smuggled past one parser and split by another.
      // Tested before trim(), which would drop a CR at either end.
      if (FORBIDDEN_IN_VALUE.test(raw)) {
        this.#parseError("header", `header "${clipText(key)}" has a NUL or bare CR in its value`);
      }
      const value = raw.trim();
      const prev = fields[key];
      if (prev === undefined) {
        fields[key] = key === "set-cookie" ? [value] : value;
      } else if (Array.isArray(prev)) {
        prev.push(value);
      } else if (SINGLETONS.has(key)) {
        // Joined, two URLs become one that neither named: refuse, as for
        // a Content-Length with two values. An exact repeat says one thing.
        if (prev !== value) {
          this.#parseError(
            "header",
            `two different "${key}" headers: "${clipText(prev)}" and "${clipText(value)}"`,
          );
        }
      } else {
        fields[key] = `${prev}, ${value}`;
      }
      last = key;
    }
    return fields;
  }

  // We never pipeline, so bytes already here after a response's end belong
  // to no response: the framing lied (e.g. a Content-Length too small) and
  // the body seen is not the body sent. A stray CRLF is tolerated.
  #checkNoExcess(after: string): void {
    const extra = this.#end - this.#start;
    if (extra === 0) return;
    const b = this.#buf, s = this.#start;
    if ((extra === 1 && b[s] === LF) || (extra === 2 && b[s] === CR && b[s + 1] === LF)) {
      this.#start = this.#end;
      return;
    }
    throw new HttpParseError({
      part: after.includes("chunked") ? "chunk" : "content-length",
      address: this.#address,
      detail: `${extra} bytes arrived after ${after}`,
    });
  }

  #checkBodySize(bytes: number, maxBodyBytes: number): void {
    if (bytes > maxBodyBytes) {
      throw new RangeError(
        `Cannot read body from ${this.#address}: it exceeds maxBodyBytes ${maxBodyBytes}`,
      );
    }
  }

  #tooLarge(what: string, maxBytes: number): never {
    throw new RangeError(
      `Cannot read ${what} from ${this.#address}: it exceeds maxHeaderBytes ${maxBytes}`,
    );
  }

  #parseError(part: HttpParsePart, detail: string): never {
    throw new HttpParseError({ part, address: this.#address, detail });
  }

  #closed(detail: string): never {
    throw new ConnectionError({
      code: "closed",
      operation: "read",
      address: this.#address,
      detail,
    });
  }
}

/**
 * Decides how a response body is delimited (RFC 9112 section 6.3).
 *
 * @throws {HttpParseError} On an invalid or conflicting `Content-Length`.
 */
export function bodyFraming(head: ResponseHead, method: string, address: string): BodyFraming {
  const { status, headers } = head;
  if (method === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { kind: "none" };
  }
  const te = headers["transfer-encoding"];
  if (typeof te === "string") {
    const codings = te.toLowerCase().split(",").map((s) => s.trim());
    return codings[codings.length - 1] === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const cl = headers["content-length"];
  if (typeof cl === "string") {
    const values = new Set(cl.split(",").map((s) => s.trim()));
    const [value] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(value)) {
      throw new HttpParseError({
        part: "content-length",
        address,
        detail: `invalid Content-Length "${clipText(cl)}"`,
      });
    }
    return { kind: "length", length: Number(value) };
  }
  return { kind: "close" };
}

/**
 * Tells whether the connection may carry another request after this
 * response: not for close-delimited bodies, `Connection: close`, HTTP/1.0
 * without `keep-alive`, or a response that carried both framings.
 */
export function keepsAlive(head: ResponseHead, framing: BodyFraming): boolean {
  if (framing.kind === "close" || head.status === 101) return false;
  const te = head.headers["transfer-encoding"], cl = head.headers["content-length"];
  if (te !== undefined && cl !== undefined) return false;
  const connection = head.headers["connection"];
  const tokens = typeof connection === "string"
    ? connection.toLowerCase().split(",").map((s) => s.trim())
    : [];
  if (tokens.includes("close")) return false;
  return head.httpVersion === "1.1" || tokens.includes("keep-alive");
}

// Returns the index just past the first empty line (LF LF or LF CR LF) found
// at or after `from`, or -1.
function findSectionEnd(buf: Uint8Array, start: number, from: number, end: number): number {
  // A view that stops at `end`, so the search never runs into stale bytes.
  const view = buf.subarray(0, end);
  let i = view.indexOf(LF, Math.max(start, from));
  while (i >= 0) {
    if (i + 1 < end && buf[i + 1] === LF) return i + 2;
    if (i + 2 < end && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
    if (i + 2 >= end) return -1;
    i = view.indexOf(LF, i + 1);
  }
  return -1;
}

// Whether `buf[start, start + length)` holds exactly the bytes of `bytes`.
function sameBytes(bytes: Uint8Array, buf: Uint8Array, start: number, length: number): boolean {
  if (bytes.length !== length) return false;
  for (let i = 0; i < length; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}

// RFC 9110 token characters, by char code.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function isToken(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

const utf8 = new TextDecoder();

// Head bytes as text. UTF-8 (non-fatal) rather than ISO-8859-1: ASCII, which
// heads almost always are, decodes on a fast path several times quicker, and
// bytes that are not UTF-8 become U+FFFD in facts, never in framing.
function headText(buf: Uint8Array, start: number, end: number): string {
  return utf8.decode(buf.subarray(start, end));
}
