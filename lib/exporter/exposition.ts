/**
 * Prometheus exposition: metric families rendered in the text format 0.0.4
 * or in OpenMetrics 1.0.0, whichever the scraper's `Accept` asks for.
 *
 * @module
 */
import { roundFloat } from "../_internal/round_float.ts";

/** One sample of a family: its labels and value (and a name suffix such as `_total`). */
export interface Sample {
  /** Label names to values; written in this order. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The value. */
  readonly value: number;
  /** Appended to the family's name (`_total` for counters). */
  readonly suffix?: string;
}

/** A metric family: name, help, type and samples. */
export interface MetricFamily {
  /** The name, `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  readonly name: string;
  /** One line: what it measures. */
  readonly help: string;
  /** Prometheus type (a summary here has quantile samples only: a probe's percentiles). */
  readonly type: "gauge" | "counter" | "summary";
  /** Its samples. */
  readonly samples: readonly Sample[];
}

/** Content type of the text format 0.0.4. */
export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Whether an `Accept` header asks for OpenMetrics (as Prometheus does when
 * it prefers it).
 *
 * @param accept The header's value.
 * @returns `true` for OpenMetrics.
 */
export function wantsOpenMetrics(accept: string | null): boolean {
  return accept !== null && /application\/openmetrics-text/i.test(accept);
}

/**
 * Renders families.
 *
 * @param families The families, in order; repeated names are merged, and a
 *   series (name and labels) already written is not written again: the first
 *   wins, as an exposition with a series twice is invalid (a plugin's metric
 *   may be renamed onto another's, or onto `probe_duration_seconds`).
 * @param openMetrics OpenMetrics 1.0.0 instead of text 0.0.4.
 * @returns The exposition text.
 * @throws {TypeError} On a name or label name Prometheus would refuse.
 */
export function renderMetrics(families: readonly MetricFamily[], openMetrics = false): string {
  const merged = new Map<string, MetricFamily>();
  for (const family of families) {
    const seen = merged.get(family.name);
    merged.set(
      family.name,
      seen ? { ...seen, samples: [...seen.samples, ...family.samples] } : family,
    );
  }
  let out = "";
  const written = new Set<string>();
  for (const family of merged.values()) {
    out += header(family, openMetrics);
    for (const sample of family.samples) {
      const series = `${family.name}${sample.suffix ?? ""}${labels(sample.labels)}`;
      if (written.has(series)) continue;
      written.add(series);
      out += `${series} ${number(sample.value)}\n`;
    }
  }
  if (openMetrics) out += "# EOF\n";
  return out;
}

// A probe's families have the same names, helps and label sets scrape
// after scrape: their text is made once (bounded: a plugin could name a
// metric after its target). Label sets are kept by object, for the families
// that reuse theirs (probe_metrics.ts does).
const HEADERS = new Map<string, string>();
const HEADERS_KEPT = 4096;
const LABEL_TEXT = new WeakMap<object, string>();

function header(family: MetricFamily, openMetrics: boolean): string {
  const key = `${openMetrics ? "o" : "t"}${family.type}\u0000${family.name}\u0000${family.help}`;
  let text = HEADERS.get(key);
  if (text === undefined) {
    if (!NAME.test(family.name)) {
      throw new TypeError(`Cannot render metric: "${family.name}" is not a metric name`);
    }
    // OpenMetrics names a counter family without its `_total`.
    const familyName = openMetrics && family.type === "counter"
      ? family.name.replace(/_total$/, "")
      : family.name;
    text = `# HELP ${familyName} ${
      escapeHelp(family.help, openMetrics)
    }\n# TYPE ${familyName} ${family.type}\n`;
    if (HEADERS.size >= HEADERS_KEPT) HEADERS.clear();
    HEADERS.set(key, text);
  }
  return text;
}

function labels(set: Readonly<Record<string, string>> | undefined): string {
  if (!set) return "";
  // Frozen sets only: one changed after its text was made would be shown stale.
  const frozen = Object.isFrozen(set);
  if (frozen) {
    const known = LABEL_TEXT.get(set);
    if (known !== undefined) return known;
  }
  const text = labelText(set);
  if (frozen) LABEL_TEXT.set(set, text);
  return text;
}

function labelText(set: Readonly<Record<string, string>>): string {
  const entries = Object.entries(set);
  if (entries.length === 0) return "";
  return `{${
    entries.map(([name, value]) => {
      if (!LABEL.test(name) || name.startsWith("__")) {
        throw new TypeError(`Cannot render metric: "${name}" is not a label name`);
      }
      return `${name}="${escapeLabel(value)}"`;
    }).join(",")
  }}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(roundFloat(value));
}

// OpenMetrics' HELP is an escaped string, `"` included (text 0.0.4 leaves it).
function escapeHelp(text: string, openMetrics: boolean): string {
  const escaped = text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return openMetrics ? escaped.replaceAll('"', '\\"') : escaped;
}

function escapeLabel(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}
