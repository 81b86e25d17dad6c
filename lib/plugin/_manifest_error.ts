// The manifest error and its issues, apart from manifest.ts so code that only
// throws or checks them (the registry, the drift check) does not load the
// manifest parser and its zod schema.
import { displaySource } from "../_internal/manifest_source.ts";

/** One problem in a manifest. */
export interface ManifestIssue {
  /** The plugin entry it is in, if any. */
  readonly plugin?: string;
  /** Path of the field in the manifest, e.g. `["plugins", "echo", "roles"]`. */
  readonly path: readonly (string | number)[];
  /** What is wrong, e.g. `plugin "echo": "roles" must not be empty`. */
  readonly message: string;
  /** Line of the field (from 1), when the manifest text is known. */
  readonly line?: number;
  /** Column of the field (from 1), when the manifest text is known. */
  readonly column?: number;
}

/**
 * A manifest that is valid JSON but breaks the format, or that clashes with
 * another manifest. The message names the file, the plugin, the field and,
 * when known, the line and column; `issues` has each problem apart.
 *
 * @example Reading the issues
 * ```ts
 * import { ManifestError } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const err = new ManifestError("file:///m.json", [
 *   { plugin: "echo", path: ["plugins", "echo", "roles"], message: 'plugin "echo": "roles" must not be empty' },
 * ]);
 * assert.ok(err instanceof TypeError);
 * assert.equal(err.message, 'Cannot load manifest "/m.json": plugin "echo": "roles" must not be empty');
 * ```
 */
export class ManifestError extends TypeError {
  /** URL of the manifest. */
  readonly source: string;
  /** Every problem found. */
  readonly issues: readonly ManifestIssue[];

  /**
   * Creates a manifest error.
   *
   * @param source URL of the manifest.
   * @param issues The problems, at least one.
   * @param options The cause.
   */
  constructor(source: string, issues: readonly ManifestIssue[], options: { cause?: unknown } = {}) {
    const detail = issues.map((issue) =>
      issue.line === undefined
        ? issue.message
        : `${issue.message} (line ${issue.line}, column ${issue.column})`
    ).join("; ");
    super(`Cannot load manifest "${displaySource(source)}": ${detail}`, { cause: options.cause });
    this.name = "ManifestError";
    this.source = source;
    this.issues = issues;
  }
}
