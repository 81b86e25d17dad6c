/**
 * The built-in manifest, without the registry and without the plugins'
 * loaders: what the CLI needs to start a built-in plugin's process
 * before it loads anything else (lib/cli/_early_plugin.ts). Every literal
 * `import()` a module holds makes Deno walk that module's graph when the
 * module is imported, so the loaders (and the graphs of every plugin, zod
 * and Node's modules among them) stay in `manifest.ts`, which builds the
 * registry from these same entries.
 *
 * @module
 */
import data from "./manifest.json" with { type: "json" };
import type { Manifest } from "../lib/plugin/manifest.ts";
import { trustedManifest } from "../lib/plugin/trusted_manifest.ts";

/** URL of `manifest.json`; its relative `module` paths resolve against it. */
export const builtinManifestUrl: string = new URL("./manifest.json", import.meta.url).href;

/** The parsed `manifest.json`, not yet validated. */
export const builtinManifestData: unknown = data;

/**
 * The built-in manifest, entries resolved. Not validated: it is this
 * package's own file, and a test checks that it validates to exactly this
 * (the schema library would cost every command about 15 ms).
 *
 * @returns A new copy of the manifest.
 *
 * @example The entry of a built-in plugin
 * ```ts
 * import { builtinManifest } from "./builtin_manifest.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = builtinManifest().plugins.find((entry) => entry.name === "echo");
 * assert.ok(echo?.module.endsWith("/plugins/echo/mod.ts"));
 * ```
 */
export function builtinManifest(): Manifest {
  return trustedManifest(data, new URL(builtinManifestUrl));
}
