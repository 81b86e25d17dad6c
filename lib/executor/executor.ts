/**
 * The one way a host runs plugin roles: an {@linkcode Executor} prepares a
 * role of a plugin by name — loads the plugin and validates its params, once —
 * and the {@linkcode PreparedClient} or {@linkcode PreparedServer} it returns
 * runs that role as often as asked. Two implementations: in-process
 * (`inProcessExecutor`) and isolated, each plugin in a process limited to
 * its manifest's permissions (`isolatedExecutor`). The runner, the CLI and
 * `testing` use it; so can anything that runs one role many times (a load
 * generator calls `run` in a loop; a scrape-driven exporter calls it once
 * per scrape with a `deadline`).
 *
 * @module
 */
import type { PluginDescription } from "../plugin/isolation.ts";
import type { PluginRoleName } from "../plugin/manifest.ts";
import type { Registry } from "../plugin/registry.ts";
import type { RunOptions } from "../plugin/run.ts";
import type { Outcome, Service } from "../plugin/types.ts";
import type { LoadPlan } from "../load/load_plan.ts";
import type { LoadReport } from "../load/load_report.ts";
import type { RunLoadOptions } from "../load/run_load.ts";

/** Options for {@linkcode Executor.prepare} and {@linkcode Executor.describe}. */
export interface PrepareOptions {
  /** Stops waiting for the plugin to load (an isolated plugin's process to start). */
  signal?: AbortSignal;
  /**
   * Validate the params where the role first runs, not now (default
   * `false`), for a caller that runs at once and checked the params before:
   * an isolated executor then saves a message to the plugin's process, and
   * a `ParamsError` rejects `run` or `serve` instead of `prepare`. An
   * executor that validates at no cost (in-process) still validates now.
   */
  lazy?: boolean;
}

/** A client role with validated params, ready to run. */
export interface PreparedClient extends AsyncDisposable {
  /** The plugin's name. */
  readonly plugin: string;
  /** Always `"client"`. */
  readonly role: "client";
  /**
   * Runs the role once with the prepared params. A failed exchange is an
   * outcome with `ok: false`, not an exception. May be called again, and
   * concurrently.
   *
   * @param options Signal, timeout or deadline, log and progress sinks.
   * @returns What the role observed.
   * @throws {TypeError} When the prepared role is closed.
   */
  run(options?: RunOptions): Promise<Outcome>;
  /**
   * The role's `summary(outcome)` for people, or `undefined` when it has none.
   *
   * @param outcome An outcome of `run`.
   * @returns One to three lines.
   */
  summary(outcome: Outcome): Promise<string | undefined>;
  /**
   * Runs the role as load: VUs running iterations as the plan says, each
   * VU keeping its session (the role's `session` hook: a connection, for
   * keep-alive), else one whole `run` per iteration. Isolated, the VU loop
   * runs inside the plugin's process and only a message a second crosses
   * to this one.
   *
   * @param plan A plan from `checkLoadPlan`.
   * @param options Signal, graceful stop, progress and interval sinks.
   * @returns The report (partial, `interrupted`, when the signal stopped it).
   * @throws {TypeError} When the prepared role is closed.
   */
  load(plan: LoadPlan, options?: RunLoadOptions): Promise<LoadReport>;
  /**
   * Releases what the prepared role holds; `run` then throws. Idempotent.
   *
   * @returns When released.
   */
  close(): Promise<void>;
}

/** A server role with validated params, ready to start. */
export interface PreparedServer extends AsyncDisposable {
  /** The plugin's name. */
  readonly plugin: string;
  /** Always `"server"`. */
  readonly role: "server";
  /**
   * Starts the service with the prepared params.
   *
   * @param options Signal (closing the service when it aborts), log and progress sinks.
   * @returns The running service; close it when done.
   * @throws {TypeError} When the prepared role is closed.
   */
  serve(options?: Omit<RunOptions, "timeout" | "deadline">): Promise<Service>;
  /**
   * Releases what the prepared role holds (not services it started). Idempotent.
   *
   * @returns When released.
   */
  close(): Promise<void>;
}

/** What {@linkcode Executor.prepare} returns for a role. */
export type PreparedRole<R extends PluginRoleName> = R extends "client" ? PreparedClient
  : PreparedServer;

/** Runs the plugins of one registry by name. */
export interface Executor {
  /** Whether roles run in processes limited to their manifest's permissions. */
  readonly isolated: boolean;
  /**
   * Prepares a role: loads the plugin and validates the params, once; what
   * comes back runs or starts the role as often as asked.
   *
   * @typeParam R `"client"` or `"server"`.
   * @param plugin The plugin's name in the registry.
   * @param role `"client"` (a {@linkcode PreparedClient}) or `"server"` (a {@linkcode PreparedServer}).
   * @param params The params as written.
   * @param options Signal.
   * @returns The prepared role.
   * @throws {ParamsError} Naming each param that is wrong (with `issues`).
   * @throws {TypeError} When the plugin has no such role.
   * @throws {UnknownPluginError} When the registry has no such plugin.
   * @throws {PluginLoadError} When the plugin cannot be loaded.
   */
  prepare<R extends PluginRoleName>(
    plugin: string,
    role: R,
    params: unknown,
    options?: PrepareOptions,
  ): Promise<PreparedRole<R>>;
  /**
   * Describes a plugin as data (name, version, each role's params as JSON
   * Schema, positionals), computed where the plugin runs.
   *
   * @param plugin The plugin's name in the registry.
   * @param options Signal.
   * @returns The description.
   */
  describe(plugin: string, options?: PrepareOptions): Promise<PluginDescription>;
}

/**
 * Makes the executor for a registry; the runner makes one per fixture (a
 * fixture's `plugins:` extend the registry).
 *
 * @param registry The plugins that may run.
 * @param fixtureFile The fixture the executor is for (the runner confines its plugins' files to its folder).
 * @returns The executor.
 */
export type ExecutorFactory = (registry: Registry, fixtureFile?: string) => Executor;
