/**
 * An outcome as Prometheus metrics: the names blackbox_exporter uses where
 * the meaning is the same (http-probe), and for every other metric a name
 * made from the plugin and the outcome declaration, in base units
 * (`rtt_p99_ms` → `probe_udp_ping_rtt_seconds{quantile="0.99"}`,
 * `loss_pct` → `probe_udp_ping_loss_ratio`).
 *
 * @module
 */
import type { Outcome } from "../plugin/types.ts";
import type { MetricDeclaration } from "../plugin/outcome_declaration_types.ts";
import type { MetricFamily } from "./exposition.ts";

/** A plugin metric renamed into base units. */
export interface BaseUnitMetric {
  /** Family name without the `probe_<plugin>_` prefix. */
  readonly name: string;
  /** Multiplier from the plugin's unit to the base unit. */
  readonly scale: number;
  /** A `quantile` label, for percentiles. */
  readonly quantile?: string;
}

const SECONDS_UNITS: Record<string, number> = { ms: 1e-3, s: 1, us: 1e-6, "µs": 1e-6, ns: 1e-9 };
const BYTES_UNITS: Record<string, number> = {
  bytes: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  kB: 1e3,
  MB: 1e6,
};
const RATE_UNITS: Record<string, number> = { "KiB/s": 1024, "MiB/s": 1024 ** 2, "bytes/s": 1 };

/**
 * Names a plugin metric in Prometheus' base units, from its declared unit
 * (or, undeclared, from its suffix).
 *
 * @param name The outcome metric, e.g. `rtt_p99_ms`.
 * @param unit Its declared unit, e.g. `"ms"`.
 * @returns The base-unit name and scale.
 */
export function baseUnitMetric(name: string, unit?: string): BaseUnitMetric {
  const declared = unit ?? inferUnit(name) ?? "";
  const stem = (suffix: RegExp) => name.replace(suffix, "");
  if (declared in SECONDS_UNITS) {
    const base = stem(/_(ms|s|us|ns)$/);
    const percentile = /^(.*)_p(\d+)$/.exec(base);
    if (percentile) {
      const digits = percentile[2];
      return {
        name: `${percentile[1]}_seconds`,
        scale: SECONDS_UNITS[declared],
        quantile: String(Number(`0.${digits}`)),
      };
    }
    return { name: `${base}_seconds`, scale: SECONDS_UNITS[declared] };
  }
  if (declared in RATE_UNITS) {
    return {
      name: `${stem(/_(kib|mib|bytes)_s$/i)}_bytes_per_second`,
      scale: RATE_UNITS[declared],
    };
  }
  if (declared in BYTES_UNITS) {
    const base = stem(/_(kib|mib|gib|kb|mb)$/i);
    // `bytes_sent` → `sent_bytes`: the unit goes last.
    if (base === "bytes") return { name: "bytes", scale: BYTES_UNITS[declared] };
    const moved = base.startsWith("bytes_") ? `${base.slice(6)}_bytes` : base;
    return {
      name: moved.endsWith("_bytes") ? moved : `${moved}_bytes`,
      scale: BYTES_UNITS[declared],
    };
  }
  if (declared === "%") return { name: `${stem(/_(pct|percent)$/)}_ratio`, scale: 0.01 };
  if (declared === "1/s") return { name: `${stem(/_per_s$/)}_per_second`, scale: 1 };
  return { name, scale: 1 };
}

function inferUnit(name: string): string | undefined {
  if (name.endsWith("_ms")) return "ms";
  if (name.endsWith("_pct")) return "%";
  if (name.endsWith("_mib_s")) return "MiB/s";
  if (name.endsWith("_per_s")) return "1/s";
  if (name.endsWith("_bytes") || name.startsWith("bytes_")) return "bytes";
  return undefined;
}

/** What the exporter knows of a probe besides its outcome. */
export interface ProbeResult {
  /** The plugin that probed. */
  readonly plugin: string;
  /** Its outcome. */
  readonly outcome: Outcome;
  /** Whether the module's expectations (and `ok`) held. */
  readonly success: boolean;
  /** Whether an expectation on the body or headers (a regex, in blackbox's terms) failed. */
  readonly failedDueToRegex: boolean;
  /** Seconds from the request to the outcome. */
  readonly durationSeconds: number;
  /** Seconds the probe was allowed. */
  readonly timeoutSeconds: number;
  /** The client role's metric declarations, when it has them. */
  readonly declarations?: readonly MetricDeclaration[];
  /**
   * The probed URL (http-probe): its IP literal stands for the peer's address
   * when the probe failed before reporting one.
   */
  readonly target?: string;
}

/**
 * Every metric of one probe.
 *
 * @param result The probe.
 * @returns The families, `probe_success` first.
 */
export function probeMetrics(result: ProbeResult): MetricFamily[] {
  const families: MetricFamily[] = [
    gauge(
      "probe_success",
      "Displays whether or not the probe was a success",
      result.success ? 1 : 0,
    ),
    gauge(
      "probe_duration_seconds",
      "Returns how long the probe took to complete in seconds",
      result.durationSeconds,
    ),
    gauge(
      "probe_timeout_seconds",
      "Returns how long the probe timeout is in seconds",
      result.timeoutSeconds,
    ),
  ];
  let outcome = result.outcome;
  if (result.plugin === "http-probe") {
    families.push(...httpMetrics(result));
    outcome = withoutMetrics(outcome, HTTP_METRICS_IN_BLACKBOX_FAMILIES);
  }
  // Not spread into push: a plugin's families are many (up to the cap).
  return families.concat(
    outcomeMetrics(
      `probe_${result.plugin.replace(/[^a-zA-Z0-9]+/g, "_")}_`,
      outcome,
      result.declarations,
    ),
  );
}

/*
 * http-probe's metrics that a blackbox family already carries (the phases in
 * `probe_http_duration_seconds`, `status` in `probe_http_status_code`…): each
 * under its generic name too would double a target's series for nothing.
 */
const HTTP_METRICS_IN_BLACKBOX_FAMILIES: ReadonlySet<string> = new Set([
  "status",
  "dns_ms",
  "connect_ms",
  "tls_ms",
  "ttfb_ms",
  "transfer_ms",
  "body_bytes",
  "redirects",
]);

function withoutMetrics(outcome: Outcome, names: ReadonlySet<string>): Outcome {
  const metrics: Record<string, number> = {};
  for (const name in outcome.metrics) {
    if (!names.has(name)) metrics[name] = outcome.metrics[name];
  }
  return { ...outcome, metrics };
}

function gauge(name: string, help: string, value: number, labels?: Record<string, string>) {
  return {
    name,
    help,
    type: "gauge" as const,
    samples: [{ value, ...(labels ? { labels } : {}) }],
  };
}

/**
 * Metrics of one outcome exported at most: a third-party plugin may report
 * any number (its messages may reach 64 MiB), and each becomes a series of
 * every scrape. The rest are dropped, in the outcome's order.
 */
export const MAX_OUTCOME_METRICS = 10_000;

/**
 * Every metric of an outcome as a family `<prefix><metric>` in base units,
 * so nothing a plugin measures is lost, whatever the plugin.
 *
 * @param prefix E.g. `probe_udp_ping_`.
 * @param outcome The outcome.
 * @param declarations The role's metric declarations (units), when known.
 * @param labels Labels every sample carries (e.g. the fixture and step).
 * @returns The families.
 */
export function outcomeMetrics(
  prefix: string,
  outcome: Outcome,
  declarations?: readonly MetricDeclaration[],
  labels: Readonly<Record<string, string>> = {},
): MetricFamily[] {
  const result = { outcome, declarations };
  const declared = declarationsByName(declarations);
  const families = new Map<
    string,
    {
      help: string;
      quantiles: boolean;
      samples: { labels?: Record<string, string>; value: number }[];
    }
  >();
  const usable: [string, number][] = [];
  for (const metric in result.outcome.metrics) {
    if (usable.length === MAX_OUTCOME_METRICS) break;
    const value = result.outcome.metrics[metric];
    if (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(metric) && typeof value === "number") {
      usable.push([metric, value]);
    }
  }
  const baseOf = (metric: string) => cachedBaseUnitMetric(metric, declared.get(metric)?.unit);
  // A summary holds quantiles only: when a plain metric has the name its
  // percentiles would take (echo's `connect_ms` and `connect_p99_ms`), they
  // go under `…_quantiles_seconds`.
  const plain = new Set(
    usable.map(([metric]) => baseOf(metric)).filter((b) => b.quantile === undefined).map((b) =>
      b.name
    ),
  );
  for (const [metric, value] of usable) {
    const declaration = declared.get(metric);
    const base = baseOf(metric);
    const name = `${prefix}${
      base.quantile !== undefined && plain.has(base.name)
        ? base.name.replace(/_seconds$/, "_quantiles_seconds")
        : base.name
    }`;
    const family = families.get(name) ??
      {
        help: `${declaration?.description || "The outcome's metric"} (plugin metric "${metric}")`,
        quantiles: base.quantile !== undefined,
        samples: [],
      };
    if (base.quantile !== undefined) {
      family.help = `Percentiles of the outcome's "${name.slice(prefix.length)}" (plugin metrics "${
        metric.replace(/_p\d+_/, "_p*_")
      }")`;
    }
    family.samples.push({
      value: value * base.scale,
      labels: sampleLabels(labels, base.quantile),
    });
    families.set(name, family);
  }
  return [...families].map(([name, f]) => ({
    name,
    help: shortHelp(f.help),
    type: f.quantiles ? "summary" as const : "gauge" as const,
    samples: f.samples,
  }));
}

/** Characters of a family's HELP at most: a plugin's descriptions are unbounded. */
const HELP_CHARS = 1024;
function shortHelp(help: string): string {
  const one = help.replace(/\s+/g, " ");
  return one.length <= HELP_CHARS ? one : `${one.slice(0, HELP_CHARS - 1)}…`;
}

// Without labels of the caller's, a sample's set is one of a few frozen
// ones, whose text the exposition makes once.
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const QUANTILE_LABELS = new Map<string, Readonly<Record<string, string>>>();
function sampleLabels(
  labels: Readonly<Record<string, string>>,
  quantile: string | undefined,
): Record<string, string> {
  if (Object.keys(labels).length > 0) {
    return quantile === undefined ? { ...labels } : { ...labels, quantile };
  }
  if (quantile === undefined) return NO_LABELS;
  let set = QUANTILE_LABELS.get(quantile);
  if (set === undefined) {
    // Quantiles come from metric names: bounded like BASE_NAMES.
    if (QUANTILE_LABELS.size >= BASE_NAMES_KEPT) QUANTILE_LABELS.clear();
    QUANTILE_LABELS.set(quantile, set = Object.freeze({ quantile }));
  }
  return set;
}

// A probe's metrics are renamed the same way every scrape: names are
// computed once (bounded: a plugin could name a metric after its target).
const BASE_NAMES = new Map<string, BaseUnitMetric>();
const BASE_NAMES_KEPT = 4096;
function cachedBaseUnitMetric(metric: string, unit: string | undefined): BaseUnitMetric {
  const key = `${unit ?? ""}\u0000${metric}`;
  let base = BASE_NAMES.get(key);
  if (base === undefined) {
    if (BASE_NAMES.size >= BASE_NAMES_KEPT) BASE_NAMES.clear();
    base = baseUnitMetric(metric, unit);
    BASE_NAMES.set(key, base);
  }
  return base;
}

const NO_DECLARATIONS = new Map<string, MetricDeclaration>();
const DECLARED = new WeakMap<readonly MetricDeclaration[], Map<string, MetricDeclaration>>();
function declarationsByName(
  declarations: readonly MetricDeclaration[] | undefined,
): Map<string, MetricDeclaration> {
  if (declarations === undefined) return NO_DECLARATIONS;
  let byName = DECLARED.get(declarations);
  if (byName === undefined) {
    byName = new Map(declarations.map((d) => [d.name, d]));
    DECLARED.set(declarations, byName);
  }
  return byName;
}

const PHASES: readonly (readonly [Readonly<Record<string, string>>, string])[] = [
  [Object.freeze({ phase: "resolve" }), "dns_ms"],
  [Object.freeze({ phase: "connect" }), "connect_ms"],
  [Object.freeze({ phase: "tls" }), "tls_ms"],
  [Object.freeze({ phase: "processing" }), "ttfb_ms"],
  [Object.freeze({ phase: "transfer" }), "transfer_ms"],
];

// blackbox_exporter's http prober metrics, with the same meaning.
function httpMetrics(result: ProbeResult): MetricFamily[] {
  const { metrics, facts } = result.outcome;
  const redirects = Array.isArray(facts.redirects)
    ? facts.redirects.filter((r): r is Record<string, unknown> =>
      typeof r === "object" && r !== null
    )
    : [];
  const families: MetricFamily[] = [];
  // Summed over the redirects, as blackbox does.
  families.push({
    name: "probe_http_duration_seconds",
    help: "Duration of http request by phase, summed over all redirects",
    type: "gauge",
    samples: PHASES.map(([labels, metric]) => ({
      labels,
      value: (num(metrics[metric]) +
        redirects.reduce((sum, r) => sum + num(r[metric]), 0)) / 1000,
    })),
  });
  const headers = record(facts.headers);
  families.push(
    gauge(
      "probe_http_content_length",
      "Length of http content response",
      contentLength(facts, headers),
    ),
    gauge(
      "probe_http_uncompressed_body_length",
      "Length of uncompressed response body",
      num(metrics.body_bytes),
    ),
    gauge("probe_http_redirects", "The number of redirects", num(metrics.redirects)),
    gauge(
      "probe_http_ssl",
      "Indicates if SSL was used for the final redirect",
      typeof facts.url === "string" && facts.url.startsWith("https:") ? 1 : 0,
    ),
    gauge("probe_http_status_code", "Response HTTP status code", num(metrics.status)),
    gauge(
      "probe_http_version",
      "Returns the version of HTTP of the probe response",
      typeof facts.http_version === "string" ? Number(facts.http_version) || 0 : 0,
    ),
    gauge(
      "probe_failed_due_to_regex",
      "Indicates if probe failed due to regex",
      result.failedDueToRegex ? 1 : 0,
    ),
    gauge(
      "probe_dns_lookup_time_seconds",
      "Returns the time taken for probe dns lookup in seconds",
      num(metrics.dns_ms) / 1000,
    ),
  );
  // The target's own address, as blackbox resolves it before any
  // redirect: the first hop's, or the last one tried without a redirect.
  const first = redirects[0]?.remote_address;
  const address = typeof first === "string" ? first : facts.remote_address;
  const ip = typeof address === "string"
    ? address.replace(/:\d+$/, "").replace(/^\[|\]$/g, "")
    : ipLiteralOf(result.target);
  if (!ip && result.outcome.error?.code === "dns") {
    // The name did not resolve: blackbox reports both as 0.
    families.push(
      gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", 0),
      gauge(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        0,
      ),
    );
  }
  if (ip) {
    families.push(
      gauge(
        "probe_ip_protocol",
        "Specifies whether probe ip protocol is IP4 or IP6",
        // IPv4-mapped (::ffff:127.0.0.1) is IPv4 to Go's To4(), as to its hash.
        ipBytes(ip)?.length === 16 ? 6 : 4,
      ),
      gauge(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        ipHash(ip),
      ),
    );
  }
  const lastModified = Date.parse(String(headers["last-modified"] ?? ""));
  if (Number.isFinite(lastModified)) {
    families.push(
      gauge(
        "probe_http_last_modified_timestamp_seconds",
        "Returns the Last-Modified HTTP response header in unixtime",
        Math.floor(lastModified / 1000),
      ),
    );
  }
  const tls = record(facts.tls);
  const certificate = record(tls.certificate);
  const notAfter = Date.parse(String(certificate.not_after ?? ""));
  if (Number.isFinite(notAfter)) {
    const expiry = Math.floor(notAfter / 1000);
    families.push(
      gauge(
        "probe_ssl_earliest_cert_expiry",
        "Returns last SSL chain expiry in unixtime",
        expiry,
      ),
      gauge(
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Returns last SSL chain expiry in timestamp",
        expiry,
      ),
      gauge("probe_ssl_last_chain_info", "Contains SSL leaf certificate information", 1, {
        fingerprint_sha256: String(certificate.fingerprint256 ?? "").replaceAll(":", "")
          .toLowerCase(),
        subject: String(certificate.subject ?? ""),
        issuer: String(certificate.issuer ?? ""),
        subjectalternative:
          (Array.isArray(certificate.subject_alt_names) ? certificate.subject_alt_names : [])
            .filter((n): n is string => typeof n === "string" && n.startsWith("DNS:"))
            .map((n) => n.slice(4)).join(","),
      }),
    );
  }
  if (typeof tls.protocol === "string") {
    families.push(
      gauge("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", 1, {
        version: tlsVersion(tls.protocol),
      }),
    );
  }
  return families;
}

/**
 * `probe_http_content_length` as blackbox_exporter reports it, Go's
 * `Response.ContentLength`: 0 without a response head; for a HEAD request
 * the `Content-Length` field, -1 without; otherwise 0 for a status that has
 * no body (1xx, 204, 304), -1 for a chunked body or one without the field
 * (its length unknown until the connection closes), else the field's value.
 * A field repeated with one value (`5, 5`) is that value, as Go takes it.
 */
function contentLength(facts: Record<string, unknown>, headers: Record<string, unknown>): number {
  if (typeof facts.status !== "number") return 0;
  const field = headers["content-length"];
  const values = typeof field === "string" ? field.split(",").map((v) => v.trim()) : [];
  const length = values.length > 0 && values.every((v) => v === values[0]) &&
      /^\d+$/.test(values[0])
    ? Number(values[0])
    : -1;
  if (facts.method === "HEAD") return length;
  const status = facts.status;
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return 0;
  const coding = headers["transfer-encoding"];
  if (typeof coding === "string" && /(^|,)\s*chunked\s*$/i.test(coding)) return -1;
  return length;
}

// Go's names for TLS versions, as blackbox labels them.
function tlsVersion(protocol: string): string {
  const match = /^TLSv(1(?:\.[0-3])?)$/.exec(protocol);
  if (!match) return "unknown";
  return `TLS ${match[1] === "1" ? "1.0" : match[1]}`;
}

// blackbox's ipHash: FNV-1a (32 bit) over the address bytes (4 for IPv4, 16 for IPv6).
function ipHash(ip: string): number {
  const bytes = ipBytes(ip);
  if (!bytes) return 0;
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// A failed connect reports no peer address; a URL naming an IP literal
// already says which one was tried (as blackbox, which resolves first).
function ipLiteralOf(target: string | undefined): string | undefined {
  if (target === undefined || !URL.canParse(target)) return undefined;
  const host = new URL(target).hostname.replace(/^\[|\]$/g, "");
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":") ? host : undefined;
}

function ipBytes(ip: string): number[] | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip.split(".").map(Number);
  if (!ip.includes(":")) return undefined;
  const [head, tail = ""] = ip.split("::");
  const part = (s: string) =>
    (s === "" ? [] : s.split(":")).flatMap((g) => {
      if (g.includes(".")) return ipBytes(g) ?? [];
      const n = parseInt(g, 16);
      return [n >> 8, n & 0xff];
    });
  const a = part(head);
  const b = ip.includes("::") ? part(tail) : [];
  const bytes = [...a, ...new Array(16 - a.length - b.length).fill(0), ...b];
  // An IPv4-mapped address hashes as its IPv4 bytes, as Go's To4() does.
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12);
  }
  return bytes;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}
