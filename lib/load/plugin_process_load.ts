/**
 * The load engine as an isolated plugin's process runs it: the whole VU
 * loop next to the plugin, reporting to the host once a second. The host's
 * generated main module imports this file when a load is asked for (the
 * isolation layer below does not import lib/load).
 *
 * @module
 */
import type { AnyPlugin } from "../plugin/types.ts";
import type { LoadEvent } from "../plugin/isolation.ts";
import type { LoadPlan } from "./load_plan.ts";
import type { LoadReport } from "./load_report.ts";
import { pluginSessions } from "./plugin_sessions.ts";
import { runLoad } from "./run_load.ts";

/** Options for {@linkcode runPluginLoad}. */
export interface PluginLoadOptions {
  /** Stops the run early (the host's abort). */
  signal: AbortSignal;
  /** How long iterations still running at the end may finish. */
  gracefulStopMs?: number;
  /** Receives each second's progress and histograms, to send to the host. */
  onEvent(event: LoadEvent): void;
}

/**
 * Runs a plan against a plugin loaded in this process.
 *
 * @param plugin The plugin.
 * @param input Its client params as written (checked here).
 * @param plan A plan the host checked with `checkLoadPlan`.
 * @param options Signal, graceful stop, event sink.
 * @returns The report.
 *
 * @example Echo as load, events counted
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { checkLoadPlan } from "@wiretest/wiretest/load";
 * import { startServer } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import { runPluginLoad } from "./plugin_process_load.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = await builtinRegistry().load("echo");
 * const server = await startServer(echo, {});
 * const kinds: string[] = [];
 * const report = await runPluginLoad(echo, { target: formatAddress(server.address) }, checkLoadPlan({ vus: 2, iterations: 20 }), {
 *   signal: new AbortController().signal,
 *   onEvent: (event) => kinds.push(event.kind),
 * });
 * await server.close();
 * assert.equal(report.iterations, 20);
 * assert.ok(kinds.includes("interval"));
 * ```
 */
export function runPluginLoad(
  plugin: AnyPlugin,
  input: unknown,
  plan: unknown,
  options: PluginLoadOptions,
): Promise<LoadReport> {
  const { signal, gracefulStopMs, onEvent } = options;
  return runLoad(pluginSessions(plugin, input), plan as LoadPlan, {
    signal,
    ...(gracefulStopMs === undefined ? {} : { gracefulStopMs }),
    onProgress: (progress) => onEvent({ kind: "progress", progress }),
    onInterval: (interval) => onEvent({ kind: "interval", interval }),
  });
}
