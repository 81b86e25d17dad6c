// The error for a plugin that cannot be loaded, apart from registry.ts so
// the isolation host (which starts a plugin's process before anything else
// of the CLI loads) throws it without loading the registry and what the
// registry imports (Node's url and path modules among them).
import type { ManifestEntry } from "./manifest.ts";

/**
 * A plugin could not be loaded: its module is missing or fails to import,
 * exports no plugin, or the plugin does not match its manifest entry.
 *
 * @example Reading which plugin failed
 * ```ts
 * import { PluginLoadError } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const err = new PluginLoadError({ name: "x", module: "file:///x.ts" }, "module not found");
 * assert.ok(err instanceof TypeError);
 * assert.equal(err.message, 'Cannot load plugin "x" from "file:///x.ts": module not found');
 * assert.equal(err.plugin, "x");
 * ```
 */
export class PluginLoadError extends TypeError {
  /** The plugin's name. */
  readonly plugin: string;
  /** The module specifier it was loaded from. */
  readonly module: string;

  /**
   * Creates a load error.
   *
   * @param entry The plugin's name and module.
   * @param detail What went wrong.
   * @param options The cause.
   */
  constructor(
    entry: Pick<ManifestEntry, "name" | "module">,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`Cannot load plugin "${entry.name}" from "${entry.module}": ${detail}`, {
      cause: options.cause,
    });
    this.name = "PluginLoadError";
    this.plugin = entry.name;
    this.module = entry.module;
  }
}
