// What the common plugin flags in an argument list say, read before the
// plugin (and so its own flags) is known: apart from _load_plugin.ts so the
// CLI's entry point can read them without loading the executors.
import { UsageError } from "./_usage_error.ts";

/** Whether plugins run isolated: unless `--no-isolation` comes before any `--`. */
export function isolatedIn(args: readonly string[]): boolean {
  return !beforeEnd(args).includes("--no-isolation");
}

/**
 * The memory ceiling `--plugin-memory-mib <n>` (or `=<n>`) gives plugins'
 * processes, in MiB, if it comes before any `--`.
 *
 * @throws {UsageError} When its value is not an integer of at least 64.
 */
export function pluginMemoryIn(args: readonly string[]): number | undefined {
  const flag = "--plugin-memory-mib";
  let raw: string | undefined;
  beforeEnd(args).forEach((a, i, all) => {
    if (a === flag) raw = all[i + 1] ?? "";
    else if (a.startsWith(`${flag}=`)) raw = a.slice(flag.length + 1);
  });
  return raw === undefined ? undefined : parsePluginMemory(raw);
}

/** Whether `--help` (or `-h`) comes before any `--`. */
export function helpIn(args: readonly string[]): boolean {
  const flags = beforeEnd(args);
  return flags.includes("--help") || flags.includes("-h");
}

function beforeEnd(args: readonly string[]): readonly string[] {
  const end = args.indexOf("--");
  return end === -1 ? args : args.slice(0, end);
}

/** The `--plugins` values in an argument list (read before the plugin's flags are known). */
export function manifestsFrom(args: readonly string[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === "--plugins" && args[i + 1]) out.push(args[i + 1]);
    else if (a.startsWith("--plugins=")) out.push(a.slice("--plugins=".length));
  });
  return out;
}

/** The manifests `--trust-ffi <manifest>` (or `=<manifest>`, repeatable) names before any `--`. */
export function trustFfiIn(args: readonly string[]): string[] {
  const flag = "--trust-ffi";
  const found: string[] = [];
  beforeEnd(args).forEach((a, i, all) => {
    if (a === flag && all[i + 1] !== undefined) found.push(all[i + 1]);
    else if (a.startsWith(`${flag}=`)) found.push(a.slice(flag.length + 1));
  });
  return found;
}

// A Deno process takes about 50 MiB before any plugin code runs.
const MIN_PLUGIN_MEMORY_MIB = 64;

/**
 * Reads the value of `--plugin-memory-mib`: a whole number of MiB, at least 64.
 *
 * @throws {UsageError} For anything else.
 */
export function parsePluginMemory(raw: string): number {
  const mib = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(mib) || mib < MIN_PLUGIN_MEMORY_MIB) {
    throw new UsageError(
      `Cannot use --plugin-memory-mib "${raw}": it must be a whole number of MiB from ${MIN_PLUGIN_MEMORY_MIB}`,
    );
  }
  return mib;
}
