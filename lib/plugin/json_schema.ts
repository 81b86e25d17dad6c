/**
 * JSON Schemas for editors and docs: of each plugin role's params
 * ({@linkcode paramsJsonSchema}) and of the manifest format
 * ({@linkcode manifestJsonSchema}), generated from the zod schemas.
 *
 * @module
 */
import { z } from "zod";
import type { AnyPlugin } from "./types.ts";
import { manifestSchema } from "./_manifest_schema.ts";
import { paramsInputJsonSchema } from "./params_schema.ts";

/** A JSON Schema (draft 2020-12) document: the keywords wiretest reads, and any others. */
export interface JsonSchema {
  /** JSON type(s). */
  type?: string | string[];
  /** Human description (from `.describe()`). */
  description?: string;
  /** Default value. */
  default?: unknown;
  /** Allowed values. */
  enum?: unknown[];
  /** Object properties. */
  properties?: Record<string, JsonSchema>;
  /** Required property names. */
  required?: string[];
  /** Array item schema. */
  items?: JsonSchema;
  /** Any other keyword. */
  [keyword: string]: unknown;
}

/** The JSON Schema of each role a plugin has. */
export interface ParamsJsonSchemas {
  /** Params of the server role (`services.*.with` in fixtures). */
  server?: JsonSchema;
  /** Params of the client role (`steps[*].with` in fixtures). */
  client?: JsonSchema;
}

/**
 * The JSON Schema of the params each role of a plugin takes, as users write
 * them: fields with defaults are optional (`io: "input"`), and every
 * `.describe()` text becomes a `description`. Parts JSON Schema cannot
 * express (custom checks, transforms) become `{}`, which accepts anything;
 * the zod schema still checks them at run time.
 *
 * @param plugin The plugin.
 * @returns A schema per role the plugin has.
 *
 * @example Defaults make fields optional
 * ```ts
 * import { definePlugin } from "@wiretest/wiretest/plugin";
 * import { paramsJsonSchema } from "./json_schema.ts";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const ping = definePlugin({
 *   name: "ping",
 *   version: "1.0.0",
 *   description: "Pings (client only).",
 *   client: {
 *     params: z.object({
 *       target: z.string().describe("host:port"),
 *       count: z.number().int().default(3),
 *     }),
 *     run: () => Promise.resolve({ ok: true, metrics: {}, facts: {} }),
 *   },
 * });
 * const schemas = paramsJsonSchema(ping);
 * assert.deepEqual(schemas.client?.required, ["target"]);
 * assert.equal(schemas.server, undefined);
 * ```
 */
export function paramsJsonSchema(plugin: AnyPlugin): ParamsJsonSchemas {
  const schemas: ParamsJsonSchemas = {};
  if (plugin.server) schemas.server = paramsInputJsonSchema(plugin.server.params) as JsonSchema;
  if (plugin.client) schemas.client = paramsInputJsonSchema(plugin.client.params) as JsonSchema;
  return schemas;
}

/**
 * The JSON Schema of the manifest format, for a manifest's `$schema` and
 * editor completion.
 *
 * @returns The schema.
 *
 * @example Plugins need a module and roles
 * ```ts
 * import { manifestJsonSchema } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * const schema = manifestJsonSchema();
 * assert.deepEqual(schema.required, ["plugins"]);
 * ```
 */
export function manifestJsonSchema(): JsonSchema {
  return toSchema(manifestSchema);
}

function toSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}
