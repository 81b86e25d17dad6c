/**
 * Counts what a load run's iterations did: latencies in HDR histograms
 * (the closed model's one latency; the open model's corrected and
 * uncorrected), errors by type, bytes, and one row per
 * second. Memory stays flat however many iterations run: histograms, not
 * samples, and a row per second.
 *
 * @module
 */
import type { Histogram } from "hdr-histogram-js";
import type { LoadSecond } from "./types.ts";
import { encodeHistogram, loadHistogram, US_PER_MS } from "./_histogram.ts";
import { MAX_ERROR_TYPE_LENGTH, MAX_ERROR_TYPES, OTHER_ERROR_TYPE } from "./_error_types.ts";

/** What one iteration did, as a session reports it. */
export interface IterationResult {
  /** Whether the exchange was correct. */
  ok: boolean;
  /** Bytes sent and received. */
  bytes?: number;
  /** The error's type (its `code`, else its name) when not ok. */
  error?: string;
}

/**
 * An interval's histograms, handed to whoever writes an HdrHistogram
 * interval log: each compressed and base64-encoded as the log holds it,
 * values in microseconds.
 */
export interface LoadInterval {
  /** Start, milliseconds since the epoch. */
  startMs: number;
  /** End, milliseconds since the epoch. */
  endMs: number;
  /** Latencies from each iteration's intended start (encoded). */
  corrected: string;
  /** Largest corrected latency of the interval, ms (0 with none). */
  correctedMaxMs: number;
  /**
   * Open model: latencies from each iteration's actual start (encoded).
   * Absent in the closed model, whose iterations start when intended: its
   * one latency is `corrected`.
   */
  uncorrected?: string;
  /** Largest uncorrected latency of the interval, ms (0 with none); open model only. */
  uncorrectedMaxMs?: number;
}

/** Records iterations; the engine creates one per run. */
export class LoadRecorder {
  /** From intended start: the closed model's one latency, the open model's corrected one. */
  readonly corrected: Histogram = loadHistogram();
  /** From actual start: the very histogram of `corrected` in the closed model (recorded once). */
  readonly uncorrected: Histogram;
  /** Failed iterations by error type (a Map: the types come from peers). */
  readonly errorsByType: Map<string, number> = new Map();
  /** One row per second. */
  readonly series: LoadSecond[] = [];
  /** Iterations ended. */
  iterations = 0;
  /** Of those, the failed ones. */
  errors = 0;
  /** Bytes of all iterations. */
  bytes = 0;
  #intervalCorrected: Histogram = loadHistogram();
  #intervalUncorrected: Histogram | undefined;
  #intervalIterations = 0;
  #intervalErrors = 0;
  #intervalBytes = 0;
  #intervalStartMs: number;
  readonly #startMs: number;
  readonly #onInterval?: (interval: LoadInterval) => void;

  /**
   * Creates a recorder for a run starting now.
   *
   * @param onInterval Receives each interval's histograms (to write a log) before they are reset.
   * @param startMs When the run started (`Date.now()`).
   * @param model The plan's model: the closed model keeps one latency per
   *   iteration (its intended start is its actual start).
   */
  constructor(
    onInterval?: (interval: LoadInterval) => void,
    startMs: number = Date.now(),
    model: "open" | "closed" = "open",
  ) {
    const open = model === "open";
    this.uncorrected = open ? loadHistogram() : this.corrected;
    this.#intervalUncorrected = open ? loadHistogram() : undefined;
    this.#onInterval = onInterval;
    this.#startMs = this.#intervalStartMs = startMs;
  }

  /**
   * Counts one iteration. Latency is recorded for correct exchanges only: a
   * refused connection's few microseconds would make the latency look good.
   */
  record(result: IterationResult, correctedMs: number, uncorrectedMs: number): void {
    this.iterations++;
    this.#intervalIterations++;
    const bytes = result.bytes ?? 0;
    this.bytes += bytes;
    this.#intervalBytes += bytes;
    if (!result.ok) {
      this.errors++;
      this.#intervalErrors++;
      const type = this.#errorType(result.error);
      this.errorsByType.set(type, (this.errorsByType.get(type) ?? 0) + 1);
      return;
    }
    const corrected = Math.max(0, Math.round(correctedMs * US_PER_MS));
    this.corrected.recordValue(corrected);
    this.#intervalCorrected.recordValue(corrected);
    if (this.#intervalUncorrected) {
      const uncorrected = Math.max(0, Math.round(uncorrectedMs * US_PER_MS));
      this.uncorrected.recordValue(uncorrected);
      this.#intervalUncorrected.recordValue(uncorrected);
    }
  }

  // A plugin's error type, bounded in length and in how many are counted apart.
  #errorType(reported: unknown): string {
    let type = typeof reported === "string" && reported !== "" ? reported : "Error";
    if (type.length > MAX_ERROR_TYPE_LENGTH) type = `${type.slice(0, MAX_ERROR_TYPE_LENGTH)}…`;
    if (this.errorsByType.has(type) || this.errorsByType.size < MAX_ERROR_TYPES) return type;
    return OTHER_ERROR_TYPE;
  }

  /** Ends the current interval: appends its row and hands its histograms on. */
  closeInterval(nowMs: number = Date.now()): LoadSecond {
    const c = this.#intervalCorrected;
    const row: LoadSecond = {
      second: Math.round((nowMs - this.#startMs) / 10) / 100,
      iterations: this.#intervalIterations,
      errors: this.#intervalErrors,
      bytes: this.#intervalBytes,
      p50_ms: c.totalCount ? c.getValueAtPercentile(50) / US_PER_MS : NaN,
      p90_ms: c.totalCount ? c.getValueAtPercentile(90) / US_PER_MS : NaN,
      p99_ms: c.totalCount ? c.getValueAtPercentile(99) / US_PER_MS : NaN,
    };
    this.series.push(row);
    if (this.#onInterval) {
      const u = this.#intervalUncorrected;
      this.#onInterval({
        startMs: this.#intervalStartMs,
        endMs: nowMs,
        corrected: encodeHistogram(c),
        correctedMaxMs: c.totalCount ? c.maxValue / US_PER_MS : 0,
        ...(u === undefined ? {} : {
          uncorrected: encodeHistogram(u),
          uncorrectedMaxMs: u.totalCount ? u.maxValue / US_PER_MS : 0,
        }),
      });
    }
    c.reset();
    this.#intervalUncorrected?.reset();
    this.#intervalIterations = this.#intervalErrors = this.#intervalBytes = 0;
    this.#intervalStartMs = nowMs;
    return row;
  }
}
