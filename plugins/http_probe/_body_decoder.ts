// Decodes a response body's content codings (gzip, deflate, br) as it
// streams, with a bound on the decoded size.
//
// node:zlib rather than the Web DecompressionStream: Deno's
// DecompressionStream hands over everything one input chunk decodes to in
// one piece (106 bytes of brotli became one 64 MiB chunk), so a bomb would
// be in memory before any limit could see it. node:zlib's streams emit
// `chunkSize` pieces and stop when destroyed: the limit is checked every
// 64 KiB and memory stays flat whatever the ratio. Deno runs each write's
// decoding synchronously (timers wait until it is done), so the deadline is
// also checked every 64 KiB.
//
// node:zlib is imported by loadDecoders(), which a probe with `compressed`
// awaits before any clock starts: without `compressed` nothing is decoded,
// and a plugin's process does not pay for the import (2 ms here with the rest
// of Node's compatibility layer loaded, 13 ms without).
import type { Transform } from "node:stream";
import { HttpParseError } from "./errors.ts";
import type { BodySink } from "./_response_reader.ts";

/** The probe's deadline, as the decoder sees it. */
export interface DecodeDeadline {
  /** Aborts when the deadline passes; the decoder then fails with its reason. */
  readonly signal: AbortSignal;
  /** Aborts `signal` now if the deadline has passed. */
  check(): void;
}

/** What `Accept-Encoding` offers with `compressed`: every coding decoded here. */
export const ACCEPT_ENCODING = "gzip, deflate, br";

const CHUNK = 64 * 1024;

let zlib: typeof import("node:zlib") | undefined;

/** Imports the decoders' library; a {@linkcode BodyDecoder} is made only after it resolved. */
export async function loadDecoders(): Promise<void> {
  zlib ??= await import("node:zlib");
}

function loaded(): typeof import("node:zlib") {
  if (zlib === undefined) throw new TypeError("Cannot decode body: loadDecoders() was not awaited");
  return zlib;
}

/** Decoders by content coding (RFC 9110 section 8.4.1; `x-gzip` is gzip). */
const DECODERS: Record<string, () => Transform> = Object.assign(Object.create(null), {
  gzip: () => loaded().createGunzip({ chunkSize: CHUNK }),
  "x-gzip": () => loaded().createGunzip({ chunkSize: CHUNK }),
  // RFC 9110's deflate is the zlib format; raw deflate is not accepted.
  deflate: () => loaded().createInflate({ chunkSize: CHUNK }),
  br: () => loaded().createBrotliDecompress({ chunkSize: CHUNK }),
});

/**
 * The content codings of a `Content-Encoding` value, in the order they
 * were applied, without `identity`.
 *
 * @throws {HttpParseError} For a coding this decoder does not know.
 */
export function contentCodings(value: string | string[] | undefined, address: string): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(",") : value;
  const codings = text.split(",").map((c) => c.trim().toLowerCase()).filter((c) =>
    c !== "" && c !== "identity"
  );
  for (const coding of codings) {
    if (!(coding in DECODERS)) {
      throw new HttpParseError({
        part: "content-encoding",
        address,
        detail: `unsupported content coding "${coding}" (compressed decodes gzip, deflate and br)`,
      });
    }
  }
  return codings;
}

/**
 * Decodes a body encoded with `codings` (applied in that order, so undone
 * in reverse) into `sink`. Feed it with {@linkcode BodyDecoder.write}, then
 * {@linkcode BodyDecoder.end}.
 */
export class BodyDecoder {
  readonly #first: Transform;
  readonly #stages: Transform[];
  readonly #sink: BodySink;
  readonly #maxBytes: number;
  readonly #address: string;
  readonly #deadline: DecodeDeadline;
  #failure: Error | undefined;
  #onFailure: ((error: Error) => void) | undefined;
  #ended: Promise<void>;
  /** Decoded bytes so far. */
  bytes = 0;

  constructor(
    codings: string[],
    sink: BodySink,
    maxBytes: number,
    address: string,
    deadline: DecodeDeadline,
  ) {
    this.#sink = sink;
    this.#deadline = deadline;
    this.#maxBytes = maxBytes;
    this.#address = address;
    this.#stages = [...codings].reverse().map((coding) => DECODERS[coding]());
    this.#first = this.#stages[0];
    // Each stage's output is a decoded body too: each is held to the limit,
    // so no stage can buffer more than that for the next.
    for (let i = 0; i < this.#stages.length; i++) {
      const stage = this.#stages[i];
      const next = this.#stages[i + 1];
      let produced = 0;
      stage.on("data", (chunk: Uint8Array) => {
        if (this.#failure) return;
        this.#deadline.check();
        if (this.#failure) return;
        produced += chunk.length;
        if (produced > this.#maxBytes) {
          return this.#fail(
            new RangeError(
              `Cannot decode body from ${this.#address}: it exceeds maxDecodedBytes ${this.#maxBytes}`,
            ),
          );
        }
        if (next) next.write(chunk);
        else {
          this.bytes += chunk.length;
          this.#sink(chunk);
        }
      });
      stage.on("error", (error: Error) => this.#fail(this.#decodeError(error)));
      if (next) stage.on("end", () => next.end());
    }
    const last = this.#stages[this.#stages.length - 1];
    this.#ended = new Promise<void>((resolve, reject) => {
      last.on("end", resolve);
      this.#onFailure = reject;
    });
    // Until end() is awaited, a failure is seen by write(); never unhandled.
    this.#ended.catch(() => {});
    if (deadline.signal.aborted) this.#onAbort();
    else deadline.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Decodes one chunk of the encoded body; resolves once it is decoded and
   * handed to the sink (the view may be reused afterwards).
   *
   * @throws {RangeError} When the decoded body exceeds the limit.
   * @throws {HttpParseError} When the bytes are not valid for the coding.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      const onFailure = this.#onFailure!;
      // A failure (the limit, corrupt data) destroys the stream, so its
      // write callback may never run: the failure settles this write.
      this.#onFailure = (error) => {
        onFailure(error);
        reject(error);
      };
      this.#first.write(chunk.slice(), (error) => {
        this.#onFailure = onFailure;
        if (this.#failure) reject(this.#failure);
        else if (error) reject(this.#decodeError(error));
        else resolve();
      });
    });
  }

  /**
   * Ends the encoded body and waits for the last decoded bytes.
   *
   * @throws {RangeError} When the decoded body exceeds the limit.
   * @throws {HttpParseError} When the encoded body is cut short or invalid.
   */
  async end(): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#first.end();
    await this.#ended;
  }

  /** Releases the decoders (after a failure elsewhere, or to abandon the body). */
  close(): void {
    this.#deadline.signal.removeEventListener("abort", this.#onAbort);
    for (const stage of this.#stages) stage.destroy();
  }

  #onAbort = (): void => this.#fail(this.#deadline.signal.reason);

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.close();
    this.#onFailure?.(error);
  }

  #decodeError(error: Error): Error {
    if (error instanceof RangeError || error instanceof HttpParseError) return error;
    return new HttpParseError({
      part: "content-encoding",
      address: this.#address,
      detail: `the body is not valid for its Content-Encoding (${error.message})`,
      cause: error,
    });
  }
}
