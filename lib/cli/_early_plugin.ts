// A built-in plugin's process, started by the CLI's entry point before the
// command's own modules load: the process (a Deno start and the plugin's
// imports) then starts while this one loads and parses, instead of after.
// Only for what certainly runs isolated with the defaults the command would
// use; anything else (--no-isolation, --plugins, --help, an unknown name)
// starts nothing here and the command starts what it needs as before.
// What this module imports is loaded before the process starts, so it is
// kept to the process's launch and the built-in manifest: no isolation host
// (loaded once the process is started), no registry (whose plugin loaders
// make Deno walk every plugin's module graph), no flag parser, no Node
// module (tests/cli_start_up_test.ts checks the graph).
import type { IsolationPool } from "../plugin/isolation.ts";
import { poolFor, type Started, startPluginProcess } from "../plugin/early_process.ts";
import { builtinManifest } from "../../plugins/builtin_manifest.ts";
import { helpIn, isolatedIn, manifestsFrom, pluginMemoryIn } from "./_plugin_args.ts";

/**
 * A pool with `name`'s process started (before this returns), for a
 * command that will run its client role with `args`, or `undefined` when
 * the command should start its own. The caller closes the pool.
 */
export function earlyPool(
  name: string | undefined,
  args: readonly string[],
): Promise<IsolationPool> | undefined {
  if (name === undefined || !isolatedIn(args) || helpIn(args) || manifestsFrom(args).length > 0) {
    return undefined;
  }
  let memoryMiB: number | undefined;
  try {
    memoryMiB = pluginMemoryIn(args);
  } catch {
    // A bad value is the command's usage error to report.
    return undefined;
  }
  const entry = builtinManifest().plugins.find((plugin) => plugin.name === name);
  if (entry === undefined) return undefined;
  let started: Started;
  try {
    started = startPluginProcess(entry, { memoryMiB });
  } catch {
    // A refusal (no run permission, say) is the command's to report: it
    // gets the same one when it starts its own.
    return undefined;
  }
  // The same pool the command would make (one process, kept for the role).
  return poolFor(entry, started, { maxIdlePerPlugin: 1, memoryMiB });
}
