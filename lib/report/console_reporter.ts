/**
 * The console reporter: one line per fixture, details of what failed, a
 * live progress line on a terminal, a summary line.
 *
 * @module
 */
import { styleText } from "node:util";
import type {
  FixtureEndEvent,
  Reporter,
  RunEvent,
  StepResultEvent,
  SummaryEvent,
} from "../runner/events.ts";
import {
  escapeControls,
  finalAttempts,
  fixtureKey,
  formatDuration,
  problemLines,
  stepDetailLines,
  stepLabel,
} from "./_format.ts";
import { grantLine } from "./_grants.ts";
import { StepLog } from "./_step_log.ts";
import { writeStdoutSync } from "../_internal/stdout.ts";

/** Options for {@linkcode consoleReporter}. */
export interface ConsoleReporterOptions {
  /** Where text goes; default: `Deno.stdout`, written synchronously. */
  write?: (text: string) => void;
  /**
   * ANSI colours. Default: on when the output is a terminal (`tty`) and the
   * `NO_COLOR` environment variable is unset or empty (https://no-color.org).
   */
  color?: boolean;
  /**
   * Whether the output is a terminal, which turns on the live progress line.
   * Default: `Deno.stdout.isTerminal()` when `write` is not given, else `false`.
   */
  tty?: boolean;
  /** Also list every step attempt, passed ones and retried ones included. Default `false`. */
  verbose?: boolean;
}

type Style = Parameters<typeof styleText>[0];
type Color = Extract<Style, string>;

const LABEL_WIDTH = 7; // "INVALID"
const FIXTURE_LABELS: Record<FixtureEndEvent["status"], { text: string; style: Style }> = {
  passed: { text: "ok", style: "green" },
  failed: { text: "FAIL", style: ["red", "bold"] },
  error: { text: "ERROR", style: ["red", "bold"] },
  invalid: { text: "INVALID", style: ["yellow", "bold"] },
  skipped: { text: "skip", style: "gray" },
};
const STEP_LABELS: Record<StepResultEvent["status"], { text: string; style: Style }> = {
  passed: { text: "ok", style: "green" },
  failed: { text: "FAIL", style: "red" },
  error: { text: "ERROR", style: "red" },
};
const PROGRESS_INTERVAL_MS = 1000;
const CLEAR_LINE = "\r\x1b[K";

/**
 * Creates the reporter people read in a terminal or a CI log.
 *
 * Each fixture gets one line when it ends, with its status and duration:
 * `ok      tcp echo round trip (tests/fixtures/echo.wire.yaml) 123 ms`.
 * Below a failed fixture, each failing expectation shows its key, expected
 * and actual values and the `file:line:column` where it is written; step
 * errors and invalid-fixture problems show their located messages. On a
 * terminal a progress line (fixtures done/total, elapsed time, what is
 * running) is rewritten in place below the results and cleared before each
 * new line. The run ends with `12 passed, 1 failed, 1 invalid (3.2 s)`.
 * Control characters in names and values are shown escaped, so fixture
 * data cannot drive the terminal.
 *
 * @param options Where to write, colours, terminal, verbosity.
 * @returns The reporter; call `close()` after the run (it stops the progress timer).
 *
 * @example Reporting a run into a string
 * ```ts
 * import { consoleReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const reporter = consoleReporter({ write: (text) => out += text, color: false });
 * const fixture = { file: "tests/fixtures/echo.wire.yaml", name: "tcp echo round trip" };
 * reporter.onEvent({ type: "run-start", time: new Date().toISOString(), fixtures: 1, concurrency: 1 });
 * reporter.onEvent({ type: "fixture-start", fixture });
 * reporter.onEvent({ type: "fixture-end", fixture, status: "passed", durationMs: 123, problems: [] });
 * reporter.onEvent({
 *   type: "summary", passed: 1, failed: 0, errors: 0, invalid: 0, skipped: 0, total: 1, durationMs: 130,
 * });
 * reporter.close?.();
 *
 * assert.match(out, /^ok +tcp echo round trip \(tests\/fixtures\/echo\.wire\.yaml\) 123 ms$/m);
 * assert.match(out, /^1 passed, 0 failed \(130 ms\)$/m);
 * ```
 */
export function consoleReporter(options: ConsoleReporterOptions = {}): Reporter {
  const write = options.write ?? writeStdoutSync;
  const tty = options.tty ?? (options.write === undefined && Deno.stdout.isTerminal());
  const color = options.color ?? (tty && !noColorSet());
  return new ConsoleReporter(write, tty, color, options.verbose ?? false);
}

/** Whether `NO_COLOR` asks for no colours: set to a non-empty value. */
function noColorSet(): boolean {
  // Ask first, so a run without env permission never prompts for it.
  const permission = Deno.permissions.querySync({ name: "env", variable: "NO_COLOR" });
  if (permission.state !== "granted") return Deno.noColor; // what Deno read at startup
  const value = Deno.env.get("NO_COLOR");
  return value !== undefined && value !== "";
}

class ConsoleReporter implements Reporter {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #verbose: boolean;
  readonly #steps = new StepLog();
  readonly #running = new Map<string, string>();
  #total: number | undefined;
  #done = 0;
  #startedAt: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #progressShown = false;
  #finished = false;

  constructor(write: (text: string) => void, tty: boolean, color: boolean, verbose: boolean) {
    this.#write = write;
    this.#tty = tty;
    this.#color = color;
    this.#verbose = verbose;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case "run-start": {
        this.#total = event.fixtures;
        this.#startedAt = performance.now();
        const lines: string[] = [];
        if (this.#verbose) {
          const shard = event.shard ? `, shard ${event.shard.index}/${event.shard.count}` : "";
          lines.push(
            this.#style(
              "gray",
              `running ${event.fixtures} ${
                event.fixtures === 1 ? "fixture" : "fixtures"
              } (concurrency ${event.concurrency}${shard})`,
            ),
          );
        }
        // Always shown: a fixture from a pull request may bring plugins, and
        // what they may do must be seen, not found by reading manifests.
        for (const grant of event.plugins ?? []) lines.push(grantLine(grant));
        this.#startTimer();
        this.#emit(lines);
        break;
      }
      case "fixture-start":
        this.#startedAt ??= performance.now();
        this.#running.set(fixtureKey(event.fixture), escapeControls(event.fixture.name));
        this.#startTimer();
        this.#emit([]);
        break;
      case "step-result":
        this.#steps.add(event);
        break;
      case "fixture-end":
        this.#running.delete(fixtureKey(event.fixture));
        this.#done++;
        this.#emit(this.#fixtureLines(event, this.#steps.take(event.fixture)));
        break;
      case "summary":
        this.#finished = true;
        this.#stopTimer();
        this.#emit(["", this.#summaryLine(event)]);
        break;
    }
  }

  close(): void {
    this.#finished = true;
    this.#stopTimer();
    if (this.#progressShown) {
      this.#progressShown = false;
      this.#write(CLEAR_LINE);
    }
  }

  #fixtureLines(event: FixtureEndEvent, results: StepResultEvent[]): string[] {
    const label = FIXTURE_LABELS[event.status];
    const ran = event.status !== "invalid" && event.status !== "skipped";
    const lines = [
      `${this.#style(label.style, label.text.padEnd(LABEL_WIDTH))} ${
        escapeControls(event.fixture.name)
      } ${this.#style("gray", `(${escapeControls(event.fixture.file)})`)}${
        ran ? ` ${this.#style("gray", formatDuration(event.durationMs))}` : ""
      }`,
    ];
    // Details for the attempts that decided a step's fate; verbose: every attempt.
    const shown = this.#verbose
      ? results
      : finalAttempts(results).filter((r) => r.status !== "passed");
    for (const result of shown) {
      lines.push(`  ${this.#stepLine(result)}`);
      lines.push(...stepDetailLines(result, "      "));
    }
    for (const problem of event.problems) lines.push(...problemLines(problem, "  "));
    return lines;
  }

  #stepLine(result: StepResultEvent): string {
    const label = STEP_LABELS[result.status];
    const attempt = result.attempt > 1 ? `, attempt ${result.attempt}` : "";
    const retry = result.willRetry ? this.#style("gray", " (retrying)") : "";
    return `${this.#style(label.style, label.text.padEnd(5))} ${stepLabel(result)}${attempt} ${
      this.#style("gray", formatDuration(result.durationMs))
    }${retry}`;
  }

  #summaryLine(event: SummaryEvent): string {
    // Passed and failed always appear; the rarer kinds only when they happened.
    const parts: [number, string, Color, boolean][] = [
      [event.passed, `${event.passed} passed`, "green", true],
      [event.failed, `${event.failed} failed`, "red", true],
      [event.errors, `${event.errors} ${event.errors === 1 ? "error" : "errors"}`, "red", false],
      [event.invalid, `${event.invalid} invalid`, "yellow", false],
      [event.skipped, `${event.skipped} skipped`, "gray", false],
    ];
    const text = parts
      .filter(([count, , , always]) => always || count > 0)
      .map(([count, words, color]) => count > 0 ? this.#style([color, "bold"], words) : words);
    return `${text.join(", ")} ${this.#style("gray", `(${formatDuration(event.durationMs)})`)}`;
  }

  #emit(lines: string[]): void {
    let text = this.#progressShown ? CLEAR_LINE : "";
    if (lines.length > 0) text += `${lines.join("\n")}\n`;
    this.#progressShown = this.#tty && !this.#finished;
    if (this.#progressShown) text += this.#progressLine();
    if (text !== "") this.#write(text);
  }

  #progressLine(): string {
    const elapsed = Math.floor((performance.now() - (this.#startedAt ?? performance.now())) / 1000);
    const done = this.#total === undefined ? `${this.#done} done` : `${this.#done}/${this.#total}`;
    const names = [...this.#running.values()];
    const running = names.length === 0 ? "" : `  running: ${names.join(", ")}`;
    const line = `[${done}] ${elapsed} s${running}`;
    return this.#style("gray", truncate(line, terminalColumns() - 1));
  }

  #startTimer(): void {
    if (!this.#tty || this.#finished || this.#timer !== undefined) return;
    const timer = setInterval(() => {
      try {
        this.#emit([]);
      } catch {
        // The output went away (closed pipe): stop redrawing rather than crash the run.
        this.#stopTimer();
      }
    }, PROGRESS_INTERVAL_MS);
    // The progress line alone must not keep the process alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #style(style: Style, text: string): string {
    return this.#color ? styleText(style, text, { validateStream: false }) : text;
  }
}

/** Columns of the terminal; 80 when there is none to ask. */
function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** Cuts to `width` code points, marking the cut with an ellipsis. */
function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}
