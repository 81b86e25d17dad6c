/**
 * How the runner runs plugin roles: a {@linkcode PluginExecutor} checks
 * params, starts services and runs steps by plugin name. The in-process
 * executor imports plugins into the runner's own process; an isolated one
 * runs each role in a Worker limited to its manifest's permissions.
 *
 * @module
 */
import { validateParams } from "../plugin/params_schema.ts";
import type { Registry } from "../plugin/registry.ts";
import { runClient, startServer } from "../plugin/run.ts";
import type { LogLevel, Outcome, Service } from "../plugin/types.ts";

/** Options for starting a service. */
export interface ExecutorServerOptions {
  /** Closes the service when it aborts (the fixture ended or timed out). */
  signal?: AbortSignal;
  /** Receives the plugin's log lines. */
  log?: (level: LogLevel, message: string) => void;
}

/** Options for running a step. */
export interface ExecutorClientOptions {
  /** Cancels the step (its timeout, the fixture's timeout, or the run being stopped). */
  signal?: AbortSignal;
  /** Absolute deadline (`Date.now()` milliseconds) the plugin sees in its context. */
  deadline?: number;
  /** Receives the plugin's log lines. */
  log?: (level: LogLevel, message: string) => void;
}

/** Runs plugin roles by name, for the fixtures of one registry. */
export interface PluginExecutor {
  /** Whether roles run in permission-restricted Workers. */
  readonly isolated: boolean;
  /**
   * Validates params for a role without running it.
   *
   * @param plugin The plugin's name.
   * @param role `"server"` (a fixture service) or `"client"` (a step).
   * @param params The params as written.
   * @throws {ParamsError} Naming each param that is wrong.
   * @throws {PluginLoadError} When the plugin cannot be loaded.
   */
  checkParams(plugin: string, role: "server" | "client", params: unknown): Promise<void>;
  /**
   * Starts a plugin's server role.
   *
   * @param plugin The plugin's name.
   * @param params Params, variables resolved.
   * @param options Signal and log sink.
   * @returns The running service.
   * @throws {ParamsError} When the params are wrong.
   */
  startServer(plugin: string, params: unknown, options?: ExecutorServerOptions): Promise<Service>;
  /**
   * Runs a plugin's client role. A failed exchange is an outcome with
   * `ok: false`, not an exception.
   *
   * @param plugin The plugin's name.
   * @param params Params, variables resolved.
   * @param options Signal, deadline and log sink.
   * @returns What the plugin observed.
   * @throws {ParamsError} When the params are wrong.
   */
  runClient(plugin: string, params: unknown, options?: ExecutorClientOptions): Promise<Outcome>;
}

/**
 * Creates an executor for the plugins of a registry.
 *
 * @param registry The plugins fixtures may use.
 * @returns The executor.
 */
export type ExecutorFactory = (registry: Registry) => PluginExecutor;

/**
 * The executor that imports plugins into the runner's process
 * (`Registry.load`) and runs them with `startServer` and `runClient`. Plugin
 * code then has every permission the runner has: use it for trusted
 * plugins (the built-in ones) or when Workers are not available
 * (`--no-isolation`).
 *
 * @param registry The plugins fixtures may use.
 * @returns The executor.
 *
 * @example Running the echo plugin in-process
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest";
 * import { inProcessExecutor } from "@wiretest/wiretest/runner";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const executor = inProcessExecutor(builtinRegistry());
 * await assert.rejects(executor.checkParams("echo", "client", { count: 3 }), { name: "ParamsError" });
 * const service = await executor.startServer("echo", {});
 * const outcome = await executor.runClient("echo", { target: formatAddress(service.address), count: 3 });
 * await service.close();
 * assert.equal(outcome.metrics.round_trips, 3);
 * ```
 */
export const inProcessExecutor: ExecutorFactory = (registry: Registry): PluginExecutor => ({
  isolated: false,
  async checkParams(plugin, role, params) {
    const loaded = await registry.load(plugin);
    const roleOf = loaded[role];
    if (!roleOf) {
      throw new TypeError(`Cannot use plugin "${plugin}": it has no ${role} role`);
    }
    validateParams(roleOf.params, params, `plugin "${plugin}" (${role})`);
  },
  async startServer(plugin, params, options = {}) {
    return await startServer(await registry.load(plugin), params, options);
  },
  async runClient(plugin, params, options = {}) {
    return await runClient(await registry.load(plugin), params, options);
  },
});
