// A built-in plugin's process, started by the CLI's entry point before the
// command's own modules load: the process (a Deno start and the plugin's
// imports) then starts while this one loads and parses, instead of after.
// Only for what certainly runs isolated with the defaults the command would
// use; anything else (--no-isolation, --plugins, --help, an unknown name)
// starts nothing here and the command starts what it needs as before.
import { IsolationPool } from "../plugin/isolation.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { helpIn, isolatedIn, manifestsFrom, pluginMemoryIn } from "./_plugin_args.ts";

/**
 * A pool with `name`'s process starting, for a command that will run its
 * client role with `args`, or `undefined` when the command should start its
 * own. The caller closes the pool.
 */
export function earlyPool(
  name: string | undefined,
  args: readonly string[],
): IsolationPool | undefined {
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
  const builtin = builtinRegistry();
  if (!builtin.has(name)) return undefined;
  // The same pool the command would make (one process, kept for the role).
  const pool = new IsolationPool({ maxIdlePerPlugin: 1, memoryMiB });
  // A failure is reported when the command uses the pool: its first role
  // starts a process again and gets the same error.
  pool.warm(builtin.get(name)).catch(() => {});
  return pool;
}
