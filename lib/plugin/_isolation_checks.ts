// The checks a plugin module must pass against its manifest entry, for the
// isolated runtime: the same as Registry.load's, without importing the
// registry, whose manifest parsing (zod schemas, jsonc-parser, node:path)
// would cost every process about 5 MiB it never uses.
import { isPlugin } from "./define_plugin.ts";
import type { ManifestEntry } from "./manifest.ts";
import { type AnyPlugin, PLUGIN_API_VERSION } from "./types.ts";

/**
 * An error shaped like `PluginLoadError` (name, message, `plugin`, `module`):
 * across the process boundary it is rebuilt as a real one.
 */
export function loadFailure(entry: Pick<ManifestEntry, "name" | "module">, detail: string): Error {
  const error = new TypeError(
    `Cannot load plugin "${entry.name}" from "${entry.module}": ${detail}`,
  );
  error.name = "PluginLoadError";
  return Object.assign(error, { plugin: entry.name, module: entry.module });
}

/** The detail of an entry written for another contract version, or `undefined`. */
export function apiVersionProblem(entry: ManifestEntry): string | undefined {
  return entry.apiVersion === PLUGIN_API_VERSION
    ? undefined
    : `it needs plugin API version ${entry.apiVersion}, this wiretest provides version ${PLUGIN_API_VERSION}`;
}

/**
 * The plugin a module exports for its entry.
 *
 * @param fail Makes the error for a detail (default: {@linkcode loadFailure}'s;
 * the registry, which has the class, could pass `new PluginLoadError(entry, detail)`).
 * @throws {Error} Named `PluginLoadError` when the export is not a plugin, or
 * its name, roles or contract version differ from the entry's.
 */
export function pluginOf(
  entry: ManifestEntry,
  namespace: unknown,
  fail: (detail: string) => Error = (detail) => loadFailure(entry, detail),
): AnyPlugin {
  const versionProblem = apiVersionProblem(entry);
  if (versionProblem) throw fail(versionProblem);
  const exported = typeof namespace === "object" && namespace !== null
    ? (namespace as Record<string, unknown>)[entry.export]
    : undefined;
  if (!isPlugin(exported)) {
    const which = entry.export === "default" ? "default export" : `export "${entry.export}"`;
    const found = exported === undefined ? "" : ` (its ${which} is ${describe(exported)})`;
    throw fail(`module has no ${which} that is a plugin${found}`);
  }
  if (exported.apiVersion !== PLUGIN_API_VERSION) {
    throw fail(
      `the plugin was written for plugin API version ${exported.apiVersion}, this wiretest provides version ${PLUGIN_API_VERSION}`,
    );
  }
  if (exported.name !== entry.name) {
    throw fail(
      `the module's plugin is named "${exported.name}", but the manifest names it "${entry.name}"`,
    );
  }
  const roles = (["server", "client"] as const).filter((role) => exported[role] !== undefined);
  if (roles.length !== entry.roles.length || !roles.every((r) => entry.roles.includes(r))) {
    throw fail(
      `the manifest declares roles ${quoteAll(entry.roles)}, but the plugin has ${quoteAll(roles)}`,
    );
  }
  return exported;
}

function quoteAll(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object that does not meet the plugin contract";
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}
