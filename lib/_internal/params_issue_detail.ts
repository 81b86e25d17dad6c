/**
 * How a plugin params problem reads after the quoted field, the same in a
 * fixture's `with:` and an exporter module's: `"steps[0].with.count" is
 * invalid for plugin "echo": expected number, received string`.
 *
 * @module
 */

/** The parts of a params issue the wording needs (a `ParamsIssue`). */
export interface ParamsIssueLike {
  /** What is wrong, as the schema says it. */
  readonly message: string;
  /** `"unknown_param"` or `"missing_param"` when known. */
  readonly code?: string;
  /** For an unknown param, the name it most likely meant. */
  readonly suggestion?: string;
}

/**
 * The words after the quoted field.
 *
 * @param plugin The plugin's name.
 * @param issue The issue.
 * @returns For example `is not a param of plugin "echo" (did you mean "count"?)`.
 */
export function paramsIssueDetail(plugin: string, issue: ParamsIssueLike): string {
  const named = `plugin "${plugin}"`;
  if (issue.code === "unknown_param") {
    const hint = issue.suggestion === undefined ? "" : ` (did you mean "${issue.suggestion}"?)`;
    return `is not a param of ${named}${hint}`;
  }
  if (issue.code === "missing_param") return `is required by ${named}`;
  return `is invalid for ${named}: ${issue.message.charAt(0).toLowerCase()}${
    issue.message.slice(1)
  }`;
}
