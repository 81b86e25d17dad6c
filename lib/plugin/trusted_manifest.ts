// wiretest's own manifest as a Manifest without validating it in every
// process: validating needs the schema library (zod, about 15 ms to import),
// and the file is this package's own. plugins/manifest_test.ts checks that
// validating it gives exactly this.
import type { Manifest, ManifestEntry } from "./manifest.ts";
import type { ManifestJson } from "./_manifest_schema.ts";
import { toEntry } from "./_manifest_entry.ts";

/**
 * A manifest known to be valid (wiretest's own, imported as JSON), as
 * {@linkcode Manifest}, without checking it.
 *
 * @param value The parsed manifest.
 * @param source Its URL; relative modules resolve against it.
 * @returns The manifest.
 */
export function trustedManifest(value: unknown, source: URL): Manifest {
  const json = value as ManifestJson;
  return {
    source: source.href,
    ...(json.$schema === undefined ? {} : { schema: json.$schema }),
    plugins: Object.entries(json.plugins).map(([name, entry]) =>
      toEntry(name, entry, source) as ManifestEntry
    ),
  };
}
