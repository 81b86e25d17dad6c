/**
 * For plugin authors: the plugin contract ({@linkcode definePlugin}, the
 * roles, their {@linkcode Context} and {@linkcode Outcome}), params schemas
 * and their errors, outcome declarations, input files, the network errors
 * plugins throw, time limits ({@linkcode deadlineSignal},
 * {@linkcode withDeadline}, {@linkcode within}), peer input cut short for a message
 * ({@linkcode clipText}), and {@linkcode runClient} /
 * {@linkcode startServer} to run a plugin from its own tests. Nothing here runs other people's plugins: hosts
 * use `@wiretest/wiretest/host`. Transports, codecs and metrics are in
 * `./transport`, `./codec` and `./metrics`.
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
export {
  type ClientRole,
  type ClientSession,
  type Context,
  type LogLevel,
  type Outcome,
  type OutcomeError,
  type Plugin,
  PLUGIN_API_VERSION,
  type Progress,
  type ServerRole,
  type Service,
} from "./types.ts";
export { definePlugin, type PluginDefinition } from "./define_plugin.ts";
export {
  type JsonSchemaOptions,
  ParamsError,
  type ParamsInput,
  paramsInputJsonSchema,
  type ParamsIssue,
  type ParamsOutput,
  type ParamsSchema,
  type ParamsTypesMatch,
  type SchemaIssue,
  type SchemaResult,
  validateParams,
} from "./params_schema.ts";
export type {
  FactDeclaration,
  FactType,
  MetricDeclaration,
  OutcomeDeclaration,
} from "./outcome_declaration_types.ts";
export { type OutcomeCheckOptions, outcomeProblems, statsProblems } from "./outcome_declaration.ts";
export { createContext, type CreateContextOptions, type OwnedContext } from "./context.ts";
export { describeError, runClient, type RunOptions, startServer } from "./run.ts";
export { clipText } from "./clip_text.ts";
export {
  deadlineOf,
  type DeadlineOperation,
  type DeadlineSignal,
  deadlineSignal,
  TIMED_OUT,
  type TimeLimit,
  withDeadline,
  within,
} from "./time_limit.ts";
export {
  checkInputDirectory,
  InputFileError,
  type InputFileErrorOptions,
  type InputFileProblem,
  openInputFile,
  readInputTextFile,
} from "./input_file.ts";
export { redactPasswords } from "./redact_passwords.ts";
export type { Address } from "../transport/types.ts";
export {
  ConnectionError,
  type ConnectionErrorCode,
  type NetErrorOptions,
  type NetOperation,
  PermissionDeniedError,
  TimeoutError,
} from "../errors.ts";
