// What the CLI and editors need from a plugin module, as plain JSON data:
// made where the plugin runs (its process, or in-process with --no-isolation),
// read back by a parent that trusts none of it.
import type { JsonSchema } from "./json_schema.ts";
import type { ManifestEntry } from "./manifest.ts";
import {
  checkOutcomeDeclaration,
  type MetricDeclaration,
  type OutcomeDeclaration,
} from "./outcome_declaration.ts";
import { paramsInputJsonSchema, type ParamsSchema } from "./params_schema.ts";
import type { AnyPlugin } from "./types.ts";

/** A role of a plugin, described as data. */
export interface RoleDescription {
  /**
   * JSON Schema (draft 2020-12) of the params users write: fields with
   * defaults are optional and carry their `default`, `.describe()` texts are
   * `description`s.
   */
  params: JsonSchema;
  /** Params the CLI takes as positional arguments, in order. */
  positionals: string[];
  /** The counters `stats()` returns, when the server role declares them. */
  stats?: readonly MetricDeclaration[];
}

/** The client role of a plugin, described as data. */
export interface ClientRoleDescription extends RoleDescription {
  /** Whether the role has a `summary(outcome)` for people. */
  summary: boolean;
  /** The metrics and facts of its outcome, when the role declares them. */
  outcome?: OutcomeDeclaration;
  /** Whether the role has a `session` hook (load: a connection kept per VU). */
  session?: boolean;
  /** What one load iteration of its session is, when the role says. */
  iteration?: string;
  /** Params its session does not use, refused in load runs. */
  loadIgnores?: string[];
}

/**
 * A plugin as data: everything a command line, a listing or an editor needs
 * from its module, without its functions. JSON-serialisable, so it crosses
 * from an isolated plugin's process.
 */
export interface PluginDescription {
  /** The plugin's name. */
  name: string;
  /** The plugin's own version. */
  version: string;
  /** One sentence: what protocol, which roles. */
  description: string;
  /** The server role, when the plugin has one. */
  server?: RoleDescription;
  /** The client role, when the plugin has one. */
  client?: ClientRoleDescription;
}

/**
 * Describes a loaded plugin as data: its name, version, description and, per
 * role, the JSON Schema of its params and its positionals. Whatever the
 * schema library returned goes through JSON, so the result is plain data.
 *
 * @param plugin The plugin.
 * @returns Its description.
 *
 * @example Describing a plugin
 * ```ts
 * import { definePlugin } from "@wiretest/wiretest/plugin";
 * import { describePlugin } from "@wiretest/wiretest/host";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const ping = definePlugin({
 *   name: "ping",
 *   version: "1.0.0",
 *   description: "Pings (client only).",
 *   client: {
 *     params: z.object({ target: z.string(), count: z.number().default(3) }),
 *     positionals: ["target"],
 *     run: () => Promise.resolve({ ok: true, metrics: {}, facts: {} }),
 *   },
 * });
 * const described = describePlugin(ping);
 * assert.deepEqual(described.client?.positionals, ["target"]);
 * assert.deepEqual(described.client?.params.required, ["target"]);
 * assert.equal(described.client?.summary, false);
 * assert.equal(described.server, undefined);
 * ```
 */
export function describePlugin(plugin: AnyPlugin): PluginDescription {
  const description: PluginDescription = {
    name: String(plugin.name),
    version: String(plugin.version),
    description: String(plugin.description),
  };
  if (plugin.server) {
    description.server = role(plugin.server);
    if (plugin.server.stats) description.server.stats = asData(plugin.server.stats);
  }
  if (plugin.client) {
    description.client = {
      ...role(plugin.client),
      summary: typeof plugin.client.summary === "function",
    };
    if (plugin.client.outcome) description.client.outcome = asData(plugin.client.outcome);
    if (typeof plugin.client.session === "function") description.client.session = true;
    if (plugin.client.iteration !== undefined) {
      description.client.iteration = String(plugin.client.iteration);
    }
    if (Array.isArray(plugin.client.loadIgnores)) {
      description.client.loadIgnores = plugin.client.loadIgnores.map(String);
    }
  }
  return description;
}

// Declarations go through JSON too: what crosses from a process is data.
function asData<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function role(
  role: { params: ParamsSchema; positionals?: readonly string[] },
): RoleDescription {
  return {
    params: JSON.parse(JSON.stringify(paramsInputJsonSchema(role.params))),
    positionals: [...role.positionals ?? []].map(String),
  };
}

/**
 * Reads a description sent by a plugin's process, checking its shape: the
 * plugin's code wrote it, so it is data to check, not to trust.
 *
 * @throws {TypeError} When it is not a description of the entry's plugin.
 */
export function readDescription(entry: ManifestEntry, value: unknown): PluginDescription {
  const fail = (detail: string) =>
    new TypeError(`Cannot describe plugin "${entry.name}": its worker sent ${detail}`);
  if (!isObject(value)) throw fail("no description");
  const { name, version, description } = value;
  if (typeof name !== "string" || typeof version !== "string" || typeof description !== "string") {
    throw fail("a description without a name, version and description");
  }
  if (name !== entry.name) throw fail(`the description of "${name}"`);
  const out: PluginDescription = { name, version, description };
  for (const which of ["server", "client"] as const) {
    const described = value[which];
    if (entry.roles.includes(which) !== (described !== undefined)) {
      throw fail(`roles that differ from its manifest entry's`);
    }
    if (described === undefined) continue;
    if (!isObject(described) || !isObject(described.params)) {
      throw fail(`a ${which} role without a params schema`);
    }
    const { positionals } = described;
    if (!Array.isArray(positionals) || !positionals.every((p) => typeof p === "string")) {
      throw fail(`${which} positionals that are not a list of names`);
    }
    const read: RoleDescription = { params: described.params as JsonSchema, positionals };
    const where = `plugin "${entry.name}" (${which})`;
    try {
      if (which === "server" && described.stats !== undefined) {
        checkOutcomeDeclaration({ stats: described.stats as MetricDeclaration[] }, where);
        read.stats = described.stats as MetricDeclaration[];
      }
      if (which === "client" && described.outcome !== undefined) {
        checkOutcomeDeclaration(described.outcome as OutcomeDeclaration, where);
      }
    } catch (error) {
      throw fail(`declarations that are wrong (${(error as Error).message})`);
    }
    if (which === "server") out.server = read;
    else {
      out.client = { ...read, summary: described.summary === true };
      if (described.outcome !== undefined) {
        out.client.outcome = described.outcome as OutcomeDeclaration;
      }
      if (described.session === true) out.client.session = true;
      if (typeof described.iteration === "string") out.client.iteration = described.iteration;
      if (Array.isArray(described.loadIgnores)) {
        out.client.loadIgnores = described.loadIgnores.filter((p) => typeof p === "string");
      }
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
