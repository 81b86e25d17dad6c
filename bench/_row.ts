// The contract between bench/run.ts and a benchmark row. A row is a module
// in bench/rows/ whose default export is a BenchRow; run.ts finds it by
// listing that folder, so a new row is one new file.
import type { ProcessGroup } from "./_process.ts";
import type { Spread } from "./_stats.ts";

/** How big a run is: a CI smoke test, the default, or the longest checks too. */
export type Mode = "quick" | "default" | "full";

/** What run.ts hands a row. */
export interface RowContext {
  mode: Mode;
  /** Rounds of A B A B … (each side once per round). */
  pairs: number;
  /** The repository root (wiretest's own sides run from it). */
  root: string;
  /** A fresh directory for this row, removed when it ends. */
  tmp: string;
  /** Processes the row starts; whatever is still running is stopped when it ends. */
  procs: ProcessGroup;
  /** Whether a program is on PATH (after installing the missing ones). */
  has(program: string): boolean;
  /** Prints a progress line. */
  log(line: string): void;
}

/** One benchmark row. */
export interface BenchRow {
  /** Short kebab-case name for `--only`. */
  id: string;
  /** The row as the table names it. */
  title: string;
  /** Place in the table (rows run in this order). */
  order: number;
  /** Programs the row's peers need (installed when missing). */
  programs: string[];
  /** Runs the row. */
  run(ctx: RowContext): Promise<RowReport>;
}

/** A measured quantity. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  /** Which way is better, for the reader. */
  better: "higher" | "lower";
}

/** One side's samples of one metric, and their spread. */
export interface SideMetric {
  samples: number[];
  spread: Spread;
}

/** One side of a row: what ran and what it measured, or why it did not run. */
export interface SideReport {
  id: string;
  label: string;
  skipped?: string;
  metrics: Record<string, SideMetric>;
  /** Anything else worth keeping (versions, a peer's own counters). */
  extra?: Record<string, unknown>;
}

/** A target the issue sets, on a ratio or on a value. */
export interface Target {
  op: ">=" | "<=" | "within";
  value: number;
  /** As the issue words it: "≥ 1.5× Node". */
  text: string;
}

/** wiretest against one peer, round by round. */
export interface ComparisonReport {
  label: string;
  metric: string;
  a: string;
  b: string;
  /** `a / b` in each round. */
  ratios: number[];
  spread: Spread;
  target?: Target;
  /** Whether the median ratio meets the target; absent without a target or data. */
  met?: boolean;
}

/** A value checked against a target on its own (peak RSS, flatness). */
export interface CheckReport {
  label: string;
  value: number;
  unit: string;
  target?: Target;
  met?: boolean;
  detail?: string;
}

/** Everything a row measured. */
export interface RowReport {
  /** Sizes and counts the row used. */
  params: Record<string, unknown>;
  metrics: MetricSpec[];
  sides: SideReport[];
  comparisons: ComparisonReport[];
  checks: CheckReport[];
  notes: string[];
}

/** Whether `value` meets `target` (`within`: |value − 1| ≤ target.value). */
export function meets(value: number, target: Target): boolean | undefined {
  if (!Number.isFinite(value)) return undefined;
  if (target.op === ">=") return value >= target.value;
  if (target.op === "<=") return value <= target.value;
  return Math.abs(value - 1) <= target.value;
}
