// Where a manifest entry's fields are written, kept beside the entry (a
// WeakMap on the entry object) so the public ManifestEntry stays as it is.
// Its own file: manifest.ts records, _manifest_drift.ts reads, no cycle.

/** Line and column (from 1) of a field in the manifest text. */
export interface FieldLocation {
  readonly line: number;
  readonly column: number;
}

const descriptionAt = new WeakMap<object, FieldLocation>();

/** Remembers where an entry's `description` is written, when the manifest text is known. */
export function rememberDescriptionAt(entry: object, at: FieldLocation | undefined): void {
  if (at !== undefined) descriptionAt.set(entry, at);
}

/** Where an entry's `description` is written, if known. */
export function descriptionLocation(entry: object): FieldLocation | undefined {
  return descriptionAt.get(entry);
}
