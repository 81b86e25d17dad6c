/**
 * {@linkcode PluginMemoryError}: an isolated plugin's process went over its
 * memory ceiling and was ended.
 *
 * @module
 */

/** What {@linkcode PluginMemoryError} is built from. */
export interface PluginMemoryErrorOptions {
  /** The plugin's name. */
  plugin: string;
  /** The ceiling, MiB. */
  limitMiB: number;
  /** `"rss"`: its resident memory went over; `"heap"`: V8 ran out of heap. */
  kind: "rss" | "heap";
  /** Resident memory last seen, MiB, when the watchdog saw it. */
  rssMiB?: number;
}

/**
 * An isolated plugin's process used more memory than its ceiling (see
 * `IsolationPoolOptions.memoryMiB`), so it was ended: the role it ran fails
 * with this error, the run goes on and its report is written.
 *
 * @example The message names the plugin and the ceiling
 * ```ts
 * import { PluginMemoryError } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const error = new PluginMemoryError({ plugin: "hog", limitMiB: 256, kind: "rss", rssMiB: 300 });
 * assert.ok(error instanceof RangeError);
 * assert.equal(
 *   error.message,
 *   'Cannot run plugin "hog": its process went over its memory ceiling of 256 MiB (resident memory 300 MiB), so it was killed',
 * );
 * ```
 */
export class PluginMemoryError extends RangeError {
  /** The plugin's name. */
  readonly plugin: string;
  /** The ceiling, MiB. */
  readonly limitMiB: number;
  /** Which limit it hit. */
  readonly kind: "rss" | "heap";

  /**
   * Creates the error.
   *
   * @param options The plugin, its ceiling and which limit it hit.
   */
  constructor(options: PluginMemoryErrorOptions) {
    const seen = options.kind === "heap"
      ? "V8 ran out of heap"
      : `resident memory ${Math.round(options.rssMiB ?? options.limitMiB)} MiB`;
    super(
      `Cannot run plugin "${options.plugin}": its process went over its memory ceiling of ${options.limitMiB} MiB (${seen}), so it was killed`,
    );
    this.name = "PluginMemoryError";
    this.plugin = options.plugin;
    this.limitMiB = options.limitMiB;
    this.kind = options.kind;
  }
}
