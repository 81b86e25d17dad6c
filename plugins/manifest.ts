/**
 * The built-in manifest as modules see it. `manifest.json` is imported as a
 * JSON module rather than read from disk, so it works the same from a
 * checkout (`file:`), from JSR (`https:`) and in `deno compile` binaries, and
 * needs no read permission. Each plugin module gets a loader written as a
 * literal `import("./…")`: Deno and JSR see those specifiers, so the modules
 * ship with the package and resolve inside it, yet none is evaluated before
 * its loader is called.
 *
 * @module
 */
import data from "./manifest.json" with { type: "json" };

/** URL of `manifest.json`; its relative `module` paths resolve against it. */
export const builtinManifestUrl: string = new URL("./manifest.json", import.meta.url).href;

/** The parsed `manifest.json`, not yet validated. */
export const builtinManifestData: unknown = data;

/** A loader for each built-in module, keyed by the `module` path written in `manifest.json`. */
export const builtinModules: Readonly<Record<string, () => Promise<unknown>>> = {
  "./echo/mod.ts": () => import("./echo/mod.ts"),
  "./http_probe/mod.ts": () => import("./http_probe/mod.ts"),
  "./udp_ping/mod.ts": () => import("./udp_ping/mod.ts"),
  "./file_send/mod.ts": () => import("./file_send/mod.ts"),
};
