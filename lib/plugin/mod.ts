/**
 * The plugin contract and the tools to run plugins from code.
 *
 * @example Defining and running a plugin
 * ```ts
 * import { definePlugin, runClient } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const add = definePlugin({
 *   name: "add",
 *   version: "1.0.0",
 *   description: "Adds two numbers (a toy with no network).",
 *   client: {
 *     params: z.object({ a: z.number(), b: z.number().default(1) }),
 *     run: (p) => Promise.resolve({ ok: true, metrics: { sum: p.a + p.b }, facts: {} }),
 *   },
 * });
 * const outcome = await runClient(add, { a: 2 });
 * assert.equal(outcome.metrics.sum, 3);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./params_schema.ts";
export * from "./define_plugin.ts";
export * from "./outcome_declaration.ts";
export * from "./context.ts";
export * from "./run.ts";
export * from "./manifest.ts";
export * from "./registry.ts";
export * from "./json_schema.ts";
export * from "./isolation.ts";
export * from "./input_file.ts";
