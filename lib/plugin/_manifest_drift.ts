// A manifest entry repeats what its plugin module says of itself (the
// description, so `wiretest plugins` can list plugins without running their
// code). When the module is loaded, the two are compared: a drift is a
// manifest error at the manifest's field, not a silent difference between
// what `wiretest plugins` and `wiretest <plugin> --help` say.
import type { ManifestEntry } from "./manifest.ts";
import { ManifestError } from "./_manifest_error.ts";
import { descriptionLocation } from "./_field_locations.ts";

/**
 * The manifest error for an entry whose `description` differs from its
 * plugin's, or `undefined` when they agree. `plugin` is the loaded plugin
 * (in process) or the description its process sent (isolated): both paths
 * compare the same way.
 */
export function descriptionDrift(
  entry: ManifestEntry,
  plugin: { readonly description: string },
): ManifestError | undefined {
  if (plugin.description === entry.description) return undefined;
  const at = descriptionLocation(entry);
  return new ManifestError(entry.source, [{
    plugin: entry.name,
    path: ["plugins", entry.name, "description"],
    message: `plugin "${entry.name}": "description" is ${JSON.stringify(entry.description)}, ` +
      `but the module's plugin says ${JSON.stringify(plugin.description)}`,
    ...(at === undefined ? {} : { line: at.line, column: at.column }),
  }]);
}
