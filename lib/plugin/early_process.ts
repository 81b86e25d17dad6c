// Internal, for the CLI's early start (lib/cli/_early_plugin.ts): a
// plugin's process started before the isolation host is loaded, then handed
// to a pool. What this module imports is loaded before the process starts:
// the launch (_isolation_launch.ts) and nothing else; the host and the pool
// (isolation.ts, some 30 modules) load once the process is started.
import type { IsolationPool, IsolationPoolOptions } from "./isolation.ts";
import type { ManifestEntry } from "./manifest.ts";
import { type ProcessOptions, type Started, startProcess } from "./_isolation_launch.ts";

export type { Started };

/**
 * Checks an entry and starts its process now (unless its imports must be
 * checked first, which the pool then does).
 *
 * @throws {PluginLoadError} When the entry grants more than this process
 * has, its module is missing, or this process may not start Deno.
 */
export function startPluginProcess(entry: ManifestEntry, options: ProcessOptions = {}): Started {
  return startProcess(entry, options);
}

/**
 * A pool whose idle process for `entry` is the one `started` holds. The
 * caller closes it.
 */
export async function poolFor(
  entry: ManifestEntry,
  started: Started,
  options: IsolationPoolOptions,
): Promise<IsolationPool> {
  // A computed specifier: Deno walks the module graph behind a literal
  // import() before it evaluates the module holding it, so before the start.
  const isolation: typeof import("./isolation.ts") = await import(
    new URL("./isolation.ts", import.meta.url).href
  );
  const pool = new isolation.IsolationPool(options);
  isolation.adoptStarted(pool, entry, started);
  return pool;
}
