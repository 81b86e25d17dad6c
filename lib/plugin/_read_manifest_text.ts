/**
 * A manifest's text, read as untrusted input: a regular file or an HTTP
 * answer, bounded in size and (over HTTP) in time; plain `http:` only on
 * loopback unless allowed.
 *
 * @module
 */
import { formatLimit, readBounded, readStreamBounded } from "../_internal/read_bounded.ts";
import { limitSignal } from "../_internal/deadline.ts";
import { displaySource } from "../_internal/manifest_source.ts";

/** How long a manifest fetched over HTTP may take, headers and body: 10 s. */
export const DEFAULT_MANIFEST_TIMEOUT_MS = 10_000;

/** The largest manifest read: 1 MiB (the built-in one is 3 KiB). */
export const DEFAULT_MAX_MANIFEST_BYTES: number = 2 ** 20;

/** Limits of {@linkcode readManifestText}. */
export interface ReadManifestOptions {
  /** Cancels a fetch. */
  signal?: AbortSignal;
  /** Milliseconds an HTTP fetch may take, body included. */
  timeout?: number;
  /** The most bytes read. */
  maxBytes?: number;
  /** Fetch `http:` URLs beyond loopback too. */
  allowHttp?: boolean;
}

/** Redirects followed when fetching a manifest. */
const MAX_REDIRECTS = 5;

function checkHttp(url: URL, prefix: string, how: string, options: ReadManifestOptions): void {
  if (url.protocol === "http:" && !options.allowHttp && !isLoopbackUrl(url)) {
    throw new TypeError(
      `${prefix}: ${how}plain http: is refused beyond loopback, as anyone on the way could ` +
        "change the permissions it grants; use https:, or allow it with --allow-http-plugins",
    );
  }
}

/**
 * Whether a URL's host is this machine's loopback (`localhost`,
 * `127.0.0.0/8`, `[::1]`): plain `http:` to it cannot be altered in transit.
 *
 * @param url The URL.
 * @returns `true` for loopback hosts.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Reads a manifest's bytes from a file or over HTTP(S).
 *
 * @param url The manifest.
 * @param options Signal, time and size limits, whether plain `http:` is allowed.
 * @returns The bytes.
 * @throws {Deno.errors.NotFound} When there is no such file, or the server answers 404 or 410.
 * @throws {Deno.errors.Http} When the server answers another error status.
 * @throws {Deno.errors.TimedOut} When the fetch takes longer than `timeout`.
 * @throws {RangeError} When it holds more than `maxBytes`.
 * @throws {TypeError} When it is not a regular file, its URL is plain
 * `http:` beyond loopback and that is not allowed, or its scheme cannot be read.
 */
export async function readManifestText(
  url: URL,
  options: ReadManifestOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const prefix = `Cannot load manifest "${displaySource(url)}"`;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (url.protocol === "file:") {
    try {
      return await readBounded(url, maxBytes, prefix);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`${prefix}: no such file`, { cause: error });
      }
      throw error;
    }
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`${prefix}: only paths, file:, http: and https: URLs can be read`);
  }
  checkHttp(url, prefix, "", options);
  const timeout = options.timeout ?? DEFAULT_MANIFEST_TIMEOUT_MS;
  using limit = limitSignal(
    { signal: options.signal, timeout },
    (ms) => new DOMException(`Timed out after ${ms} ms`, "TimeoutError"),
  );
  try {
    // Redirects are followed here, each checked before it is fetched: an
    // https: manifest must not turn into a plain http: one on the way.
    let response: Response;
    for (let current = url, hops = 0;; hops++) {
      response = await fetch(current, { signal: limit.signal, redirect: "manual" });
      const location = response.headers.get("location");
      if (response.status < 300 || response.status > 399 || location === null) break;
      await response.body?.cancel();
      if (hops === MAX_REDIRECTS) {
        throw new Deno.errors.Http(`${prefix}: more than ${MAX_REDIRECTS} redirects`);
      }
      current = new URL(location, current);
      if (current.protocol !== "https:" && current.protocol !== "http:") {
        throw new TypeError(`${prefix}: it redirects to "${current.href}", not an http(s): URL`);
      }
      checkHttp(current, prefix, `it redirects to "${current.href}": `, options);
    }
    if (!response.ok) {
      await response.body?.cancel();
      const message = `${prefix}: HTTP ${response.status} ${response.statusText}`.trimEnd();
      throw response.status === 404 || response.status === 410
        ? new Deno.errors.NotFound(message)
        : new Deno.errors.Http(message);
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (length > maxBytes) {
      await response.body?.cancel();
      throw new RangeError(`${prefix}: it is larger than the limit of ${formatLimit(maxBytes)}`);
    }
    return response.body
      ? await readStreamBounded(response.body, maxBytes, prefix)
      : new Uint8Array();
  } catch (error) {
    if (limit.timedOut) {
      throw new Deno.errors.TimedOut(`${prefix}: no complete answer within ${timeout} ms`, {
        cause: error,
      });
    }
    throw error;
  }
}
