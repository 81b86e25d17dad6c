/**
 * Running one prepared fixture: services up, steps in order with their
 * timeouts and retries, expectations judged, services down, events out.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { FixtureError } from "../fixture/fixture_error.ts";
import { interpolate } from "../fixture/interpolate.ts";
import { judgeStep } from "../fixture/judge_step.ts";
import { locateParamsIssues } from "../fixture/locate_params_issues.ts";
import type { Fixture, FixtureStep, InterpolationScope, SourceLocation } from "../fixture/types.ts";
import { ParamsError } from "../plugin/params_schema.ts";
import { describeError } from "../plugin/run.ts";
import type { Address, LogLevel, Outcome, Service } from "../plugin/types.ts";
import type {
  ExpectationResult,
  FixtureEndEvent,
  FixtureRef,
  LocatedMessage,
  RunEvent,
  RunStatus,
  StepLoadReport,
  StepResultEvent,
} from "./events.ts";
import type { Executor, PreparedClient, PreparedServer } from "../executor/executor.ts";
import { type PreparedFixture, type PreparedRoles, RUNNER_ENV } from "./prepare_fixture.ts";
import { maskSecrets } from "./_mask_secrets.ts";
import { problemsOf, toProblem } from "./_problems.ts";
import { deadlineOf, limitSignal } from "../_internal/deadline.ts";
import { pause } from "../_internal/pause.ts";
import { TIMED_OUT, within } from "../_internal/within.ts";
import { startTimer, type Timer } from "../_internal/timer.ts";
import type { LoadSoFar } from "../load/load_so_far.ts";
import { loadOutcome } from "../load/load_outcome.ts";
import type { LoadReport } from "../load/load_report.ts";

/** How long one step attempt may take when neither the step nor the run says. */
export const DEFAULT_STEP_TIMEOUT_MS = 30_000;

/** How long past its deadline a plugin that ignores cancellation is waited for. */
const GRACE_MS = 2_000;

/** How much later than the runner's timers the deadline plugins see is. */
const DEADLINE_MARGIN_MS = 50;

/** How long a service may take to close. */
const CLOSE_LIMIT_MS = 5_000;

/** What became of one step, all its attempts together. */
export interface StepRun {
  /** The step. */
  readonly step: FixtureStep;
  /**
   * `passed`, `failed` (an expectation did not hold), `error` (it could not
   * run to an outcome) or `invalid` (its params could not be resolved or
   * were refused by the plugin once resolved: nothing ran).
   */
  readonly status: "passed" | "failed" | "error" | "invalid";
  /** Each attempt's result, in order (none when `invalid`). */
  readonly attempts: readonly StepResultEvent[];
  /** Why it is `invalid`, located. */
  readonly problems: readonly LocatedMessage[];
}

/**
 * Wraps the run of each step, e.g. in a `Deno.test` step. It must call
 * `run` once and return what it returns.
 *
 * @param step The step about to run.
 * @param run Runs it (every attempt) and reports its results.
 * @returns What `run` returned.
 */
export type StepHook = (step: FixtureStep, run: () => Promise<StepRun>) => Promise<StepRun>;

/** Options for {@linkcode runFixture}. */
export interface RunFixtureOptions {
  /** Receives the fixture's events (awaited in order). */
  emit?: (event: RunEvent) => void | Promise<void>;
  /**
   * Environment variables `${env.NAME}` reads from the environment; the
   * others take the fixture's `env:` default.
   */
  allowEnv?: readonly string[];
  /** Reads environment variables. Default: `Deno.env.get` (undefined without permission). */
  env?: (name: string) => string | undefined;
  /** Milliseconds the fixture may take when it has no `timeout:`. Default: no limit. */
  timeout?: number;
  /** Milliseconds one step attempt may take when the step has no `timeout:`. Default 30000. */
  stepTimeout?: number;
  /** Stops the fixture (its steps are cancelled, its services closed). */
  signal?: AbortSignal;
  /** Receives the plugins' log lines. */
  log?: (level: LogLevel, message: string) => void;
  /** Wraps each step's run. */
  onStep?: StepHook;
  /**
   * The folder the fixture's `WIRETEST_TMP` is made in (default: the
   * system's temp folder). `runFixtures` confines isolated plugins to it.
   */
  tmpRoot?: string;
}

/**
 * Runs a prepared fixture and emits `fixture-start`, a `step-result` per
 * step attempt, and `fixture-end` (which it also returns).
 *
 * - Services start in the order written, each given the fixture's signal;
 *   `${services.<name>…}` then resolves to its address.
 * - Steps run in order. An attempt is cancelled after the step's `timeout`
 *   (default {@linkcode DEFAULT_STEP_TIMEOUT_MS}) or when the fixture's
 *   `timeout` passes; then it is an `error`. An attempt whose expectations
 *   fail, or that errs, is retried `retries` times, `retryDelay` apart.
 *   The first step that does not pass ends the fixture.
 * - A step that names neither `ok` nor `error` in `expect:` also expects
 *   `ok: true`.
 * - A `${…}` expectation that cannot be resolved fails with its located
 *   message; params that cannot be resolved, or that the plugin refuses once
 *   resolved, make the fixture `invalid`.
 * - Services are closed in reverse order whatever happened, and the
 *   fixture's `WIRETEST_TMP` directory is removed.
 *
 * @param prepared A fixture from `prepareFixture` (an invalid one is reported as such).
 * @param options Where events go, limits, environment, a step hook.
 * @returns The `fixture-end` event.
 *
 * @example Running a fixture and reading its events
 * ```ts
 * import { prepareFixture, runFixture } from "@wiretest/wiretest/runner";
 * import type { RunEvent } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const file = join(dir, "echo.wire.yaml");
 * await Deno.writeTextFile(file, `name: echo
 * services:
 *   echo: { plugin: echo }
 * steps:
 *   - plugin: echo
 *     with: { target: "\${services.echo.addr}", count: 5 }
 *     expect:
 *       metrics.round_trips: 5
 *       metrics.rtt_p99_ms: "< 5s"
 * `);
 * const events: RunEvent[] = [];
 * const end = await runFixture(await prepareFixture(file), { emit: (e) => void events.push(e) });
 * assert.equal(end.status, "passed");
 * assert.deepEqual(events.map((e) => e.type), ["fixture-start", "step-result", "fixture-end"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runFixture(
  prepared: PreparedFixture,
  options: RunFixtureOptions = {},
): Promise<FixtureEndEvent> {
  const emit = options.emit ?? (() => {});
  const ref: FixtureRef = { file: prepared.file, name: prepared.name };
  const started = performance.now();
  await emit({ type: "fixture-start", fixture: ref });
  let status: RunStatus;
  let problems: LocatedMessage[];
  if (prepared.status === "invalid") {
    status = "invalid";
    problems = [...prepared.problems];
  } else {
    ({ status, problems } = await new FixtureRun(
      prepared.fixture,
      prepared.executor,
      prepared.roles,
      ref,
      {
        ...options,
        emit,
      },
    ).execute());
  }
  const end: FixtureEndEvent = {
    type: "fixture-end",
    fixture: ref,
    status,
    durationMs: performance.now() - started,
    problems,
  };
  await emit(end);
  return end;
}

type Emit = (event: RunEvent) => void | Promise<void>;

interface Attempt {
  status: "passed" | "failed" | "error";
  outcome: Outcome;
  expectations: ExpectationResult[];
  error?: LocatedMessage;
  load?: StepLoadReport;
}

/**
 * Load metrics judged once a second with `abortOnBreach`: errors and
 * latencies. Rates, counts and the run's length mean something only at its
 * end, so they are judged then.
 */
const JUDGED_DURING_LOAD = /^(?:errors|error_rate|rtt(?:_uncorrected)?_\w+_ms)$/;

class FixtureRun {
  readonly #fixture: Fixture;
  readonly #executor: Executor;
  readonly #roles: PreparedRoles;
  readonly #ref: FixtureRef;
  readonly #options: RunFixtureOptions & { emit: Emit };
  readonly #controller = new AbortController();
  readonly #services: { name: string; location: SourceLocation; service: Service }[] = [];
  readonly #addresses: Record<string, Address> = {};
  readonly #outcomes: Record<string, Outcome> = {};
  readonly #scope: InterpolationScope;
  readonly #stepTimeout: number;
  #deadline: number | undefined;
  #stopProblem: LocatedMessage | undefined;
  #stopDetail = "";
  #tmp: string | undefined;
  #secrets = new Set<string>();

  // The declared units of an outcome's metrics (for reporters that convert).
  #metricUnits(plugin: string, outcome: Outcome): { metricUnits?: Record<string, string> } {
    const declared = this.#roles.metricUnits?.get(plugin);
    if (declared === undefined) return {};
    // fromEntries defines each key: a metric named "__proto__" stays data.
    const units = Object.fromEntries(
      Object.keys(outcome.metrics).filter((m) => Object.hasOwn(declared, m))
        .map((m) => [m, declared[m]]),
    );
    return Object.keys(units).length > 0 ? { metricUnits: units } : {};
  }

  constructor(
    fixture: Fixture,
    executor: Executor,
    roles: PreparedRoles,
    ref: FixtureRef,
    options: RunFixtureOptions & { emit: Emit },
  ) {
    this.#fixture = fixture;
    this.#executor = executor;
    this.#roles = roles;
    this.#ref = ref;
    this.#options = options;
    this.#stepTimeout = options.stepTimeout ?? DEFAULT_STEP_TIMEOUT_MS;
    const fixtureDir = dirname(resolve(fixture.file));
    const readEnv = options.env ?? envGet;
    this.#scope = {
      services: this.#addresses,
      steps: this.#outcomes,
      allowEnv: [...(options.allowEnv ?? []), ...RUNNER_ENV],
      envDefaults: fixture.envDefaults ?? {},
      env: (name) => {
        if (name === "WIRETEST_TMP") {
          return this.#tmp ??= Deno.makeTempDirSync({
            prefix: "wiretest-",
            ...(options.tmpRoot === undefined ? {} : { dir: options.tmpRoot }),
          });
        }
        if (name === "WIRETEST_FIXTURE_DIR") return fixtureDir;
        const value = readEnv(name);
        // Reports show params: what came from the environment may be a secret.
        if (value !== undefined && value !== "") this.#secrets.add(value);
        return value;
      },
    };
  }

  async execute(): Promise<{ status: RunStatus; problems: LocatedMessage[] }> {
    const timeout = this.#fixture.timeout ?? this.#options.timeout;
    let timer: Timer | undefined;
    if (timeout !== undefined) {
      this.#deadline = Date.now() + timeout;
      const at = this.#fixture.timeout !== undefined
        ? this.#fixture.source.locate(["timeout"])
        : this.#fixture.source.locate([]);
      const whose = this.#fixture.timeout !== undefined ? "its" : "the run's fixture";
      timer = startTimer(
        timeout,
        () =>
          this.#stop(
            at,
            `the fixture took longer than ${whose} timeout of ${timeout} ms`,
            "TimeoutError",
          ),
      );
    }
    const signal = this.#options.signal;
    const onCancel = () =>
      this.#stop(this.#fixture.source.locate([]), "the run was stopped", "AbortError");
    if (signal?.aborted) onCancel();
    else signal?.addEventListener("abort", onCancel, { once: true });

    let status: RunStatus = "passed";
    const problems: LocatedMessage[] = [];
    try {
      status = await this.#startServices(problems);
      if (status === "passed") {
        for (const step of this.#fixture.steps) {
          const run = () => this.#runStep(step);
          const result = this.#options.onStep ? await this.#options.onStep(step, run) : await run();
          if (result.status !== "passed") {
            status = result.status;
            problems.push(...result.problems);
            break;
          }
        }
      }
    } finally {
      timer?.clear();
      signal?.removeEventListener("abort", onCancel);
      const closing = await this.#closeServices();
      if (closing.length > 0) {
        problems.push(...closing);
        if (status === "passed") status = "error";
      }
      this.#removeTmp();
    }
    if (this.#stopProblem) {
      problems.push(this.#stopProblem);
      if (status === "passed" || status === "failed") status = "error";
    }
    return { status, problems };
  }

  #stop(at: SourceLocation, detail: string, name: "TimeoutError" | "AbortError"): void {
    if (this.#controller.signal.aborted) return;
    this.#stopDetail = detail;
    this.#stopProblem = located(at, detail);
    this.#controller.abort(new DOMException(`Cannot finish fixture: ${detail}`, name));
  }

  async #startServices(problems: LocatedMessage[]): Promise<RunStatus> {
    const fixture = this.#fixture;
    for (const service of fixture.services) {
      if (this.#controller.signal.aborted) return "error";
      let params: unknown;
      try {
        params = interpolate(
          service.with,
          this.#scope,
          fixture.source.locator([...service.path, "with"]),
        );
      } catch (error) {
        problems.push(...problemsOf(error, fixture.file));
        return "invalid";
      }
      const field = `"${service.location.path}"`;
      const limit = this.#remaining(this.#stepTimeout);
      try {
        const started = await within(
          this.#prepareServer(service.name, service.plugin, params).then((role) =>
            role.serve({ signal: this.#controller.signal, log: this.#options.log })
          ),
          limit + GRACE_MS,
          (late) => void late.close().catch(() => {}),
        );
        if (started === TIMED_OUT) {
          problems.push(located(service.location, `${field} did not start within ${limit} ms`));
          return "error";
        }
        this.#services.push({ name: service.name, location: service.location, service: started });
        this.#addresses[service.name] = started.address;
      } catch (error) {
        if (error instanceof ParamsError) {
          problems.push(...locateParamsIssues(fixture, service.name, error).map(toProblem));
          return "invalid";
        }
        problems.push(located(service.location, `${field} did not start: ${message(error)}`));
        return "error";
      }
    }
    return "passed";
  }

  async #runStep(step: FixtureStep): Promise<StepRun> {
    const fixture = this.#fixture;
    const attempts: StepResultEvent[] = [];
    const info: StepResultEvent["step"] = {
      index: step.index,
      name: step.name ?? `${step.plugin} #${step.index}`,
      plugin: step.plugin,
      location: toLocation(step.location),
    };
    // Resolved variables are the same at every attempt: prepared (validated) once.
    let prepared: PreparedClient | undefined;
    for (let attempt = 1;; attempt++) {
      let params: unknown;
      try {
        params = interpolate(
          step.with,
          this.#scope,
          fixture.source.locator([...step.path, "with"]),
        );
      } catch (error) {
        return { step, status: "invalid", attempts, problems: problemsOf(error, fixture.file) };
      }
      const started = performance.now();
      let result: Attempt;
      try {
        prepared ??= await this.#prepareClient(step.index, step.plugin, params);
        result = await this.#attempt(step, prepared);
      } catch (error) {
        if (!(error instanceof ParamsError)) throw error;
        const problems = locateParamsIssues(fixture, step.index, error).map(toProblem);
        return { step, status: "invalid", attempts, problems };
      }
      const willRetry = result.status !== "passed" && attempt <= step.retries &&
        !this.#controller.signal.aborted;
      const event: StepResultEvent = {
        type: "step-result",
        fixture: this.#ref,
        step: info,
        status: result.status,
        attempt,
        willRetry,
        durationMs: performance.now() - started,
        params: maskSecrets(params, this.#secrets),
        outcome: result.outcome,
        // A load step's metrics are the load's, not the plugin's.
        ...(result.load ? {} : this.#metricUnits(step.plugin, result.outcome)),
        expectations: result.expectations,
        ...(result.error ? { error: result.error } : {}),
        ...(result.load ? { load: result.load } : {}),
      };
      attempts.push(event);
      await this.#options.emit(event);
      if (result.status === "passed") {
        if (step.name !== undefined) this.#outcomes[step.name] = result.outcome;
        return { step, status: "passed", attempts, problems: [] };
      }
      if (!willRetry) return { step, status: result.status, attempts, problems: [] };
      await pause(step.retryDelay, this.#controller.signal);
      if (this.#controller.signal.aborted) {
        return { step, status: "error", attempts, problems: [] };
      }
    }
  }

  /** The step's role prepared with `prepareFixture`, or prepared now that its params are resolved. */
  #prepareClient(index: number, plugin: string, params: unknown): Promise<PreparedClient> {
    const ready = this.#roles.steps.get(index);
    // Checked at prepareFixture but for the variables, and run at once.
    return ready
      ? Promise.resolve(ready)
      : this.#executor.prepare(plugin, "client", params, { lazy: true });
  }

  /** The service's role prepared with `prepareFixture`, or prepared now that its params are resolved. */
  #prepareServer(name: string, plugin: string, params: unknown): Promise<PreparedServer> {
    const ready = this.#roles.services.get(name);
    return ready
      ? Promise.resolve(ready)
      : this.#executor.prepare(plugin, "server", params, { lazy: true });
  }

  /** One attempt: run the plugin under the step's and the fixture's limits, then judge. */
  async #attempt(step: FixtureStep, prepared: PreparedClient): Promise<Attempt> {
    if (step.load) return await this.#loadAttempt(step, prepared);
    const stepMs = step.timeout ?? this.#stepTimeout;
    const fixtureSignal = this.#controller.signal;
    const limit = limitSignal(
      { signal: fixtureSignal, timeout: stepMs },
      () => new DOMException(`Step timeout of ${stepMs} ms passed`, "TimeoutError"),
    );
    // Plugins see a deadline just after the runner's own timers, so the
    // runner's cancellation comes first and is reported as the timeout it is.
    const until = deadlineOf({ timeout: stepMs, deadline: this.#deadline });
    const deadline = until === undefined ? undefined : until + DEADLINE_MARGIN_MS;
    let outcome: Outcome | undefined;
    let thrown: unknown;
    try {
      const result = await within(
        prepared.run({ signal: limit.signal, deadline, log: this.#options.log }),
        deadline === undefined ? Infinity : deadline - Date.now() + GRACE_MS,
      );
      if (result !== TIMED_OUT) outcome = result;
    } catch (error) {
      if (error instanceof ParamsError) throw error;
      thrown = error;
    } finally {
      limit[Symbol.dispose]();
    }
    const field = `"${step.location.path}"`;
    let error: LocatedMessage | undefined;
    if (limit.timedOut) {
      const written = step.timeout !== undefined;
      error = located(
        written ? this.#fixture.source.locate([...step.path, "timeout"]) : step.location,
        written
          ? `${field} took longer than its timeout of ${stepMs} ms`
          : `${field} took longer than the step timeout of ${stepMs} ms (set "timeout" to change it)`,
      );
    } else if (fixtureSignal.aborted) {
      error = located(step.location, `${field} was stopped: ${this.#stopDetail}`);
    } else if (thrown !== undefined) {
      error = located(step.location, `${field} could not run: ${message(thrown)}`);
    } else if (outcome === undefined) {
      error = located(step.location, `${field} did not finish by its deadline`);
    }
    if (error) {
      const cause = thrown ?? limit.signal.reason ?? new Error(error.message);
      return {
        status: "error",
        outcome: outcome ?? { ok: false, metrics: {}, facts: {}, error: describeError(cause) },
        expectations: [],
        error,
      };
    }
    const expectations = this.#judge(step, outcome!);
    return {
      status: expectations.every((e) => e.pass) ? "passed" : "failed",
      outcome: outcome!,
      expectations,
    };
  }

  /**
   * One attempt of a load step: the plan run by the prepared role, its
   * report judged as an outcome. Its time limit is the step's `timeout`, or
   * the plan's duration plus the step timeout. With `abortOnBreach` the
   * thresholds on metrics that only grow or settle are judged once a second
   * and the first breach stops the run (and fails the step).
   */
  async #loadAttempt(step: FixtureStep, prepared: PreparedClient): Promise<Attempt> {
    const { plan, abortOnBreach } = step.load!;
    const stepMs = step.timeout ??
      (plan.durationMs === undefined ? 0 : plan.durationMs) + this.#stepTimeout;
    const fixtureSignal = this.#controller.signal;
    const limit = limitSignal(
      { signal: fixtureSignal, timeout: stepMs },
      () => new DOMException(`Step timeout of ${stepMs} ms passed`, "TimeoutError"),
    );
    const breach = new AbortController();
    let breached: ExpectationResult | undefined;
    // The histogram library only for a run that judges as it goes.
    const soFar: LoadSoFar | undefined = abortOnBreach
      ? new (await import("../load/load_so_far.ts")).LoadSoFar()
      : undefined;
    const judgeSoFar = () => {
      if (breached) return;
      const outcome = { ok: true, metrics: soFar!.metrics(), facts: {} };
      for (const expectation of step.expect) {
        const [root, name] = expectation.path;
        if (root !== "metrics" || !JUDGED_DURING_LOAD.test(String(name))) continue;
        // No value yet (no correct iteration): nothing to judge.
        if (Number.isNaN(outcome.metrics[name as string])) continue;
        let result: ExpectationResult;
        try {
          result = expectation.check(outcome, this.#scope);
        } catch {
          continue; // judged, and reported, at the end
        }
        if (!result.pass) {
          breached = result;
          breach.abort();
          return;
        }
      }
    };
    let report: LoadReport | undefined;
    let thrown: unknown;
    try {
      // The VU loop runs where the plugin runs (its own process when
      // isolated); a message a second comes back, enough to judge by.
      report = await prepared.load(plan, {
        signal: AbortSignal.any([limit.signal, breach.signal]),
        ...(soFar
          ? {
            onInterval: (interval) => soFar.interval(interval),
            onProgress: (progress) => {
              soFar.progress(progress);
              judgeSoFar();
            },
          }
          : {}),
      });
    } catch (error) {
      thrown = error;
    } finally {
      limit[Symbol.dispose]();
    }
    const field = `"${step.location.path}"`;
    let error: LocatedMessage | undefined;
    if (limit.timedOut) {
      const written = step.timeout !== undefined;
      error = located(
        written ? this.#fixture.source.locate([...step.path, "timeout"]) : step.location,
        written
          ? `${field} took longer than its timeout of ${stepMs} ms`
          : `${field} took longer than its load plan and the step timeout, ${stepMs} ms (set "timeout" to change it)`,
      );
    } else if (fixtureSignal.aborted) {
      error = located(step.location, `${field} was stopped: ${this.#stopDetail}`);
    } else if (thrown !== undefined || report === undefined) {
      error = located(step.location, `${field} could not run: ${message(thrown)}`);
    }
    const load: StepLoadReport | undefined = report && {
      model: report.model,
      interrupted: report.interrupted,
      elapsedMs: report.elapsedMs,
      ...(report.askedRate === undefined ? {} : { askedRate: report.askedRate }),
      series: report.series,
    };
    if (error) {
      return {
        status: "error",
        outcome: report
          ? loadOutcome(report)
          : { ok: false, metrics: {}, facts: {}, error: describeError(thrown) },
        expectations: [],
        error,
        ...(load ? { load } : {}),
      };
    }
    const outcome = loadOutcome(report!);
    const expectations = this.#judge(step, outcome);
    if (breached) {
      // Judged again at the end the threshold may hold; the run was cut short all the same.
      const note = ` (abortOnBreach: the run was stopped at ${
        (report!.elapsedMs / 1000).toFixed(1)
      } s)`;
      const same = expectations.findIndex((e) =>
        !e.pass && e.key === breached!.key && e.location === breached!.location
      );
      if (same >= 0) {
        expectations[same] = { ...expectations[same], message: expectations[same].message + note };
      } else expectations.unshift({ ...breached, message: breached.message + note });
    }
    return {
      status: expectations.every((e) => e.pass) ? "passed" : "failed",
      outcome,
      expectations,
      ...(load ? { load } : {}),
    };
  }

  #judge(step: FixtureStep, outcome: Outcome): ExpectationResult[] {
    const scope: InterpolationScope = step.name === undefined
      ? this.#scope
      : { ...this.#scope, steps: { ...this.#outcomes, [step.name]: outcome } };
    return judgeStep(step, outcome, scope);
  }

  async #closeServices(): Promise<LocatedMessage[]> {
    const problems: LocatedMessage[] = [];
    for (const { location, service } of this.#services.reverse()) {
      const field = `"${location.path}"`;
      try {
        const closed = await within(service.close(), CLOSE_LIMIT_MS);
        if (closed === TIMED_OUT) {
          problems.push(located(location, `${field} did not close within ${CLOSE_LIMIT_MS} ms`));
        }
      } catch (error) {
        problems.push(located(location, `${field} did not close cleanly: ${message(error)}`));
      }
    }
    this.#services.length = 0;
    return problems;
  }

  #removeTmp(): void {
    if (this.#tmp === undefined) return;
    try {
      Deno.removeSync(this.#tmp, { recursive: true });
    } catch {
      // Already gone, or a plugin made it unremovable: nothing else to do.
    }
    this.#tmp = undefined;
  }

  /** Milliseconds until the earlier of `ms` from now and the fixture's deadline. */
  #remaining(ms: number): number {
    return this.#deadline === undefined
      ? ms
      : Math.max(0, Math.min(ms, this.#deadline - Date.now()));
  }
}

function located(at: SourceLocation, detail: string): LocatedMessage {
  return toProblem(new FixtureError(at, detail, { action: "run" }));
}

function toLocation(at: SourceLocation): SourceLocation {
  return { file: at.file, line: at.line, column: at.column, path: at.path };
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    // No env permission: the variable reads as unset.
    return undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
