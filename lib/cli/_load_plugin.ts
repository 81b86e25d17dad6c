// The CLI's view of the registry (built-in plugins plus any `--plugins`
// manifests named on the command line), and of one plugin: what it needs to
// build flags, help and summaries, and how to run its roles.
//
// Isolated (the default), a third-party plugin's module is imported only
// inside its process: the flags and help come from a description the process
// sends as data (JSON Schemas), the params are validated there, and the
// summary is computed there. Its top-level code never runs with this
// process's permissions. With --no-isolation the plugin is imported here.
//
// Built-in plugins run their roles in their processes too, but their
// descriptions are this package's own data (plugins/descriptions.json,
// checked against their modules by a test): a one-shot command builds its
// flags from it while the plugin's process is still starting, with no round
// trip to it and no import of the plugin here. `wiretest schema` and
// `reference` describe them from their modules in this process: they are
// part of this package, imported through its own static loaders, so their
// code has no authority the CLI's own code does not.
import type { Executor } from "../executor/executor.ts";
import { inProcessExecutor } from "../executor/in_process_executor.ts";
import { isolatedExecutor } from "../executor/isolated_executor.ts";
import { describePlugin, IsolationPool, type PluginDescription } from "../plugin/isolation.ts";
import type { LoadManifestOptions, ManifestEntry, PluginPermissions } from "../plugin/manifest.ts";
import { Registry } from "../plugin/registry.ts";
import { UsageError } from "./_flags.ts";
import { isolatedIn, manifestsFrom, pluginMemoryIn, trustFfiIn } from "./_plugin_args.ts";
import { builtinManifest } from "../../plugins/builtin_manifest.ts";
import { builtinDescription } from "../../plugins/descriptions.ts";
import { toSourceUrl } from "../_internal/manifest_source.ts";

export { isolatedIn, manifestsFrom, pluginMemoryIn };

/**
 * The built-in plugins' registry, without the loaders plugins/manifest.ts
 * gives it: their literal `import()`s make Deno walk every plugin's module
 * graph (some 200 modules, Node's and zod's among them) when this module
 * loads, in a command whose plugin runs in its own process. A plugin this
 * process does load (--no-isolation, describing a built-in for `schema`)
 * is imported by its module's URL, as the registry does for any plugin.
 */
function builtinRegistry(): Registry {
  return new Registry([builtinManifest()]);
}

/** The built-in registry merged with extra manifests (paths relative to the working directory). */
export async function registryWith(
  manifests: readonly string[],
  options: LoadManifestOptions = {},
): Promise<Registry> {
  const builtin = builtinRegistry();
  if (manifests.length === 0) return builtin;
  // The manifest parser (zod, jsonc-parser) loads only when one is named.
  const { loadManifest } = await import("../plugin/manifest.ts");
  try {
    // Paths (relative to the working directory) or URLs, as loadManifest reads them.
    const loaded = await Promise.all(manifests.map((m) => loadManifest(m, options)));
    return await builtin.withManifests(...loaded);
  } catch (error) {
    // A --plugins path that names no file is a mistake on the command line.
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError((error as Error).message, { cause: error });
    }
    throw error;
  }
}

/**
 * One plugin as a command uses it: its entry, its description (for flags
 * and help), and the executor that prepares and runs its roles. Dispose of
 * it when the command ends.
 */
export interface CliPlugin extends AsyncDisposable {
  /** Its manifest entry. */
  readonly entry: ManifestEntry;
  /** Name, description, and per role the params' JSON Schema and positionals. */
  readonly described: PluginDescription;
  /** Prepares its roles (params validated where the plugin runs). */
  readonly executor: Executor;
}

/**
 * Opens one plugin by name for a command: isolated unless `--no-isolation`
 * is among `args`, with the manifests `--plugins` names there. An isolated
 * plugin runs in `pool` when given (one whose process may be starting
 * already, see _early_plugin.ts); the plugin's disposal closes it.
 */
export async function openPlugin(
  name: string,
  args: readonly string[],
  pool?: IsolationPool,
): Promise<CliPlugin> {
  // Checked even when not isolated, so a wrong value never goes unnoticed.
  const memoryMiB = pluginMemoryIn(args);
  const registry = await registryWith(manifestsFrom(args));
  const entry = registry.get(name);
  if (!isolatedIn(args)) {
    const executor = inProcessExecutor(registry);
    const described = await executor.describe(entry.name);
    return { entry, described, executor, [Symbol.asyncDispose]: () => Promise.resolve() };
  }
  // Roles still run isolated (the params are validated in the plugin's process).
  const known = isBuiltin(entry) ? await builtinDescription(entry.name) : undefined;
  // One process for the description, the params check, the role and the summary.
  const trustFfi = trustFfiIn(args).map((m) => toSourceUrl(m).href);
  pool ??= new IsolationPool({ maxIdlePerPlugin: 1, memoryMiB, trustFfi });
  const executor = isolatedExecutor(registry, { pool });
  let described: PluginDescription;
  try {
    described = known ?? await executor.describe(entry.name);
  } catch (error) {
    await pool.close();
    throw error;
  }
  return { entry, described, executor, [Symbol.asyncDispose]: () => pool.close() };
}

/**
 * Describes a plugin for a command that runs no role of it (help, schema):
 * a built-in one in this process, any other in a process of its own when isolated.
 */
export async function describeOnly(
  registry: Registry,
  entry: ManifestEntry,
  isolated: boolean,
): Promise<PluginDescription> {
  if (!isolated) return await inProcessExecutor(registry).describe(entry.name);
  return isBuiltin(entry)
    ? await describeBuiltin(entry)
    : await isolatedExecutor(registry).describe(entry.name);
}

const BUILTIN = builtinRegistry();

/** Whether an entry's code is a built-in plugin's: this package's own module and export. */
function isBuiltin(entry: ManifestEntry): boolean {
  if (!BUILTIN.has(entry.name)) return false;
  const builtin = BUILTIN.get(entry.name);
  return builtin.module === entry.module && builtin.export === entry.export;
}

// Through the package's own registry, whatever loaders the caller's has.
async function describeBuiltin(entry: ManifestEntry): Promise<PluginDescription> {
  return describePlugin(await BUILTIN.load(entry.name));
}

/** One row of `wiretest plugins`. */
export interface PluginRow {
  name: string;
  roles: string[];
  permissions: string;
  description: string;
  module: string;
}

/** Lists plugins without importing them. */
export async function listPlugins(
  manifests: readonly string[],
  options: LoadManifestOptions = {},
): Promise<PluginRow[]> {
  return (await registryWith(manifests, options)).list().map((e: ManifestEntry) => ({
    name: e.name,
    roles: [...e.roles],
    permissions: formatPermissions(e.permissions),
    description: e.description,
    module: e.module,
  }));
}

function formatPermissions(p: PluginPermissions): string {
  const parts = Object.entries(p)
    .filter(([, v]) => v !== false && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => v === true ? k : `${k}=${(v as string[]).join(",")}`);
  return parts.length ? parts.join(" ") : "none";
}
