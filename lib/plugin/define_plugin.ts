/**
 * {@linkcode definePlugin}: declare a plugin with typed params.
 *
 * @module
 */
import { checkOutcomeDeclaration } from "./outcome_declaration.ts";
import { PLUGIN_NAME } from "./plugin_name.ts";
import { type AnyPlugin, type Plugin, PLUGIN_API_VERSION } from "./types.ts";

/** What {@linkcode definePlugin} takes: a {@linkcode Plugin} without `apiVersion`. */
export type PluginDefinition<S, C, SI = unknown, CI = unknown> = Omit<
  Plugin<S, C, SI, CI>,
  "apiVersion"
>;

/**
 * Declares a plugin. Params types flow from each role's schema into its
 * `serve`/`run` function (the schema's output) and into `startServer` and
 * `runClient` (the schema's input), and the name and roles are checked at once.
 *
 * @param definition Name, version, description and the roles.
 * @returns The plugin, stamped with the contract version it was written for.
 * @throws {TypeError} When the name is not kebab-case, no role is given, or
 * a role's declared `outcome` or `stats` is malformed.
 *
 * @example A one-role plugin
 * ```ts
 * import { definePlugin } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const clock = definePlugin({
 *   name: "clock",
 *   version: "1.0.0",
 *   description: "Reports the local time (client role only).",
 *   client: {
 *     params: z.object({ offsetMs: z.number().default(0) }),
 *     run: (params) => Promise.resolve({
 *       ok: true,
 *       metrics: { now_ms: Date.now() + params.offsetMs },
 *       facts: {},
 *     }),
 *   },
 * });
 * assert.equal(clock.apiVersion, 1);
 * ```
 */
export function definePlugin<S = never, C = never, SI = unknown, CI = unknown>(
  definition: PluginDefinition<S, C, SI, CI>,
): Plugin<S, C, SI, CI> {
  if (!PLUGIN_NAME.test(definition.name)) {
    throw new TypeError(
      `Cannot define plugin: name "${definition.name}" is not kebab-case (e.g. "http-probe")`,
    );
  }
  if (!definition.server && !definition.client) {
    throw new TypeError(
      `Cannot define plugin "${definition.name}": it has neither a server nor a client role`,
    );
  }
  if (definition.client?.outcome !== undefined) {
    checkOutcomeDeclaration(definition.client.outcome, `plugin "${definition.name}" (client)`);
  }
  if (definition.server?.stats !== undefined) {
    checkOutcomeDeclaration(
      { stats: definition.server.stats },
      `plugin "${definition.name}" (server)`,
    );
  }
  return { apiVersion: PLUGIN_API_VERSION, ...definition };
}

/**
 * Tells whether a value meets the plugin contract (used on modules loaded at
 * run time, whose types cannot be trusted).
 *
 * @param value What a module exported.
 * @returns `true` when it looks like a plugin of this contract version.
 *
 * @example Checking an imported module
 * ```ts
 * import { isPlugin } from "./define_plugin.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isPlugin({ name: "x" }), false);
 * ```
 */
export function isPlugin(value: unknown): value is AnyPlugin {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  const roleOk = (role: unknown, fn: string) =>
    role === undefined ||
    (typeof role === "object" && role !== null &&
      typeof (role as Record<string, unknown>)[fn] === "function" &&
      typeof (role as Record<string, unknown>).params === "object");
  return typeof p.name === "string" && typeof p.version === "string" &&
    typeof p.description === "string" && typeof p.apiVersion === "number" &&
    roleOk(p.server, "serve") && roleOk(p.client, "run") &&
    (p.server !== undefined || p.client !== undefined);
}
