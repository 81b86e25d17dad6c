// `wiretest load <plugin> [params] --vus/--rate/--duration/…`: a plugin's
// client role as load. A plugin's session hook keeps a connection per VU;
// isolated, the whole VU loop runs in the plugin's process.
import { checkOutputPath, outputFileError, STDOUT_PATH } from "./_output_file.ts";
import { checkLoadPlan, type LoadPlanInput, type StageInput } from "../load/load_plan.ts";
import { formatLoadReport, loadReportJson } from "../load/load_report.ts";
import { LOAD_OUTCOME_DECLARATION, loadOutcome } from "../load/load_outcome.ts";
import type { LoadProgress } from "../load/run_load.ts";
import { parseShard, shardPlan } from "../load/shard_plan.ts";
import { intervalLogHeader, intervalLogLines } from "../load/interval_log.ts";
import { compileExpectation } from "../fixture/expectation.ts";
import type { Expectation } from "../fixture/types.ts";
import { FixtureError } from "../fixture/fixture_error.ts";
import { undeclaredExpectations } from "../fixture/undeclared_expectations.ts";
import {
  commonFlagsHelp,
  flagsHelp,
  flagSpecs,
  helpRows,
  parseFlags,
  UsageError,
  usageLine,
} from "./_flags.ts";
import { openPlugin } from "./_load_plugin.ts";
import { EXIT } from "./_exit.ts";
import { oneLine, printable } from "./_one_line.ts";
import { stringifyRounded } from "../_internal/round_float.ts";

/** Load flags: taken out of the arguments before the plugin's own flags are parsed. */
const LOAD_FLAGS: Record<string, string> = {
  "--vus": "number of VUs, closed model (each runs iterations back to back)",
  "--rate": "iterations per second, open model (latency from intended start)",
  "--duration": 'how long, with a unit: "10s", "1m"',
  "--iterations": "closed model: stop after this many iterations in all",
  "--stage": 'a ramp "<duration>:<target>" (VUs closed, rate open), repeatable',
  "--max-vus": "open model: most VUs (default: the top rate, at least 1, at most 1000)",
  "--pre-allocated-vus":
    "open model: VUs opened before the first iteration (default: 1 + top rate / 100, at most --max-vus)",
  "--shard": "i/n: run this machine's part of the plan",
  "--hdr-log": "write per-second HdrHistogram interval logs to this file",
  "--threshold": 'an expectation on the load metrics, "metrics.rtt_p99_ms: < 20ms", repeatable',
  "--distribution": "also print the HdrHistogram percentile distribution (wrk2's format)",
};
const SWITCHES = new Set(["--distribution"]);

export async function loadCommand(args: string[]): Promise<number> {
  const [pluginName, ...rest] = args;
  if (pluginName === undefined || pluginName.startsWith("-")) {
    if (pluginName === "--help" || pluginName === "-h") {
      console.log(loadHelp("<plugin>", ""));
      return EXIT.ok;
    }
    throw new UsageError(
      `Cannot run load: name a plugin ("wiretest load echo 127.0.0.1:7 --vus 8 --duration 10s")`,
    );
  }
  const { load, pluginArgs } = splitLoadFlags(rest);
  await using plugin = await openPlugin(pluginName, pluginArgs);
  const { name, client: role } = plugin.described;
  if (!role) throw new UsageError(`Cannot run load of plugin "${name}": it has no client role`);
  const specs = flagSpecs(role.params);
  const { params, common } = parseFlags(
    pluginArgs,
    specs,
    role.positionals,
    Object.keys(LOAD_FLAGS).map((flag) => flag.slice(2)),
  );
  if (common.help) {
    const iteration = role.session
      ? role.iteration ?? "not said by the plugin (it keeps a session per VU)"
      : "one whole client run (the plugin keeps nothing between iterations)";
    console.log(printable(loadHelp(name, flagsHelp(specs, role.positionals), iteration)));
    return EXIT.ok;
  }
  // A param the plugin's session does not use would be silently ignored.
  if (role.session) {
    const ignored = Object.keys(params).filter((key) => role.loadIgnores?.includes(key));
    if (ignored.length > 0) {
      const flags = ignored.map((key) =>
        `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      );
      throw new UsageError(
        `Cannot run load of plugin "${name}": ${flags.join(", ")} ${
          flags.length === 1 ? "belongs" : "belong"
        } to a single run and would be ignored under load (an iteration is set by the plugin; size the run with --vus or --rate, --duration or --iterations)`,
      );
    }
  }
  let input: LoadPlanInput = planInput(load);
  if (load.shard !== undefined) {
    const [index, count] = wrap(() => parseShard(load.shard![0]));
    input = wrap(() => shardPlan(input, index, count));
  }
  const plan = wrap(() => checkLoadPlan(input));
  const thresholds = (load.threshold ?? []).map(compileThreshold);

  // Params are checked (where the plugin runs) before the clock starts.
  await using prepared = await plugin.executor.prepare(name, "client", params);

  let log: Deno.FsFile | undefined;
  // A write that fails (a full disk) stops the run; it is reported after the summary.
  let logError: UsageError | undefined;
  const encoder = new TextEncoder();
  const startMs = Date.now();
  const logPath = load["hdr-log"]?.[0];
  if (logPath !== undefined) {
    const path = logPath;
    if (path === STDOUT_PATH) {
      throw new UsageError(
        'Cannot write --hdr-log "-": standard output carries the summary; name a file',
      );
    }
    checkOutputPath("--hdr-log", path);
    try {
      log = await Deno.open(path, { write: true, create: true, truncate: true });
    } catch (error) {
      throw outputFileError("--hdr-log", path, error);
    }
  }
  const controller = new AbortController();
  const writeLog = (text: string) => {
    if (log === undefined || logError !== undefined) return;
    try {
      const bytes = encoder.encode(text);
      for (let done = 0; done < bytes.length;) done += log.writeSync(bytes.subarray(done));
    } catch (error) {
      logError = outputFileError("--hdr-log", logPath!, error);
      controller.abort(logError);
    }
  };
  writeLog(intervalLogHeader(startMs));
  if (logError) {
    log?.close();
    throw logError;
  }
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    controller.abort(new DOMException("Interrupted", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const live = liveLine(Deno.stderr.isTerminal());
  let report;
  try {
    report = await prepared.load(plan, {
      signal: controller.signal,
      onProgress: (p) => live.update(p),
      onInterval: (interval) => writeLog(intervalLogLines(interval, startMs)),
    });
  } finally {
    live.stop();
    Deno.removeSignalListener("SIGINT", onSignal);
    log?.close();
  }
  const outcome = loadOutcome(report);
  const failures = thresholds.map((t) => t.check(outcome)).filter((r) => !r.pass);
  if (common.json) {
    console.log(stringifyRounded(
      {
        ...loadReportJson(report),
        thresholds: thresholds.map((t) => ({
          key: t.key,
          expected: t.source,
          pass: t.check(outcome).pass,
        })),
      },
      2,
    ));
  } else {
    console.log(printable(formatLoadReport(report)));
    if (load.distribution) console.log(report.distribution);
    for (const f of failures) console.error(`threshold: ${oneLine(f.message)}`);
  }
  if (logError) throw logError;
  if (interrupted) return 130;
  if (failures.length > 0) return EXIT.failed;
  // A threshold on errors says how many are fine (as in a fixture's `load:`
  // step); one correct iteration is still needed.
  const errorThreshold = thresholds.some((t) =>
    t.path[0] === "metrics" && (t.path[1] === "errors" || t.path[1] === "error_rate")
  );
  // Arrivals that never started (every VU busy until the end) are latencies
  // never measured: a stalled target would pass on the few that ended.
  const droppedThreshold = thresholds.some((t) =>
    t.path[0] === "metrics" && t.path[1] === "dropped_iterations"
  );
  if (report.dropped > 0 && !droppedThreshold) {
    if (!common.json) {
      console.error(
        `dropped: ${report.dropped} arrivals never started (every VU was busy); a --threshold on "metrics.dropped_iterations" says how many are fine`,
      );
    }
    return EXIT.failed;
  }
  if (errorThreshold) return report.iterations > report.errors ? EXIT.ok : EXIT.failed;
  return report.iterations > 0 && report.errors === 0 ? EXIT.ok : EXIT.failed;
}

type LoadValues = Partial<Record<string, string[]>>;

/** Takes the load flags out of `args` (`--flag value` and `--flag=value`). */
function splitLoadFlags(args: string[]): { load: LoadValues; pluginArgs: string[] } {
  const load: LoadValues = Object.create(null);
  const pluginArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      pluginArgs.push(...args.slice(i));
      break;
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!Object.hasOwn(LOAD_FLAGS, flag)) {
      pluginArgs.push(arg);
      continue;
    }
    const key = flag.slice(2);
    let value: string;
    if (SWITCHES.has(flag)) {
      if (eq !== -1) throw new UsageError(`Cannot parse arguments: flag "${flag}" takes no value`);
      value = "true";
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= args.length) {
        throw new UsageError(`Cannot parse arguments: flag "${flag}" needs a value`);
      }
      value = args[++i];
    }
    (load[key] ??= []).push(value);
  }
  return { load, pluginArgs };
}

function planInput(load: LoadValues): LoadPlanInput {
  const one = (key: string): string | undefined => {
    const values = load[key];
    if (values !== undefined && values.length > 1) {
      throw new UsageError(`Cannot parse arguments: flag "--${key}" given ${values.length} times`);
    }
    return values?.[0];
  };
  const number = (key: string): number | undefined => {
    const raw = one(key);
    if (raw === undefined) return undefined;
    const n = Number(raw.replace(/_/g, ""));
    if (raw.trim() === "" || Number.isNaN(n)) {
      throw new UsageError(`Cannot parse --${key}: "${raw}" is not a number`);
    }
    return n;
  };
  const input: LoadPlanInput = {};
  const set = <K extends keyof LoadPlanInput>(k: K, v: LoadPlanInput[K] | undefined) => {
    if (v !== undefined) input[k] = v;
  };
  set("vus", number("vus"));
  set("rate", number("rate"));
  set("duration", one("duration"));
  set("iterations", number("iterations"));
  set("maxVus", number("max-vus"));
  set("preAllocatedVus", number("pre-allocated-vus"));
  if (load.stage !== undefined) {
    input.stages = load.stage.map((text): StageInput => {
      const m = /^([^:]+):([^:]+)$/.exec(text);
      const target = m ? Number(m[2]) : NaN;
      if (!m || Number.isNaN(target)) {
        throw new UsageError(
          `Cannot parse --stage "${text}": write <duration>:<target>, such as "10s:100"`,
        );
      }
      return { duration: m[1], target };
    });
  }
  return input;
}

function compileThreshold(text: string, index: number): Expectation {
  const m = /^\s*([^:\s]+)\s*:\s*(.+)$/.exec(text);
  if (!m) {
    throw new UsageError(
      `Cannot parse --threshold "${text}": write "<field>: <expectation>", such as "metrics.rtt_p99_ms: < 20ms"`,
    );
  }
  const at = { file: "--threshold", line: index + 1, column: 1, path: m[1] };
  // A misspelt metric (`metrics.rtt_p99`) would only fail after the whole
  // run; its name is checked first, as in a fixture, so the closest name is
  // what the user reads, not a complaint about the value's unit.
  const [undeclared] = undeclaredExpectations(
    [{ path: m[1].split("."), location: at }],
    "load",
    LOAD_OUTCOME_DECLARATION,
    "a load run",
  );
  if (undeclared !== undefined) {
    const detail = undeclared.detail.replace(/, which a load run never reports.*$/, "");
    throw new UsageError(
      `Cannot use --threshold "${text}": ${detail}, which a load run never reports (see --help)`,
    );
  }
  try {
    return compileExpectation(m[1], m[2], at);
  } catch (error) {
    throw new UsageError(`Cannot use --threshold "${text}": ${detailOf(error)}`, { cause: error });
  }
}

/** A fixture problem's own words, without "Cannot load fixture" (a flag is no fixture). */
function detailOf(error: unknown): string {
  const problems = error instanceof AggregateError ? error.errors : [error];
  return problems.map((p) =>
    p instanceof FixtureError ? p.detail : p instanceof Error ? p.message : String(p)
  ).join("; ");
}

/** Runs `f`, turning a plan's or threshold's error into a usage error (exit 2). */
function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function loadHelp(plugin: string, pluginFlags: string, iteration?: string): string {
  const rows: [string, string][] = Object.entries(LOAD_FLAGS).map(([flag, text]) => [
    `  ${flag}${SWITCHES.has(flag) ? "" : " <value>"}`,
    text,
  ]);
  rows.push([
    "  --no-isolation",
    "run the plugin in this process (isolated, the VU loop runs in the plugin's)",
  ]);
  return `${usageLine(`load ${plugin}`, [])}\n\nRun a plugin's client role as load.${
    iteration ? `\n\nOne iteration: ${iteration}` : ""
  }\n\nLoad flags:\n${helpRows(rows)}\n${pluginFlags ? `\nPlugin flags:\n${pluginFlags}\n` : ""}${
    // --no-isolation is among the load flags, with what it means for a load run.
    commonFlagsHelp(["--no-isolation"]).slice(
      1,
    )}\n\nExit codes: 0 no errors and thresholds met, 1 errors or a breached threshold, 2 usage error, 130 interrupted.`;
}

/** One line on a terminal, redrawn each second; nothing when stderr is piped. */
function liveLine(isTerminal: boolean): { update(p: LoadProgress): void; stop(): void } {
  if (!isTerminal) return { update: () => {}, stop: () => {} };
  const encoder = new TextEncoder();
  let drawn = false;
  const ms = (v: number) => Number.isNaN(v) ? "-" : `${v.toFixed(2)}ms`;
  return {
    update(p) {
      const total = p.durationMs === undefined ? "" : `/${(p.durationMs / 1000).toFixed(0)}s`;
      const line = `rate ${p.rate.toFixed(0)}/s  p50 ${ms(p.p50Ms)}  p99 ${ms(p.p99Ms)}  errors ${
        p.errorsPerSecond.toFixed(0)
      }/s  ${(p.elapsedMs / 1000).toFixed(0)}s${total}`;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
      drawn = true;
    },
    stop() {
      if (drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    },
  };
}
