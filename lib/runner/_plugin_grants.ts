/**
 * What the plugins not built in may do, for the run's header: each plugin
 * of a `--plugins` manifest or of a fixture's `plugins:`, with its grants.
 *
 * @module
 */
import type { Manifest } from "../plugin/manifest.ts";
import { displaySource } from "../_internal/manifest_source.ts";
import type { PluginGrant } from "./events.ts";

/**
 * The grants of the plugins of `--plugins` manifests and of each fixture's.
 *
 * @param runManifests The manifests every fixture has.
 * @param fixtureManifests Per fixture file, the manifests its `plugins:` added.
 * @returns One grant per plugin and manifest, in the order first seen.
 */
export function pluginGrants(
  runManifests: readonly Manifest[],
  fixtureManifests: readonly { file: string; manifests: readonly Manifest[] }[],
): PluginGrant[] {
  const grants = new Map<string, PluginGrant>();
  const add = (manifest: Manifest, fixture: string | undefined) => {
    for (const entry of manifest.plugins) {
      const key = `${manifest.source}\n${entry.name}`;
      let grant = grants.get(key);
      if (!grant) {
        const permissions: PluginGrant["permissions"] = Object.create(null);
        for (const [kind, value] of Object.entries(entry.permissions)) {
          if (value === true) permissions[kind] = true;
          else if (Array.isArray(value) && value.length > 0) permissions[kind] = [...value];
        }
        grant = {
          name: entry.name,
          manifest: displaySource(manifest.source),
          module: entry.module,
          ...(manifest.sha256 === undefined ? {} : { sha256: manifest.sha256 }),
          permissions: { ...permissions },
          ...(fixture === undefined ? {} : { fixtures: [] }),
        };
        grants.set(key, grant);
      }
      if (fixture !== undefined && grant.fixtures && !grant.fixtures.includes(fixture)) {
        grant.fixtures.push(fixture);
      }
    }
  };
  for (const manifest of runManifests) add(manifest, undefined);
  for (const { file, manifests } of fixtureManifests) {
    for (const manifest of manifests) add(manifest, file);
  }
  return [...grants.values()];
}
