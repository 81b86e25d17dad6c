/**
 * The runner at scale: 1,000 small echo fixtures (each with its own echo
 * service and one or two echo steps whose round trips are checked by
 * expectations) run by `wiretest test --concurrency 8`, as a subprocess,
 * isolated (the default: plugins in permission-restricted Workers) and
 * `--no-isolation`, alternately (A B A B …, after a small warm-up run of
 * each). Measured per run: wall time of the whole process, its peak RSS
 * (Workers are threads of it, so they count) and its CPU time (user + sys,
 * steadier than wall time on a busy machine).
 *
 * ```sh
 * deno run -A bench/runner_fixtures.ts            # 1,000 fixtures, 5 rounds
 * deno run -A bench/runner_fixtures.ts --quick    # 20 fixtures, 1 round (CI smoke)
 * deno run -A bench/runner_fixtures.ts --pairs 3 --out /tmp/runner.json
 * ```
 *
 * Targets (issue 6): 1,000 fixtures at concurrency 8 in ≤ 10 s wall with a
 * peak RSS ≤ 300 MiB; isolated ≤ 1.3× `--no-isolation`. Every fixture must
 * pass, or the run is not a sample. Results go to
 * bench/results/runner_fixtures.json unless `--out` says otherwise.
 *
 * @module
 */
import { join } from "node:path";
import { alternate, fmt, type Side } from "./_alternate.ts";
import { describeMachine } from "./_machine.ts";
import { peakRssMiB, ProcessGroup } from "./_process.ts";
import type { RowResult } from "./_report.ts";
import { meets, type MetricSpec, type RowContext, type RowReport, type Target } from "./_row.ts";
import { cli } from "./_wiretest.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const GNU_TIME = "/usr/bin/time";

/** The row's id and title, as the table names it. */
export const RUNNER_ROW = {
  id: "runner",
  title: "Runner: 1,000 small echo fixtures on loopback, concurrency 8",
} as const;

/** Sizes of a run of this benchmark. */
export interface RunnerRowOptions {
  /** Fixtures in a measured run (default 1000; 20 in quick mode). */
  fixtures?: number;
  /** Fixtures in the warm-up run of each side (default 50; 4 in quick mode). */
  warmUpFixtures?: number;
  /** `--concurrency` (default 8). */
  concurrency?: number;
}

/** Options for {@linkcode runRunnerBenchmark}. */
export interface RunnerBenchmarkOptions extends RunnerRowOptions {
  /** 20 fixtures and one round: a smoke run that it still works. */
  quick?: boolean;
  /** Rounds of isolated then `--no-isolation` (default 5; 1 when quick). */
  pairs?: number;
  /** Where the JSON result goes (default bench/results/runner_fixtures.json); `false`: nowhere. */
  out?: string | false;
  /** Progress lines (default: standard error). */
  log?: (line: string) => void;
}

/** What {@linkcode runRunnerBenchmark} measured, as `bench/run.ts` writes rows. */
export type RunnerBenchmarkResult = RowResult & { report: RowReport };

const METRICS: MetricSpec[] = [
  { key: "wall_s", label: "wall", unit: "s", better: "lower" },
  { key: "peak_rss_mib", label: "peak RSS", unit: "MiB", better: "lower" },
  { key: "cpu_s", label: "CPU user+sys", unit: "s", better: "lower" },
];

const WALL_TARGET: Target = { op: "<=", value: 10, text: "≤ 10 s" };
const RSS_TARGET: Target = { op: "<=", value: 300, text: "≤ 300 MiB" };
const RATIO_TARGET: Target = { op: "<=", value: 1.3, text: "≤ 1.3×" };

/**
 * Runs the row inside `bench/run.ts` (or on its own through
 * {@linkcode runRunnerBenchmark}): writes the fixtures into `ctx.tmp`, then
 * runs both sides alternately, `ctx.pairs` rounds after a warm-up.
 *
 * @param ctx The row's context (mode, rounds, temporary directory, processes).
 * @param options Sizes, overriding those of `ctx.mode`.
 * @returns The row's report: both sides' samples, the isolation ratio and the target checks.
 */
export async function runRunnerRow(
  ctx: RowContext,
  options: RunnerRowOptions = {},
): Promise<RowReport> {
  const quick = ctx.mode === "quick";
  const count = options.fixtures ?? (quick ? 20 : 1000);
  const warmUpCount = options.warmUpFixtures ?? (quick ? 4 : 50);
  const concurrency = options.concurrency ?? 8;
  const dir = join(ctx.tmp, "fixtures");
  const warmDir = join(ctx.tmp, "warm-up");
  const steps = await writeEchoFixtures(dir, count);
  await writeEchoFixtures(warmDir, warmUpCount);
  const timed = await hasGnuTime();

  const side = (id: string, label: string, flags: string[]): Side => ({
    id,
    label,
    sample: (warmUp) =>
      runOnce(ctx, {
        dir: warmUp ? warmDir : dir,
        fixtures: warmUp ? warmUpCount : count,
        concurrency,
        flags,
        report: join(ctx.tmp, `${id}.jsonl`),
        timed,
      }),
  });
  const { sides, comparisons } = await alternate(
    ctx,
    [
      side("isolated", "wiretest test (isolated, the default)", []),
      side("in-process", "wiretest test --no-isolation", ["--no-isolation"]),
    ],
    METRICS,
    [{
      label: "isolated / --no-isolation, wall",
      metric: "wall_s",
      a: "isolated",
      b: "in-process",
      target: RATIO_TARGET,
    }, {
      label: "isolated / --no-isolation, CPU",
      metric: "cpu_s",
      a: "isolated",
      b: "in-process",
    }],
  );

  const checks: RowReport["checks"] = [];
  for (const s of sides) {
    const wall = s.metrics.wall_s?.spread;
    const rss = s.metrics.peak_rss_mib?.spread;
    if (wall) {
      checks.push(check(`${s.id}: wall, median`, wall.median, "s", WALL_TARGET));
    }
    if (rss) {
      checks.push(check(`${s.id}: peak RSS, highest`, rss.max, "MiB", RSS_TARGET));
    }
  }
  return {
    params: {
      fixtures: count,
      steps,
      concurrency,
      warm_up_fixtures: warmUpCount,
      reporter: "jsonl to a file",
      measured_with: timed ? "GNU time (%M, %U, %S)" : "/proc/<pid>/status VmHWM, polled",
    },
    metrics: METRICS,
    sides,
    comparisons,
    checks,
    notes: [
      `Each fixture: its own echo service (TCP, ephemeral port) and one step of 3 round trips, ` +
      `or two steps of 2 and 1; payloads differ by fixture and expectations check round trips, ` +
      `bytes and mismatches. A run counts only when every fixture passed.`,
      `Wall time is the whole \`deno run -A lib/cli/main.ts test <dir> --concurrency ` +
      `${concurrency}\` process, start-up included; peak RSS is that process's (its Workers ` +
      `are threads of it).`,
    ],
  };
}

/**
 * Runs the row on its own: a fresh temporary directory, the machine's
 * description, the rounds, a printed summary and a JSON result.
 *
 * @param options Quick mode, rounds, sizes, where the JSON goes.
 * @returns The result, as `bench/run.ts` writes a row's result.
 */
export async function runRunnerBenchmark(
  options: RunnerBenchmarkOptions = {},
): Promise<RunnerBenchmarkResult> {
  const mode = options.quick ? "quick" : "default";
  const pairs = options.pairs ?? (options.quick ? 1 : 5);
  const log = options.log ?? ((line: string) => console.error(line));
  const procs = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "wiretest-bench-runner-" });
  const started = new Date().toISOString();
  const t0 = performance.now();
  try {
    const machine = await describeMachine();
    const report = await runRunnerRow({
      mode,
      pairs,
      root: ROOT,
      tmp,
      procs,
      has: () => true,
      log,
    }, options);
    const result: RunnerBenchmarkResult = {
      row: RUNNER_ROW.id,
      title: RUNNER_ROW.title,
      mode,
      pairs,
      started,
      seconds: (performance.now() - t0) / 1000,
      command: `deno run -A bench/runner_fixtures.ts${options.quick ? " --quick" : ""}`,
      machine,
      report,
    };
    const out = options.out ?? join(ROOT, "bench", "results", "runner_fixtures.json");
    if (out !== false) await Deno.writeTextFile(out, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await procs.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * The report as lines of text: each side's medians and ranges, the ratios
 * and the checks against their targets.
 *
 * @param result What {@linkcode runRunnerBenchmark} returned.
 * @returns Lines for a terminal.
 */
export function formatRunnerResult(result: RunnerBenchmarkResult): string {
  const { report } = result;
  const lines = [
    `${result.title} (${report.params.fixtures} fixtures, ${result.pairs} round${
      result.pairs === 1 ? "" : "s"
    })`,
  ];
  for (const s of report.sides) {
    if (s.skipped) lines.push(`  ${s.label}: skipped: ${s.skipped}`);
    for (const m of report.metrics) {
      const v = s.metrics[m.key]?.spread;
      if (!v) continue;
      lines.push(
        `  ${s.label.padEnd(40)} ${m.label.padEnd(13)} ${fmt(v.median).padStart(8)} ${
          m.unit.padEnd(4)
        } (${fmt(v.min)} – ${fmt(v.max)})`,
      );
    }
  }
  for (const c of report.comparisons) {
    const { median, min, max } = c.spread;
    lines.push(
      `  ${c.label.padEnd(54)} ${fmt(median)}× (${fmt(min)} – ${fmt(max)})${verdict(c)}`,
    );
  }
  for (const c of report.checks) {
    lines.push(`  ${c.label.padEnd(54)} ${fmt(c.value)} ${c.unit}${verdict(c)}`);
  }
  return lines.join("\n");
}

/**
 * Writes `count` echo fixtures into `dir` (created if needed).
 *
 * @returns How many steps they have in all.
 */
async function writeEchoFixtures(dir: string, count: number): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  const width = String(count - 1).length;
  let steps = 0;
  const files: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const id = String(i).padStart(width, "0");
    const one = i % 2 === 0;
    steps += one ? 1 : 2;
    const text = one
      ? `name: echo ${id}
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", payload: "hello ${id}", count: 3 }
    expect:
      metrics.round_trips: 3
      metrics.bytes_received: ${3 * `hello ${id}`.length}
      metrics.mismatches: 0
`
      : `name: echo ${id}
services:
  echo: { plugin: echo }
steps:
  - name: first
    plugin: echo
    with: { target: "\${services.echo.addr}", payload: "hello ${id}", count: 2 }
    expect:
      metrics.round_trips: 2
      metrics.mismatches: 0
  - plugin: echo
    with: { target: "\${services.echo.addr}", payload: "again ${id}", count: 1 }
    expect:
      metrics.bytes_received: ${`again ${id}`.length}
      metrics.mismatches: 0
`;
    files.push(Deno.writeTextFile(join(dir, `echo_${id}.wire.yaml`), text));
  }
  await Promise.all(files);
  return steps;
}

interface RunSpec {
  dir: string;
  fixtures: number;
  concurrency: number;
  flags: string[];
  report: string;
  timed: boolean;
}

/** One `wiretest test` run: wall, peak RSS and CPU; throws unless every fixture passed. */
async function runOnce(ctx: RowContext, spec: RunSpec): Promise<Record<string, number>> {
  const [deno, args] = cli(ctx.root, [
    "test",
    spec.dir,
    "--concurrency",
    String(spec.concurrency),
    "--reporter",
    "jsonl",
    "--output",
    spec.report,
    ...spec.flags,
  ]);
  const measured = spec.timed ? await underGnuTime(ctx, deno, args) : await polled(ctx, deno, args);
  const summary = lastSummary(await Deno.readTextFile(spec.report));
  if (summary.passed !== spec.fixtures) {
    throw new Error(
      `Cannot use the run: ${summary.passed} of ${spec.fixtures} fixtures passed (${
        JSON.stringify(summary)
      })`,
    );
  }
  return measured;
}

async function underGnuTime(
  ctx: RowContext,
  deno: string,
  args: string[],
): Promise<Record<string, number>> {
  const stats = join(ctx.tmp, "time.txt");
  const t0 = performance.now();
  await ctx.procs.run(GNU_TIME, ["-f", "%M %U %S", "-o", stats, deno, ...args], {
    cwd: ctx.root,
  });
  const wall = (performance.now() - t0) / 1000;
  const line = (await Deno.readTextFile(stats)).trim().split("\n").at(-1) ?? "";
  const [kib, user, sys] = line.split(/\s+/).map(Number);
  if (![kib, user, sys].every(Number.isFinite)) {
    throw new SyntaxError(`Cannot read GNU time's output: "${line}"`);
  }
  return { wall_s: wall, peak_rss_mib: kib / 1024, cpu_s: user + sys };
}

/** Without GNU time: VmHWM and CPU ticks read from /proc every 20 ms until it exits. */
async function polled(
  ctx: RowContext,
  deno: string,
  args: string[],
): Promise<Record<string, number>> {
  const t0 = performance.now();
  const proc = ctx.procs.spawn(deno, args, { cwd: ctx.root });
  let peak = 0;
  let cpu = 0;
  const read = () => {
    peak = Math.max(peak, peakRssMiB(proc.pid) ?? 0);
    cpu = Math.max(cpu, cpuSeconds(proc.pid) ?? 0);
  };
  const timer = setInterval(read, 20);
  const exit = await proc.exited.finally(() => clearInterval(timer));
  const wall = (performance.now() - t0) / 1000;
  if (exit.code !== 0) {
    throw new Error(
      `Cannot run wiretest test: exit code ${exit.code}\n${exit.stderr.slice(-2000)}`,
    );
  }
  return { wall_s: wall, peak_rss_mib: peak, cpu_s: cpu };
}

/** User + system CPU seconds of a live process (Linux counts in 1/100 s). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which may hold spaces, in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function hasGnuTime(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(GNU_TIME, {
      args: ["-f", "%M", "-o", "/dev/null", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

function lastSummary(jsonl: string): { passed: number; total: number } {
  const lines = jsonl.trim().split("\n").reverse();
  for (const line of lines) {
    const event = JSON.parse(line);
    if (event.type === "summary") return event;
  }
  throw new SyntaxError("Cannot read the run's summary: the report has no summary line");
}

function check(label: string, value: number, unit: string, target: Target) {
  const met = meets(value, target);
  return { label, value, unit, target, ...(met === undefined ? {} : { met }) };
}

function verdict(c: { target?: Target; met?: boolean }): string {
  if (!c.target) return "";
  return `  target ${c.target.text}: ${c.met === undefined ? "—" : c.met ? "met" : "MISSED"}`;
}

function parseCli(args: string[]): RunnerBenchmarkOptions {
  const options: RunnerBenchmarkOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--quick") options.quick = true;
    else if (arg === "--pairs" || arg === "--fixtures") {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`Cannot parse "${arg}": "${args[i]}" is not a positive integer`);
      }
      if (arg === "--pairs") options.pairs = n;
      else options.fixtures = n;
    } else if (arg === "--out") {
      const out = args[++i];
      if (out === undefined) throw new TypeError(`Cannot parse "--out": it needs a file`);
      options.out = out;
    } else {
      throw new TypeError(
        `Cannot parse "${arg}": unknown flag (use --quick, --pairs <n>, --fixtures <n>, --out <file>)`,
      );
    }
  }
  return options;
}

if (import.meta.main) {
  const result = await runRunnerBenchmark(parseCli(Deno.args));
  console.log(formatRunnerResult(result));
}
