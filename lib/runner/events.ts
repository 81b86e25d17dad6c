/**
 * What a fixture run emits, in order: `run-start`, then per fixture
 * `fixture-start`, one `step-result` per step attempt that finished, and
 * `fixture-end`; last `summary`. Reporters turn these into console lines,
 * JSON lines, JUnit XML or TAP. Every event is plain data (JSON-safe).
 *
 * @module
 */
import type { Outcome, OutcomeError } from "../plugin/types.ts";
import type { LoadSecond } from "../load/types.ts";
import type { ExpectationResult, LocatedMessage, SourceLocation } from "../fixture/types.ts";

// One shape each, defined where fixtures are: a place in a fixture file, a
// problem located there, an expectation's verdict.
export type {
  ExpectationResult,
  LoadSecond,
  LocatedMessage,
  Outcome,
  OutcomeError,
  SourceLocation,
};

/** Which fixture an event is about. */
export interface FixtureRef {
  /** The fixture file. */
  file: string;
  /** Its `name:` (the file name when the fixture is too broken to have one). */
  name: string;
}

/** How a fixture or step ended. */
export type RunStatus =
  | "passed" // every expectation held
  | "failed" // an expectation did not hold
  | "error" // the step or a service could not run (crash, timeout of the whole fixture…)
  | "invalid" // the fixture file is malformed; nothing ran
  | "skipped"; // not run (--fail-fast after a failure, or the run was stopped)

/** The run started. */
export interface RunStartEvent {
  /** Discriminant. */
  type: "run-start";
  /** ISO 8601 time. */
  time: string;
  /** Fixtures in this run (after filter and shard). */
  fixtures: number;
  /** Fixtures run at once. */
  concurrency: number;
  /** `{ index, count }` when sharded (`--shard 2/4` is index 2 of 4, from 1). */
  shard?: { index: number; count: number };
  /**
   * Every plugin not built in that this run loaded (from `--plugins` or a
   * fixture's `plugins:`), with what its manifest grants. Absent when none.
   */
  plugins?: PluginGrant[];
  /** The wiretest version that ran. */
  wiretest?: string;
  /** Where it ran: operating system, architecture, logical CPUs, Deno version. */
  machine?: { os: string; arch: string; cpus: number; deno: string };
  /** The command line, as arguments (`["wiretest", "test", "--shard", "1/2"]`). */
  command?: string[];
}

/** A plugin not built in, where its manifest is and what it grants. */
export interface PluginGrant {
  /** The plugin's name. */
  name: string;
  /** Its manifest: a path relative to the working directory, or a URL. */
  manifest: string;
  /** Its module specifier. */
  module: string;
  /** SHA-256 of the manifest's bytes (lowercase hex), what a plugins lock approves. */
  sha256?: string;
  /**
   * The permissions its manifest grants, in the manifest's vocabulary:
   * `net`, `read`, `write`, `env`, `sys` each `true` or a list; absent when not granted.
   */
  permissions: { [kind: string]: true | string[] };
  /** The fixtures that named its manifest; absent for `--plugins` manifests, which every fixture has. */
  fixtures?: string[];
}

/** A fixture started (its services are being started). */
export interface FixtureStartEvent {
  /** Discriminant. */
  type: "fixture-start";
  /** The fixture. */
  fixture: FixtureRef;
  /** ISO 8601 time it started. */
  time?: string;
}

/** One attempt of one step finished. */
export interface StepResultEvent {
  /** Discriminant. */
  type: "step-result";
  /** The fixture. */
  fixture: FixtureRef;
  /** The step. */
  step: {
    /** Position in `steps`, from 0. */
    index: number;
    /** `name:` of the step, or `"<plugin> #<index>"`. */
    name: string;
    /** The plugin that ran. */
    plugin: string;
    /** Where the step is written. */
    location: SourceLocation;
  };
  /** `passed`, `failed` (an expectation) or `error` (the step did not run to an outcome). */
  status: "passed" | "failed" | "error";
  /** Attempt number, from 1 (retries add attempts). */
  attempt: number;
  /** Whether another attempt follows this one. */
  willRetry: boolean;
  /** Attempts allowed in all (`retries` + 1). */
  maxAttempts?: number;
  /** Milliseconds the attempt took. */
  durationMs: number;
  /**
   * The step's `with:` after interpolation, as the plugin received it; values
   * read from the environment (`${env.NAME}`) are replaced by `"***"`.
   */
  params?: unknown;
  /** What the plugin observed. */
  outcome: Outcome;
  /**
   * The unit the plugin declares for each metric of `outcome` that it
   * declares (`{ connect_ms: "ms" }`); absent when it declares none of them.
   */
  metricUnits?: Record<string, string>;
  /** Each expectation's result, in the order written. */
  expectations: ExpectationResult[];
  /** Why the step could not run, when `status` is `error`. */
  error?: LocatedMessage;
  /** A load step's run over time (`load:` in the fixture), for charts. */
  load?: StepLoadReport;
}

/** A load step's run over time, as reports draw it. */
export interface StepLoadReport {
  /** `"closed"` (VUs) or `"open"` (a rate). */
  model: "closed" | "open";
  /** Whether the run stopped early (a breach with `abortOnBreach`, a timeout). */
  interrupted: boolean;
  /** Wall time of the run, ms. */
  elapsedMs: number;
  /** Open model: iterations per second asked (the schedule's mean). */
  askedRate?: number;
  /**
   * One row per second (the last may be shorter): `second` is the row's end
   * in seconds since the start; percentiles are `null` in JSON for a second
   * with no correct iteration.
   */
  series: LoadSecond[];
}

/** A fixture ended (its services are stopped). */
export interface FixtureEndEvent {
  /** Discriminant. */
  type: "fixture-end";
  /** The fixture. */
  fixture: FixtureRef;
  /** How it ended. */
  status: RunStatus;
  /** Why it was skipped, when `status` is `skipped`. */
  reason?: string;
  /** Steps that did not run because an earlier one failed or errored. */
  stepsNotRun?: number;
  /** Milliseconds from start to end, services included. */
  durationMs: number;
  /** Problems that are not a step's: invalid fixture, service start failure, fixture timeout. */
  problems: LocatedMessage[];
}

/** The run ended. */
export interface SummaryEvent {
  /** Discriminant. */
  type: "summary";
  /** Fixtures whose every expectation held. */
  passed: number;
  /** Fixtures with an expectation that did not hold. */
  failed: number;
  /** Fixtures that could not run to the end (crash, timeout, service failure). */
  errors: number;
  /** Malformed fixtures (nothing ran). */
  invalid: number;
  /** Fixtures not run. */
  skipped: number;
  /** All fixtures of the run. */
  total: number;
  /** Milliseconds the run took. */
  durationMs: number;
}

/** Any event of a run. */
export type RunEvent =
  | RunStartEvent
  | FixtureStartEvent
  | StepResultEvent
  | FixtureEndEvent
  | SummaryEvent;

/** Consumes events; `close` is called once after `summary`. */
export interface Reporter {
  /** Handles one event (may write at once or buffer). */
  onEvent(event: RunEvent): void | Promise<void>;
  /** Flushes and releases what it holds. */
  close?(): void | Promise<void>;
}
