/**
 * Plugin manifests: JSON files that say which plugins exist, where their
 * modules are, which roles they have and which Deno permissions they need,
 * so a registry can list plugins without importing them.
 *
 * The format:
 *
 * ```json
 * {
 *   "$schema": "https://example.com/wiretest-manifest.schema.json",
 *   "plugins": {
 *     "echo": {
 *       "module": "./echo/mod.ts",
 *       "description": "Echo over TCP: round trips, verified byte for byte.",
 *       "roles": ["server", "client"],
 *       "apiVersion": 1,
 *       "permissions": { "net": true },
 *       "export": "default"
 *     }
 *   }
 * }
 * ```
 *
 * - Plugin names are kebab-case (`http-probe`); a name written twice is an error.
 * - `module` is a path relative to the manifest (`./`, `../`), or a `jsr:`,
 *   `npm:`, `https:`, `http:` or `file:` specifier. Bare names are refused.
 * - `description` is the plugin's own, word for word: it is here so plugins
 *   can be listed without running their code, and loading the module (with
 *   `Registry.load`) refuses a different one as a `ManifestError` at the field.
 * - `roles` is a non-empty subset of `"server"` and `"client"`, and must match
 *   the roles the plugin module really has.
 * - `apiVersion` is the plugin contract version (`PLUGIN_API_VERSION`)
 *   the plugin was written for; a plugin for another version is refused when
 *   it is loaded, not when the manifest is read, so one stale entry does not
 *   hide the others.
 * - `permissions` uses Deno's permission vocabulary, as a Worker's
 *   `deno.permissions` takes it (the plugin's process gets the matching
 *   `--allow-*` flags): `net`, `read`, `write`, `env` and `sys` are
 *   `true` (all), a list (only these) or `false`; `run` may only be `false`,
 *   `ffi` `false` or `["libc"]` (the C library, wherever it is on the system;
 *   granted only to built-in plugins or a manifest trusted for it). Anything not listed is denied. Write `{}` for a plugin that
 *   needs nothing. In a manifest file, `read` and `write` paths starting
 *   with `./` or `../` are relative to the manifest's directory.
 * - `export` names the module export holding the plugin (default `"default"`).
 * - Unknown fields are errors, so a misspelt permission is not silently dropped.
 *
 * `manifestJsonSchema()` gives the JSON Schema of this format, for `$schema`
 * and editor completion.
 *
 * @module
 */
import type { z } from "zod";
import { KNOWN_FIELDS, type ManifestJson, manifestSchema } from "./_manifest_schema.ts";
import {
  duplicateKeys,
  type JsonNode,
  jsonTree,
  lineColumn,
  locateJsonSyntaxError,
  locatePath,
} from "./_json_location.ts";
import { displaySource, toSourceUrl } from "../_internal/manifest_source.ts";
import { ManifestError, type ManifestIssue } from "./_manifest_error.ts";
import { toEntry } from "./_manifest_entry.ts";
import { rememberDescriptionAt } from "./_field_locations.ts";
import {
  DEFAULT_MANIFEST_TIMEOUT_MS,
  DEFAULT_MAX_MANIFEST_BYTES,
  isLoopbackUrl,
  readManifestText,
} from "./_read_manifest_text.ts";

export { ManifestError, type ManifestIssue };

/** A role a plugin can have. */
export type PluginRoleName = "server" | "client";

/**
 * The Deno permissions a plugin's process runs with, in the vocabulary of a
 * Worker's `deno.permissions` (all but `ffi` can be passed there as they
 * are; the process gets the matching `--allow-*` flags): `true`
 * grants all, a list grants only those hosts, paths, variable or API names,
 * `false` or a missing key grants none.
 */
export interface PluginPermissions {
  /** Hosts it may connect to or listen on (`"127.0.0.1"`, `"example.com:443"`). */
  readonly net?: string[] | boolean;
  /** Paths it may read. */
  readonly read?: string[] | boolean;
  /** Paths it may write. */
  readonly write?: string[] | boolean;
  /** Environment variables it may read. */
  readonly env?: string[] | boolean;
  /** System information APIs it may call (`"hostname"`, `"osRelease"`). */
  readonly sys?: string[] | boolean;
  /**
   * Paths it may neither read nor write, though under a `read` or `write`
   * grant. Set by the fixture runner when it confines a plugin to a
   * fixture's folders (`.git`, symlinks leading out); a manifest cannot set it.
   */
  readonly deny?: readonly string[];
  /** Always `false`: plugins may not run subprocesses. */
  readonly run?: false;
  /**
   * `["libc"]`: it may load the C library (the real path of the one this
   * process runs with) through FFI. FFI escapes every other permission, so
   * an isolated plugin gets it only from wiretest's built-in manifest or a
   * manifest the host trusts for it (`IsolationPoolOptions.trustFfi`);
   * `false` or absent: no native library.
   */
  readonly ffi?: false | readonly "libc"[];
}

/** One plugin of a {@linkcode Manifest}, its module resolved. */
export interface ManifestEntry {
  /** kebab-case plugin name. */
  readonly name: string;
  /** Absolute module specifier (`file:`, `https:`, `http:`, `jsr:` or `npm:`). */
  readonly module: string;
  /** One sentence: what protocol, which roles. */
  readonly description: string;
  /** The roles the plugin has. */
  readonly roles: readonly PluginRoleName[];
  /** The contract version the plugin was written for. */
  readonly apiVersion: number;
  /** The Deno permissions it runs with. */
  readonly permissions: PluginPermissions;
  /** The module export holding the plugin (`"default"` unless the manifest says otherwise). */
  readonly export: string;
  /** URL of the manifest that declared it. */
  readonly source: string;
}

/** A validated manifest. */
export interface Manifest {
  /** URL of the manifest file. */
  readonly source: string;
  /** The `$schema` it names, if any. */
  readonly schema?: string;
  /** Its plugins, in the order written. */
  readonly plugins: readonly ManifestEntry[];
  /**
   * SHA-256 of the manifest's bytes, in lowercase hex, when it was read by
   * {@linkcode loadManifest} (a plugins lock file approves manifests by it).
   */
  readonly sha256?: string;
}

/**
 * Parses and validates a manifest's text, resolving every relative `module`
 * against the manifest's own URL.
 *
 * @param text The JSON text.
 * @param source Where it came from: a path (relative to the working
 * directory) or a URL. Relative modules resolve against it.
 * @returns The manifest.
 * @throws {SyntaxError} When the text is not JSON; the message has the line and column.
 * @throws {ManifestError} When the JSON breaks the format.
 *
 * @example Resolving a relative module
 * ```ts
 * import { parseManifest } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const manifest = parseManifest(
 *   JSON.stringify({
 *     plugins: {
 *       greet: {
 *         module: "./greet/mod.ts",
 *         description: "Says hello over TCP.",
 *         roles: ["server", "client"],
 *         apiVersion: 1,
 *         permissions: { net: ["127.0.0.1"] },
 *       },
 *     },
 *   }),
 *   "file:///srv/plugins/manifest.json",
 * );
 * assert.equal(manifest.plugins[0].module, "file:///srv/plugins/greet/mod.ts");
 * assert.equal(manifest.plugins[0].export, "default");
 * ```
 *
 * @example A schema violation names file, plugin, field and line
 * ```ts
 * import { ManifestError, parseManifest } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const text = `{
 *   "plugins": {
 *     "echo": { "module": "./echo.ts", "description": "Echo.", "roles": [], "apiVersion": 1, "permissions": {} }
 *   }
 * }`;
 * assert.throws(() => parseManifest(text, "file:///m.json"), (err: unknown) => {
 *   assert.ok(err instanceof ManifestError);
 *   assert.match(err.message, /plugin "echo": "roles" must not be empty \(line 3, column \d+\)/);
 *   return true;
 * });
 * ```
 */
export function parseManifest(text: string, source: string | URL): Manifest {
  const url = toSourceUrl(source);
  // Locating problems walks the JSON recursively: refuse absurd nesting first.
  const deep = nestedTooDeep(text);
  if (deep !== undefined) {
    throw new ManifestError(url.href, [{
      path: [],
      message: `the manifest nests deeper than ${MAX_DEPTH} levels`,
      ...lineColumn(text, deep),
    }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const problem = locateJsonSyntaxError(text, error);
    const where = problem.at ? ` (line ${problem.at.line}, column ${problem.at.column})` : "";
    throw new SyntaxError(
      `Cannot load manifest "${displaySource(url)}": ${lowerFirst(problem.description)}${where}`,
      { cause: error },
    );
  }
  return buildManifest(value, url, text);
}

/**
 * Validates a manifest that is already parsed (e.g. imported with
 * `with { type: "json" }`). Without the text, problems carry no line numbers.
 *
 * @param value The parsed JSON.
 * @param source The manifest's path or URL; relative modules resolve against it.
 * @returns The manifest.
 * @throws {ManifestError} When the value breaks the format.
 *
 * @example Validating data imported as JSON
 * ```ts
 * import { validateManifest } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const manifest = validateManifest({
 *   plugins: {
 *     ping: {
 *       module: "jsr:@acme/ping@^1/plugin",
 *       description: "ICMP-less ping over UDP.",
 *       roles: ["client"],
 *       apiVersion: 1,
 *       permissions: { net: true },
 *     },
 *   },
 * }, "https://example.com/manifest.json");
 * assert.equal(manifest.plugins[0].module, "jsr:@acme/ping@^1/plugin");
 * ```
 */
export function validateManifest(value: unknown, source: string | URL): Manifest {
  return buildManifest(value, toSourceUrl(source), undefined);
}

/** Options for {@linkcode loadManifest}. */
export interface LoadManifestOptions {
  /** Cancels fetching a manifest served over HTTP. */
  signal?: AbortSignal;
  /**
   * Milliseconds fetching a manifest over HTTP may take, body included
   * (default {@linkcode DEFAULT_MANIFEST_TIMEOUT_MS}, 10 s).
   */
  timeout?: number;
  /** The largest manifest read, in bytes (default {@linkcode DEFAULT_MAX_MANIFEST_BYTES}, 1 MiB). */
  maxBytes?: number;
  /**
   * Read a manifest, and accept plugin modules, over plain `http:` beyond
   * loopback (default `false`: only `https:`, or `http:` to `localhost`,
   * `127.0.0.0/8` and `[::1]`).
   */
  allowHttp?: boolean;
}

export { DEFAULT_MANIFEST_TIMEOUT_MS, DEFAULT_MAX_MANIFEST_BYTES };

/**
 * Reads and validates a manifest file: a path, a `file:` URL, or an
 * `http:`/`https:` URL (fetched).
 *
 * A manifest grants permissions, so it is read as untrusted input: a file
 * must be a regular file (a FIFO or a device is refused unopened), of at
 * most `maxBytes`; a fetch ends after `timeout`, headers and body; plain
 * `http:`, for the manifest or a plugin module it names, is refused beyond
 * loopback unless `allowHttp`.
 *
 * @param source The manifest's path or URL.
 * @param options A signal, time and size limits, whether plain `http:` is allowed.
 * @returns The manifest.
 * @throws {Deno.errors.NotFound} When there is no such file (or the server answers 404).
 * @throws {Deno.errors.TimedOut} When a fetch takes longer than `timeout`.
 * @throws {RangeError} When it is larger than `maxBytes`.
 * @throws {SyntaxError} When it is not JSON.
 * @throws {ManifestError} When it breaks the format, or names an `http:` module not allowed.
 * @throws {TypeError} When it is not a regular file, or its URL cannot be read or is not allowed.
 *
 * @example A missing file names its path
 * ```ts
 * import { loadManifest } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   loadManifest("/nonexistent/manifest.json"),
 *   (err: unknown) => err instanceof Deno.errors.NotFound && err.message.includes("/nonexistent/manifest.json"),
 * );
 * ```
 *
 * @example Endless and remote plain-http manifests are refused
 * ```ts
 * import { loadManifest } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(loadManifest("/dev/zero"), {
 *   name: "InputFileError",
 *   message: 'Cannot load manifest "/dev/zero": it is a character device, not a regular file',
 * });
 * await assert.rejects(loadManifest("http://example.com/manifest.json"), {
 *   name: "TypeError",
 *   message: /plain http: is refused beyond loopback/,
 * });
 * ```
 */
export async function loadManifest(
  source: string | URL,
  options: LoadManifestOptions = {},
): Promise<Manifest> {
  const url = toSourceUrl(source);
  const bytes = await readManifestText(url, options);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const manifest = { ...parseManifest(new TextDecoder().decode(bytes), url), sha256 };
  if (!options.allowHttp) {
    const issues = manifest.plugins
      .filter((entry) => entry.module.startsWith("http:") && !isLoopbackUrl(new URL(entry.module)))
      .map((entry) => ({
        plugin: entry.name,
        path: ["plugins", entry.name, "module"],
        message: `plugin "${entry.name}": "module" ${
          JSON.stringify(entry.module)
        } is plain http: beyond loopback, refused unless allowed (--allow-http-plugins)`,
      }));
    if (issues.length > 0) throw new ManifestError(manifest.source, issues);
  }
  return manifest;
}

// A manifest nests 4 levels deep (plugins, entry, permissions, list).
const MAX_DEPTH = 64;

/** Offset of the bracket that opens level MAX_DEPTH + 1 (strings skipped), if any. */
function nestedTooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string: to the next quote that is not escaped.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) i++;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return undefined;
}

function buildManifest(value: unknown, url: URL, text: string | undefined): Manifest {
  const source = url.href;
  const tree = text === undefined ? undefined : jsonTree(text);
  const result = manifestSchema.safeParse(value, { reportInput: true });
  const issues = result.success ? [] : result.error.issues.flatMap((i) => toIssues(i));
  if (tree && text !== undefined) issues.push(...repeatedKeys(tree, text));
  if (issues.length > 0) {
    const located = tree && text !== undefined
      ? issues.map((issue) =>
        issue.line === undefined
          ? { ...issue, ...locatePath(tree, text, issue.path, issue.atKey) }
          : issue
      )
      : issues;
    located.sort((a, b) => ((a.line ?? 0) - (b.line ?? 0)) || ((a.column ?? 0) - (b.column ?? 0)));
    throw new ManifestError(
      source,
      located.map(({ atKey: _, ...issue }) => issue),
      { cause: result.success ? undefined : result.error },
    );
  }
  const json = (result as { data: ManifestJson }).data;
  return {
    source,
    ...(json.$schema === undefined ? {} : { schema: json.$schema }),
    plugins: Object.entries(json.plugins).map(([name, json]) => {
      const entry = toEntry(name, json, url);
      if (tree && text !== undefined) {
        rememberDescriptionAt(entry, locatePath(tree, text, ["plugins", name, "description"]));
      }
      return entry;
    }),
  };
}

type DraftIssue = ManifestIssue & { atKey?: boolean };

function toIssues(issue: z.core.$ZodIssue): DraftIssue[] {
  const path = issue.path.map((p) => typeof p === "number" ? p : String(p));
  if (issue.code === "unrecognized_keys") {
    const known = knownFields(path);
    return issue.keys.map((key) =>
      draft([...path], key, `is not a known field (known: ${known.join(", ")})`, true)
    );
  }
  if (issue.code === "invalid_key" && path.length === 2 && path[0] === "plugins") {
    return [{
      plugin: String(path[1]),
      path,
      message: `plugin name "${path[1]}" ${issue.issues[0]?.message ?? issue.message}`,
      atKey: true,
    }];
  }
  const field = path.at(-1);
  const parent = path.slice(0, -1);
  return [
    field === undefined
      ? draft([], undefined, describeIssue(issue))
      : draft(parent, field, describeIssue(issue)),
  ];
}

/** Builds an issue for `field` inside the object at `parent`, with plugin and field label. */
function draft(
  parent: (string | number)[],
  field: string | number | undefined,
  what: string,
  atKey = false,
): DraftIssue {
  const path = field === undefined ? parent : [...parent, field];
  const inPlugin = path[0] === "plugins" && path.length >= 2;
  const rest = inPlugin ? path.slice(2) : path;
  const label = rest.length === 0 ? (inPlugin ? "" : "the manifest ") : `"${formatPath(rest)}" `;
  const message = `${label}${what}`;
  return inPlugin
    ? { plugin: String(path[1]), path, message: `plugin "${path[1]}": ${message}`, atKey }
    : { path, message, atKey };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "is missing";
      if (issue.expected === "int") return "must be an integer";
      return `must be ${withArticle(issue.expected)}, not ${kindOf(issue.input)}`;
    }
    case "too_small":
      if (issue.origin === "array" || issue.origin === "string") return "must not be empty";
      return issue.minimum === 0 && !issue.inclusive
        ? "must be a positive number"
        : `must be at least ${issue.minimum}`;
    case "invalid_value":
      // A custom message (run/ffi) says why; the default one lists the values.
      return issue.values.length === 1 && issue.values[0] === false
        ? issue.message
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

function repeatedKeys(tree: JsonNode, text: string): DraftIssue[] {
  const found: DraftIssue[] = [];
  const walk = (node: JsonNode, path: (string | number)[]) => {
    if (node.type === "object") {
      for (const { key, offsets } of duplicateKeys(node)) {
        const first = lineColumn(text, offsets[0]);
        const again = `(first at line ${first.line}, column ${first.column})`;
        const issue = path.length === 1 && path[0] === "plugins"
          ? {
            plugin: key,
            path: [...path, key],
            message: `plugin "${key}" is defined twice ${again}`,
          }
          : draft(path, key, `is written twice ${again}`);
        found.push({ ...issue, ...lineColumn(text, offsets[1]) });
      }
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (keyNode && valueNode) walk(valueNode, [...path, keyNode.value]);
      }
    } else if (node.type === "array") {
      (node.children ?? []).forEach((child, i) => walk(child, [...path, i]));
    }
  };
  walk(tree, []);
  return found;
}

function knownFields(path: readonly (string | number)[]): readonly string[] {
  if (path.length === 0) return KNOWN_FIELDS.manifest;
  if (path.length === 2 && path[0] === "plugins") return KNOWN_FIELDS.entry;
  if (path.length === 3 && path[2] === "permissions") return KNOWN_FIELDS.permissions;
  return [];
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

function withArticle(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : withArticle(type);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
