// Builds a LoadReport from the engine's recorder (private: the recorder is).
import { percentileDistribution, percentilesOf } from "./_histogram.ts";
import type { LoadPlan } from "./load_plan.ts";
import type { LoadRecorder } from "./_recorder.ts";
import type { LoadReport } from "./load_report.ts";

/** What the engine adds to the recorder's counts (internal). */
export interface ReportExtras {
  /** Wall time of the run, ms. */
  elapsedMs: number;
  /** Open model: the time the rate is over (the schedule, or the dispatch when late). */
  rateWindowMs?: number;
  /** Start, ms since the epoch. */
  startMs: number;
  /** Arrivals that never started. */
  dropped: number;
  /** Iterations cut short by the stop. */
  interruptedIterations: number;
  /** Whether the run was stopped early. */
  interrupted: boolean;
  /** VUs created. */
  vusUsed: number;
}

/** Builds the report from a finished recorder. */
export function reportOf(plan: LoadPlan, recorder: LoadRecorder, extras: ReportExtras): LoadReport {
  const seconds = Math.max(1e-3, (extras.rateWindowMs ?? extras.elapsedMs) / 1000);
  const errorsByType: Record<string, number> = Object.create(null);
  for (const [type, n] of recorder.errorsByType) errorsByType[type] = n;
  let askedRate: number | undefined;
  if (plan.model === "open") {
    const total = plan.stages.length === 0 ? plan.rate * plan.durationMs / 1000 : undefined;
    askedRate = total === undefined
      ? plan.stages.reduce((sum, s, i) => {
        const from = i === 0 ? plan.rate : plan.stages[i - 1].target;
        return sum + (from + s.target) / 2 * s.durationMs;
      }, 0) / plan.durationMs
      : plan.rate;
  }
  return {
    model: plan.model,
    interrupted: extras.interrupted,
    elapsedMs: extras.elapsedMs,
    iterations: recorder.iterations,
    errors: recorder.errors,
    errorsByType,
    dropped: extras.dropped,
    interruptedIterations: extras.interruptedIterations,
    rate: recorder.iterations / seconds,
    ...(askedRate === undefined ? {} : { askedRate }),
    vusUsed: extras.vusUsed,
    bytes: recorder.bytes,
    latency: percentilesOf(recorder.corrected),
    uncorrected: percentilesOf(recorder.uncorrected),
    series: recorder.series,
    distribution: percentileDistribution(recorder.corrected),
  };
}
