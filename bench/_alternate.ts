// Runs the sides of a row alternately: every side once per round (A B C A B
// C …) after one warm-up round, so drift on a shared machine hits all sides
// alike, and compares them round by round.
import {
  type ComparisonReport,
  meets,
  type MetricSpec,
  type RowContext,
  type SideReport,
  type Target,
} from "./_row.ts";
import { pairedRatios, spread } from "./_stats.ts";

/** One way of doing the row's work: wiretest, or a peer. */
export interface Side {
  id: string;
  label: string;
  /** Programs it needs on PATH; without them the side is skipped. */
  programs?: string[];
  /** Starts long-running servers before the warm-up round. */
  start?(): Promise<void>;
  /** Does the work once; returns metric key → value. */
  sample(warmUp: boolean): Promise<Record<string, number>>;
  /** Stops what `start` started. */
  stop?(): Promise<void>;
  /** Facts to keep in the JSON result (called after the rounds). */
  extra?(): Record<string, unknown>;
}

/** Which two sides to compare on which metric. */
export interface ComparisonSpec {
  label: string;
  metric: string;
  a: string;
  b: string;
  /** The metric of `b` when it differs (e.g. one direction of iperf3). */
  bMetric?: string;
  target?: Target;
}

/** What {@linkcode alternate} returns, ready for a RowReport. */
export interface Alternated {
  sides: SideReport[];
  comparisons: ComparisonReport[];
}

/** Runs a warm-up round, then `ctx.pairs` rounds of every side, then compares. */
export async function alternate(
  ctx: RowContext,
  sides: Side[],
  metrics: MetricSpec[],
  comparisons: ComparisonSpec[],
): Promise<Alternated> {
  const skipped = new Map<string, string>();
  const samples = new Map<string, Record<string, number[]>>();
  const errors = new Map<string, string[]>();
  const started: Side[] = [];
  try {
    for (const side of sides) {
      const missing = (side.programs ?? []).filter((p) => !ctx.has(p));
      if (missing.length > 0) {
        skipped.set(side.id, `${missing.join(", ")} not installed`);
        continue;
      }
      try {
        await side.start?.();
        started.push(side);
      } catch (error) {
        skipped.set(side.id, `could not start: ${firstLine(error)}`);
        ctx.log(`  ${side.label}: could not start: ${String(error)}`);
      }
    }
    for (const side of started) {
      try {
        await side.sample(true);
      } catch (error) {
        skipped.set(side.id, `warm-up failed: ${firstLine(error)}`);
        ctx.log(`  ${side.label}: warm-up failed: ${String(error)}`);
      }
    }
    const active = started.filter((s) => !skipped.has(s.id));
    for (let round = 0; round < ctx.pairs; round++) {
      for (const side of active) {
        const bySide = samples.get(side.id) ?? {};
        samples.set(side.id, bySide);
        let values: Record<string, number>;
        try {
          values = await side.sample(false);
        } catch (error) {
          values = {};
          const list = errors.get(side.id) ?? [];
          list.push(`round ${round + 1}: ${firstLine(error)}`);
          errors.set(side.id, list);
          ctx.log(`  round ${round + 1}/${ctx.pairs} ${side.id}: failed: ${String(error)}`);
        }
        for (const m of metrics) {
          (bySide[m.key] ??= []).push(values[m.key] ?? NaN);
        }
        const shown = metrics.filter((m) => values[m.key] !== undefined)
          .map((m) => `${m.label} ${fmt(values[m.key])} ${m.unit}`).join(", ");
        if (shown) ctx.log(`  round ${round + 1}/${ctx.pairs} ${side.id}: ${shown}`);
      }
    }
  } finally {
    for (const side of started.reverse()) {
      await side.stop?.().catch((error) => ctx.log(`  ${side.label}: stop failed: ${error}`));
    }
  }

  const sideReports: SideReport[] = sides.map((side) => {
    const bySide = samples.get(side.id) ?? {};
    const report: SideReport = { id: side.id, label: side.label, metrics: {} };
    if (skipped.has(side.id)) report.skipped = skipped.get(side.id);
    for (const m of metrics) {
      const values = bySide[m.key];
      if (values && values.some(Number.isFinite)) {
        report.metrics[m.key] = { samples: values, spread: spread(values) };
      }
    }
    const extra = { ...(side.extra?.() ?? {}) };
    if (errors.has(side.id)) extra.errors = errors.get(side.id);
    if (Object.keys(extra).length > 0) report.extra = extra;
    return report;
  });

  const comparisonReports = comparisons.map((c): ComparisonReport => {
    const a = samples.get(c.a)?.[c.metric] ?? [];
    const b = samples.get(c.b)?.[c.bMetric ?? c.metric] ?? [];
    const ratios = pairedRatios(a, b);
    const report: ComparisonReport = {
      label: c.label,
      metric: c.metric,
      a: c.a,
      b: c.b,
      ratios,
      spread: spread(ratios),
    };
    if (c.target) {
      report.target = c.target;
      const met = meets(report.spread.median, c.target);
      if (met !== undefined) report.met = met;
    }
    return report;
  });
  return { sides: sideReports, comparisons: comparisonReports };
}

/** A number with about four significant digits. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 10) return value.toFixed(2);
  return value.toFixed(3);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0];
}
