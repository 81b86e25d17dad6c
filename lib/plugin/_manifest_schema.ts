/**
 * The zod schema of a manifest file, as written (module specifiers not yet
 * resolved). Messages are built from its issues in `manifest.ts`.
 *
 * @module
 */
import { z } from "zod";
import { PLUGIN_NAME } from "./plugin_name.ts";

/** The roles a plugin can have. */
export const ROLES = ["server", "client"] as const;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Fields each object of the format knows, for "unknown field" messages. */
export const KNOWN_FIELDS = {
  manifest: ["$schema", "plugins"],
  entry: ["module", "description", "roles", "apiVersion", "permissions", "export"],
  permissions: ["net", "read", "write", "env", "sys", "run", "ffi"],
} as const;

/** Schemes a `module` may use besides a relative path. */
export const MODULE_SCHEMES = ["jsr:", "npm:", "https:", "http:", "file:"] as const;

/** Permissions as a manifest file writes them. */
export interface PermissionsJson {
  net?: string[] | boolean;
  read?: string[] | boolean;
  write?: string[] | boolean;
  env?: string[] | boolean;
  sys?: string[] | boolean;
  run?: false;
  ffi?: false | ["libc"];
}

/** One plugin entry as a manifest file writes it. */
export interface EntryJson {
  module: string;
  description: string;
  roles: ("server" | "client")[];
  apiVersion: number;
  permissions: PermissionsJson;
  export?: string;
}

/** A manifest file as written. */
export interface ManifestJson {
  $schema?: string;
  plugins: Record<string, EntryJson>;
}

const grant = (items: string) =>
  z.union([z.boolean(), z.array(z.string().min(1))], {
    error: `must be true, false or a list of ${items}`,
  }).describe(`true grants all, a list grants only these ${items}, false or absent grants none`);

const never = (what: string) =>
  z.literal(false, { error: `must be false: plugins may not ${what}` }).describe(
    `Always false: plugins may not ${what}.`,
  );

const permissions = z.strictObject({
  net: grant('hosts ("127.0.0.1", "example.com:443")').optional(),
  read: grant("paths").optional(),
  write: grant("paths").optional(),
  env: grant("environment variable names").optional(),
  sys: grant('system API names ("hostname", "osRelease")').optional(),
  run: never("run subprocesses").optional(),
  ffi: z.union([z.literal(false), z.tuple([z.literal("libc")])], {
    error: 'must be false or ["libc"]: the C library is the only native library a plugin may load',
  }).optional().describe(
    'false, or ["libc"]: load the C library (its real path on this system) through FFI, which escapes every other permission; only built-in plugins get it unless their manifest is trusted for it.',
  ),
}).describe(
  "Deno permissions the plugin runs with (in a process of its own); anything not listed is denied.",
);

/** Checks a `module` value; returns what is wrong, or `undefined`. */
export function moduleProblem(module: string): string | undefined {
  if (module.startsWith("./") || module.startsWith("../")) return undefined;
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(module)?.[0].toLowerCase();
  if (scheme && (MODULE_SCHEMES as readonly string[]).includes(scheme)) {
    if (module.length === scheme.length) return `must name a module after "${scheme}"`;
    // jsr: and npm: specifiers are not URLs; the other schemes must parse as one.
    if (scheme !== "jsr:" && scheme !== "npm:" && !URL.canParse(module)) {
      return `must be a valid URL, not "${module}"`;
    }
    return undefined;
  }
  const schemes = `${MODULE_SCHEMES.slice(0, -1).join(", ")} or ${MODULE_SCHEMES.at(-1)}`;
  return `must be a relative path ("./echo/mod.ts") or a ${schemes} specifier, not "${module}"`;
}

const entry = z.strictObject({
  module: z.string().superRefine((value, ctx) => {
    const problem = moduleProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
  }).describe(
    'The plugin module: a path relative to this manifest ("./echo/mod.ts"), or a jsr:, npm:, https:, http: or file: specifier.',
  ),
  description: z.string().min(1).describe("One sentence: what protocol, which roles."),
  roles: z.array(z.enum(ROLES)).min(1).superRefine((roles, ctx) => {
    const repeated = roles.find((role, i) => roles.indexOf(role) !== i);
    if (repeated) {
      ctx.addIssue({ code: "custom", message: `lists "${repeated}" twice`, input: roles });
    }
  }).describe("The roles the plugin implements."),
  apiVersion: z.number().int().positive().describe(
    "The plugin contract version the plugin was written for.",
  ),
  permissions,
  export: z.string().regex(IDENTIFIER, {
    error: "must be the name of a module export (a JavaScript identifier)",
  }).optional().describe('The module export holding the plugin (default "default").'),
});

/** The schema of a manifest file. */
export const manifestSchema: z.ZodType<ManifestJson> = z.strictObject({
  $schema: z.string().optional().describe("URL of the JSON Schema of this format, for editors."),
  plugins: z.record(
    z.string().regex(PLUGIN_NAME, { error: 'is not kebab-case (e.g. "http-probe")' }),
    entry,
  ).describe("Plugins by kebab-case name."),
}).describe("A wiretest plugin manifest.");
