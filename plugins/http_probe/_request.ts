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
 * Whether a request header carries a credential, and so stays with its
 * origin: `Authorization`, `Proxy-Authorization`, `Cookie`, and any name
 * containing `auth`, `cookie`, `token`, `secret`, `key`, `pass`,
 * `credential`, `session`, `signature`, `csrf` or `xsrf` (`X-Api-Key`,
 * `X-Auth-Token`, `X-Session-Id`), case-insensitively.
 */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

const CREDENTIAL_NAME = /auth|cookie|token|secret|key|pass|credential|session|signature|csrf|xsrf/i;

/** The headers of a redirect hop, and the names of those left out. */
export interface RedirectHeaders {
  /** Header lines to send to the next URL. */
  headers: string[];
  /** Lower-case names of the credential headers and custom `Host` left out. */
  dropped: string[];
}

/**
 * The headers to send on a redirect hop: on another origin (scheme, host or
 * port), credential headers ({@linkcode isCredentialHeader}) and a custom
 * `Host` are dropped, as curl drops `Authorization` and `Cookie` without
 * `--location-trusted`, unless `trusted`; when the method becomes GET, so
 * are the body's own headers.
 */
export function redirectHeaders(
  headers: readonly string[],
  sameOrigin: boolean,
  dropBody: boolean,
  trusted = false,
): RedirectHeaders {
  const kept: string[] = [];
  const dropped = new Set<string>();
  for (const line of headers) {
    const name = line.slice(0, line.indexOf(":")).trim().toLowerCase();
    if (dropBody && BODY_HEADERS.has(name)) continue;
    if (!sameOrigin && !trusted && (name === "host" || isCredentialHeader(name))) {
      dropped.add(name);
      continue;
    }
    kept.push(line);
  }
  return { headers: kept, dropped: [...dropped] };
}

const BODY_HEADERS = new Set(["content-length", "content-type", "transfer-encoding"]);

/**
 * The `Authorization` header line for a URL's user info, as curl sends it:
 * `Basic` and base64 of the percent-decoded `user:password` (UTF-8), or
 * `undefined` when the URL has neither.
 */
export function basicAuthLine(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  const pair = `${decode(url.username)}:${decode(url.password)}`;
  const bytes = new TextEncoder().encode(pair);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Authorization: Basic ${btoa(binary)}`;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray "%" is sent as it is, as curl does
  }
}
