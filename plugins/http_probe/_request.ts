// Builds HTTP/1.1 request heads. A request is encoded once and its bytes
// reused for every repetition.

/** The plugin's version, also sent in `User-Agent`. */
export const HTTP_PROBE_VERSION = "1.0.0";

/** What a request head is made of. */
export interface RequestSpec {
  /** Method token. */
  method: string;
  /** Absolute URL; its path and query are the request target. */
  url: URL;
  /** User header lines `"Name: value"`, which replace defaults of the same name. */
  headers: readonly string[];
  /** Body length, or `undefined` when the request has no body. */
  bodyLength?: number;
  /** The `Accept-Encoding` to send, or `undefined` for none. */
  acceptEncoding?: string;
}

const encoder = new TextEncoder();

/**
 * Encodes a request head: request line, `Host`, `User-Agent`, `Accept`,
 * `Accept-Encoding` (when asked), `Content-Length` (when there is a body)
 * and the user's headers, which win
 * over the defaults (compared case-insensitively).
 */
export function encodeRequestHead(spec: RequestSpec): Uint8Array {
  const user = spec.headers.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()] as const;
  });
  const given = new Set(user.map(([name]) => name.toLowerCase()));
  const lines = [`${spec.method} ${spec.url.pathname}${spec.url.search} HTTP/1.1`];
  if (!given.has("host")) lines.push(`Host: ${spec.url.host}`);
  if (!given.has("user-agent")) lines.push(`User-Agent: wiretest-http-probe/${HTTP_PROBE_VERSION}`);
  if (!given.has("accept")) lines.push("Accept: */*");
  if (spec.acceptEncoding !== undefined && !given.has("accept-encoding")) {
    lines.push(`Accept-Encoding: ${spec.acceptEncoding}`);
  }
  if (spec.bodyLength !== undefined && !given.has("content-length")) {
    lines.push(`Content-Length: ${spec.bodyLength}`);
  }
  for (const [name, value] of user) lines.push(`${name}: ${value}`);
  lines.push("", "");
  return encoder.encode(lines.join("\r\n"));
}

/**
 * The headers to send on a redirect hop: on another origin, credentials and
 * a custom `Host` are dropped (as curl does without `--location-trusted`);
 * when the method becomes GET, so are the body's own headers.
 */
export function redirectHeaders(
  headers: readonly string[],
  sameOrigin: boolean,
  dropBody: boolean,
): string[] {
  const drop = new Set<string>();
  if (!sameOrigin) ["authorization", "cookie", "host"].forEach((n) => drop.add(n));
  if (dropBody) {
    ["content-length", "content-type", "transfer-encoding"].forEach((n) => drop.add(n));
  }
  return headers.filter((line) => !drop.has(line.slice(0, line.indexOf(":")).trim().toLowerCase()));
}
