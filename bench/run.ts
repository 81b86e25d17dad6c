/**
 * `deno task bench`: wiretest against the tools people would otherwise use,
 * side by side on loopback, as ratios.
 *
 * ```sh
 * deno task bench                    # every row, sizes of the issue (about 10 minutes)
 * deno task bench --only udp-ping    # one row (repeat --only, or a comma list, for more)
 * deno task bench --quick            # tiny sizes, one round: the CI smoke run
 * deno task bench --full             # also the long checks (file send RSS at 4 GiB)
 * deno task bench --pairs 7          # more rounds (default 5; 1 with --quick)
 * deno task bench --out /tmp/r       # where JSON results go (default bench/results)
 * deno task bench --no-install       # do not apt-get missing peers; skip their sides
 * deno task bench --list             # the rows and what they need
 * ```
 *
 * Each row is a module in bench/rows/ whose default export is a
 * {@linkcode BenchRow}; this script finds them by listing that folder, so a
 * new row is one new file. A row starts its peers itself, runs its sides
 * alternately and reports medians, ranges and round-by-round ratios; this
 * script prints them, writes one JSON file per row and ends with Markdown
 * tables for BENCHMARKS.md. The exit code is 1 when a row failed to run,
 * never because a target was missed: benchmarks are not tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { describeMachine } from "./_machine.ts";
import { ensurePrograms } from "./_peers.ts";
import { ProcessGroup } from "./_process.ts";
import { formatRow, markdownTables, type RowResult, writeResult } from "./_report.ts";
import type { BenchRow, Mode } from "./_row.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const ROWS_DIR = new URL("./rows/", import.meta.url);

/** Parsed command line. */
export interface BenchArgs {
  mode: Mode;
  only: string[];
  pairs?: number;
  out: string;
  install: boolean;
  list: boolean;
  help: boolean;
}

const USAGE = `Usage: deno task bench [--quick | --full] [--only <row>]... [--pairs <n>]
                       [--out <dir>] [--no-install] [--list]`;

/** Parses the flags above; throws a TypeError naming a bad one. */
export function parseArgs(args: string[]): BenchArgs {
  const parsed: BenchArgs = {
    mode: "default",
    only: [],
    out: `${ROOT}/bench/results`,
    install: true,
    list: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new TypeError(`Cannot parse "${flag}": it needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        parsed.mode = "quick";
        break;
      case "--full":
        parsed.mode = "full";
        break;
      case "--only":
        parsed.only.push(...value().split(",").map((s) => s.trim()).filter(Boolean));
        break;
      case "--pairs": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 100) {
          throw new RangeError(`Cannot parse "--pairs": "${n}" is not an integer in 1-100`);
        }
        parsed.pairs = n;
        break;
      }
      case "--out":
        parsed.out = value();
        break;
      case "--no-install":
        parsed.install = false;
        break;
      case "--list":
        parsed.list = true;
        break;
      case "-h":
      case "--help":
        parsed.help = true;
        break;
      default:
        throw new TypeError(`Cannot parse "${arg}": unknown flag\n${USAGE}`);
    }
  }
  return parsed;
}

/** Every row in bench/rows/, in table order. */
export async function loadRows(dir: URL = ROWS_DIR): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const name = entry.name;
    if (
      entry.isFile && name.endsWith(".ts") && !name.startsWith("_") && !name.endsWith("_test.ts")
    ) {
      names.push(name);
    }
  }
  for (const name of names.sort()) {
    const mod = await import(new URL(name, dir).href);
    const row = mod.default as BenchRow | undefined;
    if (!row || typeof row.id !== "string" || typeof row.run !== "function") {
      throw new TypeError(`Cannot load bench row "${name}": its default export is not a BenchRow`);
    }
    rows.push(row);
  }
  const ids = new Set<string>();
  for (const row of rows) {
    if (ids.has(row.id)) throw new TypeError(`Cannot load bench rows: id "${row.id}" twice`);
    ids.add(row.id);
  }
  return rows.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

/** Runs the rows the args select; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const all = await loadRows();
  if (args.list) {
    for (const row of all) {
      console.log(`${row.id.padEnd(14)} ${row.title}  [${row.programs.join(", ") || "no peers"}]`);
    }
    return 0;
  }
  const unknown = args.only.filter((id) => !all.some((r) => r.id === id));
  if (unknown.length > 0) {
    console.error(
      `error: Cannot run rows "${unknown.join(", ")}": unknown (rows: ${
        all.map((r) => r.id).join(", ")
      })`,
    );
    return 2;
  }
  const rows = args.only.length ? all.filter((r) => args.only.includes(r.id)) : all;
  const pairs = args.pairs ?? (args.mode === "quick" ? 1 : 5);
  const log = (line: string) => console.error(line);
  const started = performance.now();

  const available = await ensurePrograms(rows.flatMap((r) => r.programs), {
    install: args.install,
    log,
  });
  const machine = await describeMachine();
  log(
    `machine: ${machine.nproc} × ${machine.cpu}, ${machine.memory_gib.toFixed(1)} GiB, ${
      Object.entries(machine.versions).map(([k, v]) => `${k} ${v}`).join("; ")
    }`,
  );

  const groups = new Set<ProcessGroup>();
  const onSignal = () => {
    void Promise.all([...groups].map((g) => g.stopAll())).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const results: RowResult[] = [];
  try {
    for (const row of rows) {
      log(`\n== ${row.id}: ${row.title}`);
      const procs = new ProcessGroup();
      groups.add(procs);
      const tmp = await Deno.makeTempDir({ prefix: `wiretest-bench-${row.id}-` });
      const result: RowResult = {
        row: row.id,
        title: row.title,
        mode: args.mode,
        pairs,
        started: new Date().toISOString(),
        seconds: 0,
        command: `deno task bench ${argv.join(" ")}`.trim(),
        machine,
      };
      const t0 = performance.now();
      try {
        result.report = await row.run({
          mode: args.mode,
          pairs,
          root: ROOT,
          tmp,
          procs,
          has: (p) => available.has(p),
          log,
        });
        console.log(`\n${formatRow(row, result.report, pairs)}`);
      } catch (error) {
        result.error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
        console.log(`\n${row.title}: FAILED: ${error instanceof Error ? error.message : error}`);
      } finally {
        await procs.stopAll();
        groups.delete(procs);
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
      result.seconds = (performance.now() - t0) / 1000;
      results.push(result);
      log(`  (${result.seconds.toFixed(0)} s) → ${await writeResult(args.out, result)}`);
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  const total = (performance.now() - started) / 1000;
  console.log(`\n${markdownTables(results)}`);
  console.log(
    `${rows.length} row${rows.length === 1 ? "" : "s"} in ${total.toFixed(0)} s ` +
      `(${args.mode}, ${pairs} round${pairs === 1 ? "" : "s"} each)`,
  );
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
