// What the http-probe roles report: every metric and fact of the client's
// outcome (client.ts, _tls.ts) and every counter of the responder's stats()
// (server.ts). tests/outcome_declarations_test.ts checks them against real
// runs.
import { summaryMetricDeclarations } from "../../lib/metrics/mod.ts";
import type {
  FactDeclaration,
  MetricDeclaration,
  OutcomeDeclaration,
} from "../../lib/plugin/mod.ts";

const REPEATS = "with `repeat` above 1";
const HTTPS = "for https";

// Header and trailer fields: names lower-cased, repeats joined by ", ",
// set-cookie kept as a list.
function fields(path: string, what: string, when?: string): FactDeclaration[] {
  return [
    {
      path,
      type: "object",
      description: `The ${what} fields, by name in lower case (\`${path}["content-type"]\`).`,
      ...(when === undefined ? {} : { when }),
    },
    {
      path: `${path}.*`,
      type: "string",
      description: "A field's value; a repeated field's values joined by \", \".",
      when: "for each field received",
    },
    {
      path: `${path}.set-cookie`,
      type: "array",
      description: "Every `Set-Cookie` value, one per field, in order.",
      when: "when the server set a cookie",
    },
    { path: `${path}.set-cookie[]`, type: "string", description: "One `Set-Cookie` value." },
  ];
}

// A certificate's facts, at `path`.
function certificate(path: string, description: string, when: string): FactDeclaration[] {
  const fields: [string, FactDeclaration["type"], string][] = [
    ["subject", "string", "The subject, e.g. `CN=localhost`."],
    ["issuer", "string", "The issuer, in the same form."],
    ["subject_alt_names", "array", "Subject alternative names."],
    [
      "subject_alt_names[]",
      "string",
      'One name, e.g. `"DNS:localhost"` or `"IP Address:127.0.0.1"`.',
    ],
    ["not_before", "string", "Start of validity, ISO 8601."],
    ["not_after", "string", "End of validity, ISO 8601."],
    ["days_left", "number", "Whole days until `not_after`; negative once expired."],
    ["fingerprint256", "string", "SHA-256 fingerprint, colon-separated upper-case hex."],
    ["serial_number", "string", "Serial number, upper-case hex."],
  ];
  return [
    { path, type: "object", description, when },
    ...fields.map(([name, type, what]) => ({ path: `${path}.${name}`, type, description: what })),
  ];
}

const PHASES: readonly (readonly [string, string])[] = [
  ["dns_ms", "Name lookup (0 for an IP literal or a reused connection)."],
  ["connect_ms", "TCP handshake (0 on a reused connection)."],
  ["tls_ms", "TLS handshake (0 for http or a reused connection)."],
  ["ttfb_ms", "From the connection being ready (TCP or TLS) to the first response byte."],
  ["transfer_ms", "From the first response byte to the end of the body."],
];

export const httpProbeOutcome: OutcomeDeclaration = {
  metrics: [
    {
      name: "status",
      unit: "code",
      description:
        "The status code of the first request's final response (also when the probe failed after its head came: its facts `status`, `reason`, `http_version`, `headers` and `method` too).",
    },
    {
      name: "redirect_ms",
      unit: "ms",
      description: "Time spent on the redirects before the final response (0 without).",
    },
    ...PHASES.map(([name, description]) => ({
      name,
      unit: "ms",
      description: `${description} First request.`,
    })),
    {
      name: "total_ms",
      unit: "ms",
      description: "The first request, redirects included: the sum of the phases above.",
    },
    {
      name: "body_bytes",
      unit: "bytes",
      description:
        "Body bytes of the final response (without chunked framing; decoded, with `compressed`); when the body failed, those that came before.",
    },
    {
      name: "header_bytes",
      unit: "bytes",
      description: "Bytes of the final response's head, interim (1xx) heads included.",
    },
    {
      name: "encoded_body_bytes",
      unit: "bytes",
      description: "Body bytes as received, before decoding (as `body_bytes` when not encoded).",
      when: "with `compressed`",
    },
    { name: "redirects", unit: "count", description: "Redirects followed by the first request." },
    {
      name: "requests",
      unit: "count",
      description: "Requests sent, redirects and repeats included (in failed outcomes too).",
    },
    {
      name: "connections",
      unit: "count",
      description: "Connections opened to carry requests (in failed outcomes too).",
    },
    {
      name: "tls_inspections",
      unit: "count",
      description:
        "Handshake-only connections that read an HTTPS origin's protocol and cipher before Deno's TLS client carried its requests (`tlsClient` native, the default, or auto with `repeat` > 1; 0 with node) (in failed outcomes too).",
    },
    ...summaryMetricDeclarations("latency", "each request's `total_ms`", REPEATS),
    {
      name: "requests_per_s",
      unit: "1/s",
      description: "Requests per second over the repeats.",
      when: REPEATS,
    },
  ],
  facts: [
    {
      path: "warm_up",
      type: "string",
      description:
        "`loopback-exchange` (http) or `loopback-exchange-tls` (https, the same TLS client, trusting only a certificate of the warm-up's own) when three exchanges of the probe's own, with a responder of its own on loopback (not the target), warmed the runtime's network stack and the probe's request path before timing began (once per process, scheme and TLS client: a pooled process's later probes run none), so the first request's phases are not first-use costs; `none` when they could not (no net grant for loopback).",
    },
    {
      path: "redirects",
      type: "array",
      description: "The redirects the first request followed, in order (in failed outcomes too).",
    },
    { path: "redirects[]", type: "object", description: "One redirect response." },
    {
      path: "redirects[].url",
      type: "string",
      description: "The URL requested (a password in it shown as `***`).",
    },
    { path: "redirects[].status", type: "number", description: "Its redirect status." },
    { path: "redirects[].location", type: "string", description: "Its `Location` header." },
    {
      path: "redirects[].remote_address",
      type: "string",
      description: "The server's `ip:port` that answered it.",
    },
    {
      path: "redirects[].dropped_headers",
      type: "array",
      description:
        "Lower-case names of the request headers not sent to the next URL because it is another origin: credentials (`authorization`, `proxy-authorization`, `cookie`, names containing `auth`, `cookie`, `token`, `secret`, `key`, `pass`, `credential`, `session`, `signature`, `csrf`, `xsrf`) and a custom `host`; empty with `locationTrusted` or on the same origin.",
    },
    { path: "redirects[].dropped_headers[]", type: "string", description: "A header name." },
    ...PHASES.map(([name, description]) => ({
      path: `redirects[].${name}`,
      type: "number" as const,
      description: `${description.slice(0, -1)}, in ms.`,
    })),
    { path: "redirects[].total_ms", type: "number", description: "The whole request, in ms." },
    {
      path: "url",
      type: "string",
      description:
        "The URL of the final response (after redirects; a password in it shown as `***`).",
    },
    {
      path: "method",
      type: "string",
      description: "The method of the final request (a 303 turns POST into GET).",
    },
    {
      path: "remote_address",
      type: "string",
      description:
        "The server's `ip:port` that answered; when the probe failed, the one its last connection went to or was refused at (absent when the name did not resolve).",
    },
    { path: "status", type: "number", description: "The status code, as the metric." },
    { path: "reason", type: "string", description: "The reason phrase (may be empty)." },
    { path: "http_version", type: "string", description: '`"1.1"` or `"1.0"`.' },
    ...fields("headers", "response header"),
    {
      path: "body_sha256",
      type: "string",
      description: "sha256 of the whole body (decoded, with `compressed`), lower-case hex.",
    },
    {
      path: "body_text",
      type: "string",
      description:
        "The body's first `bodyTextLimit` bytes (decoded, with `compressed`) as UTF-8 text.",
    },
    {
      path: "body_truncated",
      type: "boolean",
      description: "Whether the body is longer than `body_text` holds.",
    },
    {
      path: "reused_connection",
      type: "boolean",
      description: "Whether a kept-alive connection carried the first request's final exchange.",
    },
    ...fields("trailers", "trailer", "when a chunked body ended with trailer fields"),
    {
      path: "location",
      type: "string",
      description: "The final response's `Location` header (a redirect not followed).",
      when: "when the final response has one",
    },
    { path: "tls", type: "object", description: "What the TLS handshake showed.", when: HTTPS },
    { path: "tls.protocol", type: "string", description: 'The TLS version, e.g. `"TLSv1.3"`.' },
    {
      path: "tls.cipher",
      type: "string",
      description: 'The cipher suite, e.g. `"TLS_AES_256_GCM_SHA384"`.',
    },
    {
      path: "tls.alpn",
      type: ["string", "null"],
      description: "The protocol the server chose by ALPN (`http/1.1`), or null.",
    },
    {
      path: "tls.authorized",
      type: "boolean",
      description: "Whether the certificate verified against the trusted CAs and the name.",
    },
    {
      path: "tls.authorization_error",
      type: "string",
      description: 'Why it did not verify (e.g. `"certificate has expired"`).',
      when: "when the certificate did not verify (with `insecure`, or in the failed outcome)",
    },
    {
      path: "tls.source",
      type: "string",
      description:
        '`"connection"`: every fact comes from the connection that carried the requests (a probe of one request, `tlsClient` node); `"inspection"`: the protocol, cipher and verdict come from a handshake-only connection before the measured one, the certificate from the measured one (Deno\'s client).',
    },
    {
      path: "tls.native_refused",
      type: "string",
      description:
        "Why Deno's TLS client refused a certificate node:tls verified, so node:tls carried the requests.",
      when: "when Deno's client refused (e.g. a name only in the subject's CN)",
    },
    ...certificate(
      "tls.certificate",
      "The leaf certificate of the connection that carried the requests.",
      "when the server sent one",
    ),
    ...certificate(
      "tls.inspection_certificate",
      "The certificate the inspection connection received, when it differs from `tls.certificate` (the probe then fails).",
      "when the two connections presented different certificates",
    ),
    {
      path: "timeline_ms",
      type: "object",
      description:
        "curl's cumulative `-w` times for the first request, each from its start, in ms.",
    },
    {
      path: "timeline_ms.namelookup",
      type: "number",
      description: "Name lookup done (curl's `time_namelookup`).",
    },
    { path: "timeline_ms.connect", type: "number", description: "TCP connected (`time_connect`)." },
    {
      path: "timeline_ms.appconnect",
      type: "number",
      description: "TLS handshake done; 0 for http (`time_appconnect`).",
    },
    {
      path: "timeline_ms.starttransfer",
      type: "number",
      description: "First response byte (`time_starttransfer`).",
    },
    { path: "timeline_ms.total", type: "number", description: "Body read (`time_total`)." },
  ],
};

export const httpServerStats: readonly MetricDeclaration[] = [
  { name: "requests", unit: "count", description: "Requests answered or being answered." },
  { name: "connections", unit: "count", description: "Connections accepted." },
  { name: "active", unit: "count", description: "Connections open now." },
  {
    name: "rejected",
    unit: "count",
    description: "Connections closed at once for being over `maxConnections`.",
  },
  {
    name: "timed_out",
    unit: "count",
    description: "Connections closed by the idle or the headers timeout or the minimum data rate.",
  },
  {
    name: "idle_timeouts",
    unit: "count",
    description: "Connections closed after `idleTimeoutMs` of silence.",
  },
  {
    name: "headers_timeouts",
    unit: "count",
    description: "Connections closed because a request head took longer than `headersTimeoutMs`.",
  },
  {
    name: "rate_timeouts",
    unit: "count",
    description:
      "Connections closed because a request body arrived, or an answer was read, slower than `minDataRate`.",
  },
  {
    name: "bad_requests",
    unit: "count",
    description:
      "Requests answered 400 or 431 (malformed head or body framing, a head or trailers over 64 KiB).",
  },
  {
    name: "shutdown_aborted",
    unit: "count",
    description:
      "Connections `close()` closed by force, still busy `closeTimeoutMs` after it began (also logged as a warning).",
  },
];
