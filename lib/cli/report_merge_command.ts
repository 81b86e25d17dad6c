// `wiretest report merge <log…>`: adds the HdrHistogram interval logs of
// load shards (`wiretest load … --shard i/n --hdr-log file`) and prints one
// summary, as if one machine had run the whole plan.
import { mergeIntervalLogs } from "../load/interval_log.ts";
import type { LatencyPercentiles } from "../load/types.ts";
import { UsageError } from "./_flags.ts";
import { readInputTextFile } from "../plugin/input_file.ts";
import { EXIT } from "./_exit.ts";
import { stringifyRounded } from "../_internal/round_float.ts";

const HELP = `Usage: wiretest report merge <log> [<log>…] [--json] [--distribution]

Adds the HdrHistogram interval logs load shards wrote (--hdr-log) and prints
the latency percentiles of all of them: the closed model's one latency, or the
open model's corrected (from each intended start) and uncorrected ones.

Flags:
  --json          print the summary as JSON
  --distribution  also print the HdrHistogram percentile distribution (wrk2's format)
  -h, --help      this help`;

export async function reportMergeCommand(rest: string[]): Promise<number> {
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(HELP);
    return EXIT.ok;
  }
  const json = rest.includes("--json");
  const distribution = rest.includes("--distribution");
  const unknown = rest.find((a) => a.startsWith("-") && a !== "--json" && a !== "--distribution");
  if (unknown !== undefined) {
    throw new UsageError(`Cannot parse arguments: unknown flag "${unknown}" (see --help)`);
  }
  const files = rest.filter((a) => !a.startsWith("-"));
  if (files.length === 0) throw new UsageError(`Cannot merge: name at least one interval log`);
  const texts = await Promise.all(files.map(async (file) => {
    try {
      return await readInputTextFile(file, 2 ** 30);
    } catch (error) {
      throw new UsageError(`Cannot merge: ${(error as Error).message}`, { cause: error });
    }
  }));
  let merged;
  try {
    merged = mergeIntervalLogs(texts);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  // Coordinated-omission correction applies to the open model only: a
  // closed model's run has one latency, named as such.
  const open = merged.model === "open";
  if (json) {
    const latencies = open
      ? { corrected: merged.latency, uncorrected: merged.uncorrected }
      : { latency: merged.latency };
    console.log(stringifyRounded(
      { logs: files.length, intervals: merged.intervals, model: merged.model, ...latencies },
      2,
    ));
  } else {
    console.log(
      `${files.length} logs, ${merged.latency.count} latencies (${merged.model} model)`,
    );
    if (open) {
      console.log(line("corrected", merged.latency));
      console.log(line("uncorrected", merged.uncorrected!));
    } else {
      console.log(line("latency", merged.latency));
    }
    if (distribution) console.log(merged.distribution);
  }
  return EXIT.ok;
}

function line(name: string, p: LatencyPercentiles): string {
  const ms = (v: number) => Number.isNaN(v) ? "-" : `${v.toFixed(3)}ms`;
  return `${name.padEnd(12)} p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  p99.9 ${
    ms(p.p999)
  }  max ${ms(p.max)}`;
}
