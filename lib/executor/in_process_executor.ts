/**
 * The {@linkcode Executor} that imports plugins into this process.
 *
 * @module
 */
import { plainJsonText } from "../_internal/plain_json_text.ts";
import { describePlugin } from "../plugin/isolation.ts";
import { validateParams } from "../plugin/params_schema.ts";
import type { PluginRoleName } from "../plugin/manifest.ts";
import type { Registry } from "../plugin/registry.ts";
import { runClientRole, startServerRole } from "../plugin/run.ts";
import type { AnyPlugin } from "../plugin/types.ts";
import type { Executor, PreparedClient, PreparedRole, PreparedServer } from "./executor.ts";

/**
 * The executor that imports plugins into this process (`Registry.load`):
 * `prepare` validates params with the role's schema once, and every `run`
 * or `serve` uses what it returned (each `run` its own copy, so a run that
 * changes its params changes no later run's). Plugin code has every permission this
 * process has: use it for trusted plugins (the built-in ones) or when
 * plugins need not be isolated (`--no-isolation`).
 *
 * @param registry The plugins that may run.
 * @returns The executor.
 *
 * @example Running the echo plugin in-process
 * ```ts
 * import { builtinRegistry, inProcessExecutor } from "@wiretest/wiretest/host";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const executor = inProcessExecutor(builtinRegistry());
 * await assert.rejects(executor.prepare("echo", "client", { count: 3 }), { name: "ParamsError" });
 * await using server = await executor.prepare("echo", "server", {});
 * const service = await server.serve();
 * await using client = await executor.prepare("echo", "client", {
 *   target: formatAddress(service.address),
 *   count: 3,
 * });
 * const outcomes = [await client.run(), await client.run()];
 * await service.close();
 * assert.deepEqual(outcomes.map((o) => o.metrics.round_trips), [3, 3]);
 * ```
 */
export function inProcessExecutor(registry: Registry): Executor {
  return {
    isolated: false,
    async prepare<R extends PluginRoleName>(plugin: string, role: R, params: unknown) {
      const loaded = await registry.load(plugin);
      const prepared = role === "client"
        ? prepareClient(loaded, params)
        : prepareServer(loaded, params);
      return prepared as PreparedRole<R>;
    },
    async describe(plugin) {
      return describePlugin(await registry.load(plugin));
    },
  };
}

function roleOf<R extends PluginRoleName>(plugin: AnyPlugin, role: R): NonNullable<AnyPlugin[R]> {
  const found = plugin[role];
  if (!found) throw new TypeError(`Cannot use plugin "${plugin.name}": it has no ${role} role`);
  return found;
}

/** Throws once the prepared role is closed. */
function closable(plugin: string, role: PluginRoleName) {
  let closed = false;
  return {
    check(): void {
      if (closed) {
        throw new TypeError(`Cannot run plugin "${plugin}" (${role}): the prepared role is closed`);
      }
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

function prepareClient(plugin: AnyPlugin, input: unknown): PreparedClient {
  const role = roleOf(plugin, "client");
  const label = `plugin "${plugin.name}" (client)`;
  const params = validateParams(role.params, input, label);
  // A run may change its params: each later run gets them as parsed, a copy
  // from their JSON text (validated again when they are not plain JSON).
  const text = plainJsonText(params, Infinity);
  let lent = false;
  const fresh = () => {
    if (!lent) return (lent = true, params);
    return text === undefined ? validateParams(role.params, input, label) : JSON.parse(text);
  };
  const state = closable(plugin.name, "client");
  return {
    plugin: plugin.name,
    role: "client",
    run: (options = {}) => {
      try {
        state.check();
      } catch (error) {
        return Promise.reject(error);
      }
      let params: unknown;
      try {
        params = fresh();
      } catch (error) {
        return Promise.reject(error);
      }
      return runClientRole(role, params, options);
    },
    summary: (outcome) => Promise.resolve(role.summary?.(outcome)),
    load: async (plan, options = {}) => {
      state.check();
      // The load engine (and its histogram library) only for a load run:
      // one-shot commands use this executor too.
      const [{ runLoad }, { pluginSessions }] = await Promise.all([
        import("../load/run_load.ts"),
        import("../load/plugin_sessions.ts"),
      ]);
      return await runLoad(pluginSessions(plugin, input), plan, options);
    },
    close: state.close,
    [Symbol.asyncDispose]: state.close,
  };
}

function prepareServer(plugin: AnyPlugin, input: unknown): PreparedServer {
  const role = roleOf(plugin, "server");
  const params = validateParams(role.params, input, `plugin "${plugin.name}" (server)`);
  const state = closable(plugin.name, "server");
  return {
    plugin: plugin.name,
    role: "server",
    serve: async (options = {}) => {
      state.check();
      return await startServerRole(role, params, options);
    },
    close: state.close,
    [Symbol.asyncDispose]: state.close,
  };
}
