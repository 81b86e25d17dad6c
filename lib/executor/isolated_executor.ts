/**
 * The {@linkcode Executor} that runs each plugin in a process limited to the
 * permissions its manifest entry grants.
 *
 * @module
 */
import {
  checkIsolatedParams,
  describeIsolatedPlugin,
  type IsolationPool,
  runIsolatedClient,
  runIsolatedLoad,
  startIsolatedServer,
  summarizeIsolatedOutcome,
} from "../plugin/isolation.ts";
import type { ManifestEntry, PluginRoleName } from "../plugin/manifest.ts";
import { checkedInterval, checkedProgress, checkedReport } from "../load/checked_load_messages.ts";
import type { Registry } from "../plugin/registry.ts";
import type {
  Executor,
  PreparedClient,
  PreparedRole,
  PreparedServer,
  PrepareOptions,
} from "./executor.ts";

/** Options for {@linkcode isolatedExecutor}. */
export interface IsolatedExecutorOptions {
  /**
   * Plugin processes to reuse from role to role (default: a process per
   * role, ended after it). The caller closes it.
   */
  pool?: IsolationPool;
  /**
   * Milliseconds a plugin may take to stop after it is cancelled, its
   * deadline passes or its service is closed, before its process is killed
   * (default 2000).
   */
  graceMs?: number;
}

/**
 * The executor that runs plugin roles isolated: a plugin's module is
 * imported only inside its own Deno process, started with exactly the
 * permissions of its manifest entry, so it cannot read, write or connect
 * beyond them. `prepare` validates params in that process (the plugin's
 * schema never runs here); `run` and `serve` send them there, where they
 * are validated again: parsed params never leave an untrusted process, and
 * a pooled role may run in another one. A process parses the same params
 * once and reuses the result (it keeps the last 128 inputs it parsed; only
 * plain JSON ones), as the in-process executor reuses a prepared role's. A plugin that
 * reaches outside its grant fails with a `PluginPermissionError`, one over
 * its memory ceiling with a `PluginMemoryError`.
 *
 * Needs `--allow-run` and every permission a plugin is granted.
 *
 * @param registry The plugins that may run.
 * @param options A pool of warm processes, and the grace period.
 * @returns The executor.
 *
 * @example Running the echo plugin isolated
 * ```ts
 * import { builtinRegistry, IsolationPool, isolatedExecutor } from "@wiretest/wiretest/host";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolationPool();
 * const executor = isolatedExecutor(builtinRegistry(), { pool });
 * assert.equal(executor.isolated, true);
 * const service = await (await executor.prepare("echo", "server", {})).serve();
 * const client = await executor.prepare("echo", "client", {
 *   target: formatAddress(service.address),
 *   count: 2,
 * });
 * const outcome = await client.run();
 * await service.close();
 * assert.equal(outcome.metrics.round_trips, 2);
 * assert.match((await client.summary(outcome))!, /^2 round trips/);
 * ```
 */
export function isolatedExecutor(
  registry: Registry,
  options: IsolatedExecutorOptions = {},
): Executor {
  const shared = {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
  };
  const pooled = options.pool ? { pool: options.pool } : {};
  return {
    isolated: true,
    async prepare<R extends PluginRoleName>(
      plugin: string,
      role: R,
      params: unknown,
      prepareOptions: PrepareOptions = {},
    ) {
      const entry = registry.get(plugin);
      if (!entry.roles.includes(role)) {
        throw new TypeError(`Cannot use plugin "${plugin}": it has no ${role} role`);
      }
      // The plugin's process validates again at every run (it takes nothing
      // parsed from outside): a lazy prepare leaves the check to that.
      if (!prepareOptions.lazy) {
        const { signal } = prepareOptions;
        await checkIsolatedParams(entry, role, params, {
          ...pooled,
          ...(signal ? { signal } : {}),
        });
      }
      const prepared = role === "client"
        ? isolatedClient(entry, params, shared)
        : isolatedServer(entry, params, shared);
      return prepared as PreparedRole<R>;
    },
    describe: (plugin, describeOptions = {}) =>
      describeIsolatedPlugin(registry.get(plugin), { ...pooled, ...describeOptions }),
  };
}

function closedError(entry: ManifestEntry, role: PluginRoleName): TypeError {
  return new TypeError(`Cannot run plugin "${entry.name}" (${role}): the prepared role is closed`);
}

/** Load messages of each kind a plugin's process may send beyond one a second. */
const MESSAGES_SLACK = 3;

function isolatedClient(
  entry: ManifestEntry,
  params: unknown,
  shared: IsolatedExecutorOptions,
): PreparedClient {
  let closed = false;
  const close = () => {
    closed = true;
    return Promise.resolve();
  };
  return {
    plugin: entry.name,
    role: "client",
    run: (options = {}) =>
      closed
        ? Promise.reject(closedError(entry, "client"))
        : runIsolatedClient(entry, params, { ...options, ...shared }),
    summary: (outcome) =>
      summarizeIsolatedOutcome(entry, outcome, shared.pool ? { pool: shared.pool } : {}),
    load: async (plan, options = {}) => {
      if (closed) throw closedError(entry, "client");
      const { onProgress, onInterval, ...rest } = options;
      // The engine sends one progress and one interval a second (and a last
      // interval); more is a flood, which would fill an interval log.
      const started = performance.now();
      const sent = { progress: 0, interval: 0 };
      return await runIsolatedLoad(entry, params, plan, {
        ...rest,
        ...shared,
        // The plugin's code shares that process: what it sends is checked.
        onEvent: (event) => {
          const kind = event.kind === "progress" ? "progress" : "interval";
          if (++sent[kind] > (performance.now() - started) / 1000 + MESSAGES_SLACK) {
            throw new TypeError(
              `Cannot run load: the plugin's process sent more than one load ${kind} a second`,
            );
          }
          if (kind === "progress") {
            onProgress?.(checkedProgress((event as { progress: unknown }).progress));
          } else onInterval?.(checkedInterval((event as { interval: unknown }).interval));
        },
      }).then(checkedReport);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function isolatedServer(
  entry: ManifestEntry,
  params: unknown,
  shared: IsolatedExecutorOptions,
): PreparedServer {
  let closed = false;
  const close = () => {
    closed = true;
    return Promise.resolve();
  };
  return {
    plugin: entry.name,
    role: "server",
    serve: (options = {}) =>
      closed
        ? Promise.reject(closedError(entry, "server"))
        : startIsolatedServer(entry, params, { ...options, ...shared }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
