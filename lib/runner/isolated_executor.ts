/**
 * The executor that runs each plugin role in a process limited to the
 * permissions its manifest entry grants.
 *
 * @module
 */
import {
  checkIsolatedParams,
  type IsolationPool,
  runIsolatedClient,
  startIsolatedServer,
} from "../plugin/isolation.ts";
import type { Registry } from "../plugin/registry.ts";
import type { ExecutorFactory, PluginExecutor } from "./executor.ts";

/**
 * Creates executors that run plugin roles isolated (`startIsolatedServer`,
 * `runIsolatedClient`, `checkIsolatedParams`): a plugin's module is imported
 * only inside its own process, which has exactly the permissions of its
 * manifest entry, so a fixture's plugin cannot read, write or connect beyond
 * them. Processes are kept warm in `pool` from role to role; close the pool
 * when the run ends.
 *
 * Needs `--allow-run` and every permission a plugin is granted.
 *
 * @param pool Plugin processes to reuse (default: a process per role, ended after it).
 * @returns The executor factory.
 *
 * @example Running the echo plugin isolated
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest";
 * import { isolatedExecutor } from "@wiretest/wiretest/runner";
 * import { IsolationPool } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolationPool();
 * const executor = isolatedExecutor(pool)(builtinRegistry());
 * assert.equal(executor.isolated, true);
 * const service = await executor.startServer("echo", {});
 * const outcome = await executor.runClient("echo", { target: formatAddress(service.address), count: 2 });
 * await service.close();
 * assert.equal(outcome.metrics.round_trips, 2);
 * ```
 */
export function isolatedExecutor(pool?: IsolationPool): ExecutorFactory {
  return (registry: Registry): PluginExecutor => ({
    isolated: true,
    checkParams: (plugin, role, params) =>
      checkIsolatedParams(registry.get(plugin), role, params, pool ? { pool } : {}),
    startServer: (plugin, params, options = {}) =>
      startIsolatedServer(registry.get(plugin), params, { ...options, ...(pool ? { pool } : {}) }),
    runClient: (plugin, params, options = {}) =>
      runIsolatedClient(registry.get(plugin), params, { ...options, ...(pool ? { pool } : {}) }),
  });
}
