// Showing results: a plain-text block per row on the console, a JSON file
// per row, and Markdown tables for BENCHMARKS.md.
import { fmt } from "./_alternate.ts";
import type { Machine } from "./_machine.ts";
import type { BenchRow, Mode, RowReport, Target } from "./_row.ts";

/** One row's result as written to bench/results/<id>-<time>.json. */
export interface RowResult {
  row: string;
  title: string;
  mode: Mode;
  pairs: number;
  started: string;
  seconds: number;
  command: string;
  machine: Machine;
  report?: RowReport;
  error?: string;
}

/** The row as lines of text: each side's median and range, then each ratio against its target. */
export function formatRow(row: BenchRow, report: RowReport, pairs: number): string {
  const lines = [
    `${row.title} (${pairs} round${pairs === 1 ? "" : "s"})`,
    `  ${Object.entries(report.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}`,
  ];
  const width = Math.max(...report.sides.map((s) => s.label.length), 10);
  for (const side of report.sides) {
    if (side.skipped) {
      lines.push(`  ${side.label.padEnd(width)}  skipped: ${side.skipped}`);
      continue;
    }
    for (const m of report.metrics) {
      const v = side.metrics[m.key];
      if (!v) continue;
      const { median, min, max } = v.spread;
      lines.push(
        `  ${side.label.padEnd(width)}  ${m.label.padEnd(14)} ${fmt(median).padStart(9)} ${
          m.unit.padEnd(6)
        } (${fmt(min)} – ${fmt(max)})`,
      );
    }
  }
  for (const c of report.comparisons) {
    const { median, min, max, n } = c.spread;
    const ratio = n > 0 ? `${fmt(median)}× (${fmt(min)} – ${fmt(max)})` : "— (a side did not run)";
    lines.push(`  ${c.label.padEnd(width + 15)} ${ratio}${targetText(c.target, c.met)}`);
  }
  for (const c of report.checks) {
    lines.push(
      `  ${c.label.padEnd(width + 15)} ${fmt(c.value)} ${c.unit}${targetText(c.target, c.met)}${
        c.detail ? ` — ${c.detail}` : ""
      }`,
    );
  }
  return lines.join("\n");
}

function targetText(target: Target | undefined, met: boolean | undefined): string {
  if (!target) return "";
  return `  target ${target.text}: ${met === undefined ? "not measured" : met ? "met" : "MISSED"}`;
}

/** Markdown tables of every row: the sides, then the ratios and checks with their targets. */
export function markdownTables(results: RowResult[]): string {
  const measured = [
    "| row | side | metric | median | min – max |",
    "|---|---|---|---:|---|",
  ];
  const targets = [
    "| row | comparison | median | min – max | target | met |",
    "|---|---|---:|---|---|---|",
  ];
  for (const r of results) {
    if (!r.report) {
      measured.push(`| ${r.title} | — | failed: ${r.error?.split("\n")[0] ?? "?"} | | |`);
      continue;
    }
    for (const side of r.report.sides) {
      if (side.skipped) {
        measured.push(`| ${r.title} | ${side.label} | skipped: ${side.skipped} | | |`);
        continue;
      }
      for (const m of r.report.metrics) {
        const v = side.metrics[m.key];
        if (!v) continue;
        measured.push(
          `| ${r.title} | ${side.label} | ${m.label} (${m.unit}) | ${fmt(v.spread.median)} | ${
            fmt(v.spread.min)
          } – ${fmt(v.spread.max)} |`,
        );
      }
    }
    for (const c of r.report.comparisons) {
      targets.push(
        `| ${r.title} | ${c.label} | ${fmt(c.spread.median)}× | ${fmt(c.spread.min)} – ${
          fmt(c.spread.max)
        } | ${c.target?.text ?? ""} | ${metText(c.met, c.target)} |`,
      );
    }
    for (const c of r.report.checks) {
      targets.push(
        `| ${r.title} | ${c.label} | ${fmt(c.value)} ${c.unit} | ${c.detail ?? ""} | ${
          c.target?.text ?? ""
        } | ${metText(c.met, c.target)} |`,
      );
    }
  }
  return `${measured.join("\n")}\n\n${targets.join("\n")}\n`;
}

function metText(met: boolean | undefined, target: Target | undefined): string {
  if (!target) return "";
  return met === undefined ? "not measured" : met ? "yes" : "**no**";
}

/** Writes one row's JSON result into `dir`; returns its path. */
export async function writeResult(dir: string, result: RowResult): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const stamp = result.started.replace(/[:.]/g, "-");
  const path = `${dir}/${result.row}-${stamp}.json`;
  await Deno.writeTextFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
