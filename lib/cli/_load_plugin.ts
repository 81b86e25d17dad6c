// The CLI's view of the registry: built-in plugins plus any `--plugins`
// manifests named on the command line.
import type { ManifestEntry, PluginPermissions } from "../plugin/manifest.ts";
import { Registry } from "../plugin/registry.ts";
import type { AnyPlugin } from "../plugin/types.ts";

/** The built-in registry merged with extra manifests (paths relative to the working directory). */
export async function registryWith(manifests: readonly string[]): Promise<Registry> {
  const builtin = Registry.builtin();
  if (manifests.length === 0) return builtin;
  const cwd = `file://${Deno.cwd()}/`;
  return await builtin.withManifests(...manifests.map((m) => new URL(m, cwd)));
}

/**
 * Loads one plugin by name, with its manifest entry. The CLI reads the
 * plugin's params schema and summary in-process (to build flags and print);
 * its roles run in a Worker limited to the entry's permissions.
 */
export async function loadPlugin(
  name: string,
  manifests: readonly string[],
): Promise<{ plugin: AnyPlugin; entry: ManifestEntry }> {
  const registry = await registryWith(manifests);
  const plugin = await registry.load(name);
  return { plugin, entry: registry.get(name) };
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
export async function listPlugins(manifests: readonly string[]): Promise<PluginRow[]> {
  return (await registryWith(manifests)).list().map((e: ManifestEntry) => ({
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

/** The `--plugins` values in an argument list (read before the plugin's flags are known). */
export function manifestsFrom(args: readonly string[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === "--plugins" && args[i + 1]) out.push(args[i + 1]);
    else if (a.startsWith("--plugins=")) out.push(a.slice("--plugins=".length));
  });
  return out;
}
