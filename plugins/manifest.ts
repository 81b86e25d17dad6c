/**
 * The built-in manifest as modules see it. `manifest.json` is imported as a
 * JSON module rather than read from disk, so it works the same from a
 * checkout (`file:`), from JSR (`https:`) and in `deno compile` binaries, and
 * needs no read permission. Each plugin module gets a loader written as a
 * literal `import("./…")`: Deno and JSR see those specifiers, so the modules
 * ship with the package and resolve inside it, yet none is evaluated before
 * its loader is called.
 *
 * This module sits above the plugin contract (`lib/plugin/`): the contract's
 * {@linkcode Registry} knows no plugin, and hosts (the runner, the CLI,
 * `testing`) start from {@linkcode builtinRegistry}.
 *
 * @module
 */
import { builtinManifest, builtinManifestUrl } from "./builtin_manifest.ts";
import { Registry, type RegistryOptions } from "../lib/plugin/registry.ts";

export { builtinManifestData, builtinManifestUrl } from "./builtin_manifest.ts";

/** A loader for each built-in module, keyed by the `module` path written in `manifest.json`. */
export const builtinModules: Readonly<Record<string, () => Promise<unknown>>> = {
  "./echo/mod.ts": () => import("./echo/mod.ts"),
  "./http_probe/mod.ts": () => import("./http_probe/mod.ts"),
  "./udp_ping/mod.ts": () => import("./udp_ping/mod.ts"),
  "./file_send/mod.ts": () => import("./file_send/mod.ts"),
  "./proxy/mod.ts": () => import("./proxy/mod.ts"),
};

/**
 * The registry of wiretest's built-in plugins (`plugins/manifest.json`).
 *
 * @param options Options; `modules` adds to the built-in loaders.
 * @returns The registry.
 *
 * @example Adding a third-party manifest
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { validateManifest } from "../lib/plugin/manifest.ts";
 * import assert from "node:assert/strict";
 *
 * const extra = validateManifest({
 *   plugins: {
 *     smtp: {
 *       module: "jsr:@acme/wiretest-smtp@^1",
 *       description: "SMTP client and server.",
 *       roles: ["server", "client"],
 *       apiVersion: 1,
 *       permissions: { net: true },
 *     },
 *   },
 * }, "https://example.com/manifest.json");
 * const registry = await builtinRegistry().withManifests(extra);
 * assert.ok(registry.has("smtp") && registry.has("echo"));
 * ```
 */
export function builtinRegistry(options: RegistryOptions = {}): Registry {
  const manifest = builtinManifest();
  const modules: Record<string, () => Promise<unknown>> = {};
  for (const [path, loader] of Object.entries(builtinModules)) {
    modules[new URL(path, builtinManifestUrl).href] = loader;
  }
  return new Registry([manifest], { ...options, modules: { ...modules, ...options.modules } });
}
