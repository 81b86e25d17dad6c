// A manifest's plugin entry with its module and relative grants resolved:
// what a validated manifest's entries become (manifest.ts), and what
// wiretest's own manifest's become without being validated again in every
// process (trusted_manifest.ts). It imports nothing from manifest.ts, whose
// ManifestEntry this shape is, so that neither needs the other's imports.
import type { EntryJson } from "./_manifest_schema.ts";

/** An entry as manifest.ts's `ManifestEntry` has it. */
export interface ResolvedEntry {
  readonly name: string;
  readonly module: string;
  readonly description: string;
  readonly roles: readonly EntryJson["roles"][number][];
  readonly apiVersion: number;
  readonly permissions: Readonly<Record<string, unknown>>;
  readonly export: string;
  readonly source: string;
}

/** One validated entry of the manifest at `url`, resolved. */
export function toEntry(name: string, entry: EntryJson, url: URL): ResolvedEntry {
  return {
    name,
    module: resolveModule(entry.module, url),
    description: entry.description,
    roles: [...entry.roles],
    apiVersion: entry.apiVersion,
    // Copies, so a caller that edits one entry's lists cannot change another registry's.
    permissions: Object.fromEntries(
      Object.entries(entry.permissions).map((
        [k, v],
      ) => [k, Array.isArray(v) ? v.map((item) => resolveGrant(k, item, url)) : v]),
    ),
    export: entry.export ?? "default",
    source: url.href,
  };
}

// A relative read/write path in a file manifest means relative to the
// manifest, like its module paths, not to whatever directory wiretest runs in.
function resolveGrant(kind: string, item: string, base: URL): string {
  if ((kind !== "read" && kind !== "write") || base.protocol !== "file:") return item;
  if (!item.startsWith("./") && !item.startsWith("../") && item !== ".") return item;
  return decodeURIComponent(new URL(item, base).pathname).replace(/(.)\/$/, "$1");
}

function resolveModule(module: string, base: URL): string {
  if (module.startsWith("./") || module.startsWith("../")) return new URL(module, base).href;
  // jsr: and npm: are not hierarchical URLs: keep them exactly as written.
  return /^(jsr|npm):/i.test(module) ? module : new URL(module).href;
}
