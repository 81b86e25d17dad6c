/**
 * {@linkcode Registry}: the plugins of one or more manifests, listed without
 * importing anything and loaded lazily, each checked against its entry.
 *
 * @module
 */
import type { Manifest, ManifestEntry } from "./manifest.ts";
import { ManifestError } from "./_manifest_error.ts";
import type { AnyPlugin } from "./types.ts";
import { closestName } from "../_internal/closest.ts";
import { apiVersionProblem, pluginOf } from "./_isolation_checks.ts";
import { displaySource } from "../_internal/manifest_source.ts";
import { descriptionDrift } from "./_manifest_drift.ts";
import { PluginLoadError } from "./_plugin_load_error.ts";

export { PluginLoadError } from "./_plugin_load_error.ts";

/** Options for a {@linkcode Registry}. */
export interface RegistryOptions {
  /**
   * Let a later manifest replace a plugin of the same name from an earlier
   * one (e.g. a patched `echo`). Default `false`: a name defined by two
   * manifests is an error naming both, so a third-party manifest cannot
   * shadow a built-in plugin by accident.
   */
  override?: boolean;
  /**
   * Loaders by absolute module specifier, called instead of
   * `import(specifier)`. Bundlers and `deno compile` only include modules
   * they can see: a loader written as `() => import("./x/mod.ts")` makes the
   * module visible to them. The built-in registry uses this for its plugins.
   */
  modules?: Readonly<Record<string, () => Promise<unknown>>>;
}

/**
 * No plugin has the name asked for. The message lists the known names and,
 * for a likely typo, the closest one.
 *
 * @example Suggesting a name
 * ```ts
 * import { UnknownPluginError } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const err = new UnknownPluginError("ecoh", ["echo", "udp-ping"]);
 * assert.equal(err.suggestion, "echo");
 * assert.equal(err.message, 'Cannot find plugin "ecoh": did you mean "echo"? Known plugins: "echo", "udp-ping"');
 * ```
 */
export class UnknownPluginError extends TypeError {
  /** The name asked for. */
  readonly plugin: string;
  /** The names that exist, sorted. */
  readonly known: readonly string[];
  /** The closest known name, when one is close enough to be a typo. */
  readonly suggestion?: string;

  /**
   * Creates the error.
   *
   * @param plugin The name asked for.
   * @param known The names that exist.
   */
  constructor(plugin: string, known: Iterable<string>) {
    const names = [...known].sort();
    const suggestion = closestName(plugin, names);
    const list = names.map((n) => `"${n}"`).join(", ");
    const detail = names.length === 0
      ? "no plugins are registered"
      : suggestion === undefined
      ? `known plugins: ${list}`
      : `did you mean "${suggestion}"? Known plugins: ${list}`;
    super(`Cannot find plugin "${plugin}": ${detail}`);
    this.name = "UnknownPluginError";
    this.plugin = plugin;
    this.known = names;
    if (suggestion !== undefined) this.suggestion = suggestion;
  }
}

/**
 * The plugins of one or more manifests. Later manifests add plugins; a name
 * defined twice is an error unless {@linkcode RegistryOptions.override} is
 * set. Listing imports nothing; {@linkcode Registry.load} imports a plugin's
 * module on first use, checks it against its entry, and caches it.
 *
 * A registry never changes: {@linkcode Registry.withManifests} returns a new one.
 *
 * @example Listing the built-in plugins without importing them
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const registry = builtinRegistry();
 * const echo = registry.get("echo");
 * assert.deepEqual(echo.roles, ["server", "client"]);
 * assert.ok(echo.module.endsWith("/plugins/echo/mod.ts"));
 * ```
 */
export class Registry {
  /** The manifests, in the order they were added. */
  readonly manifests: readonly Manifest[];
  #entries = new Map<string, ManifestEntry>();
  #options: RegistryOptions;
  #loading = new Map<string, Promise<AnyPlugin>>();

  /**
   * Builds a registry from manifests.
   *
   * @param manifests Manifests from {@linkcode loadManifest} or {@linkcode parseManifest}.
   * @param options Whether later manifests may override, and module loaders.
   * @throws {ManifestError} When two manifests define the same name without `override`.
   */
  constructor(manifests: readonly Manifest[] = [], options: RegistryOptions = {}) {
    this.manifests = [...manifests];
    this.#options = { ...options };
    for (const manifest of manifests) {
      for (const entry of manifest.plugins) {
        const earlier = this.#entries.get(entry.name);
        // The same manifest named twice (`--plugins m.json` and a fixture's
        // `plugins: [m.json]`) defines the same plugin, not a second one.
        if (earlier && sameEntry(earlier, entry)) continue;
        if (earlier && !options.override) {
          throw new ManifestError(manifest.source, [{
            plugin: entry.name,
            path: ["plugins", entry.name],
            message: `plugin "${entry.name}" is already defined by "${
              displaySource(earlier.source)
            }" (set the override option to replace it)`,
          }]);
        }
        this.#entries.set(entry.name, entry);
      }
    }
  }

  /**
   * A new registry with more manifests after this one's, and the same options.
   *
   * @param sources Paths or URLs of manifest files (read with {@linkcode loadManifest}),
   * or manifests already parsed.
   * @returns The new registry.
   * @throws {ManifestError} When a manifest is invalid or redefines a name without `override`.
   *
   * @example Merging a manifest file
   * ```ts
   * import { builtinRegistry } from "@wiretest/wiretest/host";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/manifest.json`;
   * await Deno.writeTextFile(path, JSON.stringify({
   *   plugins: {
   *     greet: {
   *       module: "./greet.ts",
   *       description: "Says hello.",
   *       roles: ["client"],
   *       apiVersion: 1,
   *       permissions: {},
   *     },
   *   },
   * }));
   * const registry = await builtinRegistry().withManifests(path);
   * assert.ok(registry.get("greet").module.endsWith("/greet.ts"));
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async withManifests(...sources: (string | URL | Manifest)[]): Promise<Registry> {
    // The parser (and its schema library) loads only when a file is named.
    const parse = sources.some((source) => typeof source === "string" || source instanceof URL)
      ? (await import("./manifest.ts")).loadManifest
      : undefined;
    const added = await Promise.all(
      sources.map((source) =>
        typeof source === "string" || source instanceof URL ? parse!(source) : source
      ),
    );
    return new Registry([...this.manifests, ...added], this.#options);
  }

  /**
   * Tells whether a plugin is registered.
   *
   * @param name The plugin name.
   * @returns `true` when it is.
   *
   * @example Checking a name
   * ```ts
   * import { builtinRegistry } from "@wiretest/wiretest/host";
   * import assert from "node:assert/strict";
   *
   * assert.equal(builtinRegistry().has("udp-ping"), true);
   * assert.equal(builtinRegistry().has("gopher"), false);
   * ```
   */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /**
   * The manifest entry of a plugin, without importing it.
   *
   * @param name The plugin name.
   * @returns Its entry: module, description, roles, permissions, source manifest.
   * @throws {UnknownPluginError} When no plugin has that name.
   *
   * @example A typo gets a suggestion
   * ```ts
   * import { builtinRegistry } from "@wiretest/wiretest/host";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => builtinRegistry().get("udp-pnig"), /did you mean "udp-ping"\?/);
   * ```
   */
  get(name: string): ManifestEntry {
    const entry = this.#entries.get(name);
    if (!entry) throw new UnknownPluginError(name, this.#entries.keys());
    return entry;
  }

  /**
   * Every registered plugin's entry, in the order the manifests define
   * them. Imports nothing.
   *
   * @returns The entries.
   *
   * @example Names of the built-in plugins
   * ```ts
   * import { builtinRegistry } from "@wiretest/wiretest/host";
   * import assert from "node:assert/strict";
   *
   * const names = builtinRegistry().list().map((entry) => entry.name);
   * assert.deepEqual(names, ["echo", "http-probe", "udp-ping", "file-send", "proxy"]);
   * ```
   */
  list(): ManifestEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * Imports a plugin's module (once; later calls get the same plugin) and
   * checks that it exports a plugin whose name, roles and contract version
   * match the manifest entry.
   *
   * @param name The plugin name.
   * @returns The plugin, ready for `runClient`/`startServer`.
   * @throws {UnknownPluginError} When no plugin has that name.
   * @throws {PluginLoadError} When the module is missing, fails to import,
   * exports no plugin, or the plugin does not match its entry (name, roles,
   * API version).
   * @throws {ManifestError} When the entry's `description` differs from the
   * plugin's (located at the manifest's field when its text was read).
   *
   * @example Loading a built-in plugin
   * ```ts
   * import { builtinRegistry } from "@wiretest/wiretest/host";
   * import assert from "node:assert/strict";
   *
   * const echo = await builtinRegistry().load("echo");
   * assert.equal(echo.name, "echo");
   * assert.ok(echo.client && echo.server);
   * ```
   */
  async load(name: string): Promise<AnyPlugin> {
    const entry = this.get(name);
    let pending = this.#loading.get(name);
    if (!pending) {
      pending = this.#import(entry);
      this.#loading.set(name, pending);
      const settled = pending;
      // A failed load is not cached: the file may be fixed and tried again.
      settled.catch(() => {
        if (this.#loading.get(name) === settled) this.#loading.delete(name);
      });
    }
    return await pending;
  }

  async #import(entry: ManifestEntry): Promise<AnyPlugin> {
    // Checked before importing: a module for another contract may not even load.
    const versionProblem = apiVersionProblem(entry);
    if (versionProblem) throw new PluginLoadError(entry, versionProblem);
    const loader = this.#options.modules?.[entry.module] ?? (() => import(entry.module));
    let namespace: unknown;
    try {
      namespace = await loader();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const detail = /^Module not found/.test(message)
        ? "module not found"
        : `module failed to import: ${message}`;
      throw new PluginLoadError(entry, detail, { cause: error });
    }
    // The isolated runtime checks with the same function.
    const plugin = pluginOf(entry, namespace, (detail) => new PluginLoadError(entry, detail));
    const drift = descriptionDrift(entry, plugin);
    if (drift) throw drift;
    return plugin;
  }
}

/** Whether two entries come from the same manifest file and say the same. */
function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.source === b.source && JSON.stringify(a) === JSON.stringify(b);
}
