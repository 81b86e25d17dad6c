/**
 * The schema type plugin params are declared with: any validation library
 * that implements the Standard Schema and Standard JSON Schema interfaces
 * (zod 4, valibot, ArkType…). wiretest validates with it and derives JSON
 * Schema (for fixtures and editors) and CLI flags from it.
 *
 * The interfaces are declared here, as their specification intends, so the
 * public API depends on no library's types.
 *
 * @module
 */
import { findUnknownParams } from "./_unknown_params.ts";

/** One validation problem. */
export interface SchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys from the root of the params. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** What a schema's `validate` returns. */
export type SchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<SchemaIssue> };

/** Options for producing JSON Schema. */
export interface JsonSchemaOptions {
  /** The JSON Schema dialect, e.g. `"draft-2020-12"`. */
  readonly target: string;
  /** Options for the schema library (zod: `{ unrepresentable: "any" }`). */
  readonly libraryOptions?: Record<string, unknown>;
}

/**
 * A params schema (Standard Schema v1 with Standard JSON Schema v1). zod 4
 * schemas are ones: `z.object({ count: z.number().default(1) })`.
 *
 * @typeParam Output The params after validation and defaults.
 * @typeParam Input What users may write.
 */
export interface ParamsSchema<Output = unknown, Input = unknown> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** Always 1. */
    readonly version: 1;
    /** The library, e.g. `"zod"`. */
    readonly vendor: string;
    /** Validates a value, filling defaults. */
    readonly validate: (
      value: unknown,
    ) => SchemaResult<Output> | Promise<SchemaResult<Output>>;
    /** Carries the types for inference only. */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
    /** JSON Schema of the input and the output. */
    readonly jsonSchema: {
      /** JSON Schema of what users may write. */
      readonly input: (options: JsonSchemaOptions) => Record<string, unknown>;
      /** JSON Schema of the validated value. */
      readonly output: (options: JsonSchemaOptions) => Record<string, unknown>;
    };
  };
}

/**
 * What users may write for a params schema: its Standard Schema input type
 * (every field with a default optional). Name it once instead of writing an
 * interface that must be kept in step with the schema.
 *
 * @typeParam S The schema (`typeof mySchema`).
 *
 * @example Typing what a client role takes from its schema
 * ```ts
 * import { type ParamsInput, validateParams } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ target: z.string(), count: z.number().default(1) });
 * const input: ParamsInput<typeof schema> = { target: "127.0.0.1:7" }; // count may be left out
 * assert.equal(validateParams(schema, input).count, 1);
 * ```
 */
export type ParamsInput<S> = S extends { readonly "~standard": { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly input: infer I } ? I : unknown
  : unknown;

/**
 * What a role receives once a params schema has validated and filled
 * defaults: its Standard Schema output type.
 *
 * @typeParam S The schema (`typeof mySchema`).
 *
 * @example Typing what a client role receives from its schema
 * ```ts
 * import { type ParamsOutput, validateParams } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ target: z.string(), count: z.number().default(1) });
 * const params: ParamsOutput<typeof schema> = validateParams(schema, { target: "a:1" });
 * const count: number = params.count; // defaults filled in: never undefined
 * assert.equal(count, 1);
 * ```
 */
export type ParamsOutput<S> = S extends { readonly "~standard": { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly output: infer O } ? O : unknown
  : unknown;

/**
 * `true` when a schema's output type is `Params` and its input type is
 * `Options` (each assignable to the other, with the same keys), otherwise a
 * string saying which differs. A plugin published on JSR must give its
 * exported schema an explicit type, hence written-out interfaces; this keeps
 * them from drifting from the schema, as a compile error:
 * `true satisfies ParamsTypesMatch<typeof schema, Params, Options>;`
 *
 * @typeParam S The schema, before any annotation (`typeof mySchema`).
 * @typeParam Params The interface the role receives.
 * @typeParam Options The interface users pass.
 *
 * @example Interfaces checked against their schema
 * ```ts
 * import type { ParamsTypesMatch } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * interface Options { port?: number }
 * interface Params { port: number }
 * const schema = z.object({ port: z.number().default(0) });
 * const ok: ParamsTypesMatch<typeof schema, Params, Options> = true;
 * // A param the schema does not have is caught, even an optional one.
 * const drift: ParamsTypesMatch<typeof schema, Params, Options & { host?: string }> =
 *   "the schema's input type is not Options";
 * assert.deepEqual([ok, drift], [true, "the schema's input type is not Options"]);
 * ```
 */
// Assignable both ways and the same keys (an extra optional key is
// assignable both ways, so keys are compared too); written out twice rather
// than as a helper type, which would be one more public name.
export type ParamsTypesMatch<S, Params, Options> = [ParamsOutput<S>] extends [Params]
  ? [Params] extends [ParamsOutput<S>]
    ? [keyof ParamsOutput<S>] extends [keyof Params]
      ? [keyof Params] extends [keyof ParamsOutput<S>]
        ? [ParamsInput<S>] extends [Options]
          ? [Options] extends [ParamsInput<S>]
            ? [keyof ParamsInput<S>] extends [keyof Options]
              ? [keyof Options] extends [keyof ParamsInput<S>] ? true
              : "the schema's input type is not Options"
            : "the schema's input type is not Options"
          : "the schema's input type is not Options"
        : "the schema's input type is not Options"
      : "the schema's output type is not Params"
    : "the schema's output type is not Params"
  : "the schema's output type is not Params"
  : "the schema's output type is not Params";

/**
 * JSON Schema (draft 2020-12) of what users may write for a params schema.
 *
 * @param schema The params schema.
 * @returns The JSON Schema object.
 *
 * @example JSON Schema of a zod schema
 * ```ts
 * import { paramsInputJsonSchema } from "./params_schema.ts";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = paramsInputJsonSchema(z.object({ count: z.number().default(1) }));
 * assert.equal((schema.properties as Record<string, { type: string }>).count.type, "number");
 * ```
 */
export function paramsInputJsonSchema(schema: ParamsSchema): Record<string, unknown> {
  // Parts JSON Schema cannot express (custom checks, dates) become `{}`:
  // the schema itself still checks them when params are validated.
  return schema["~standard"].jsonSchema.input({
    target: "draft-2020-12",
    libraryOptions: { unrepresentable: "any" },
  });
}

/** One problem in a plugin's params: where (`path`) and what. */
export interface ParamsIssue {
  /** Path inside the params object, e.g. `["tls", "ca"]`. */
  path: (string | number)[];
  /** What is wrong. */
  message: string;
  /**
   * What kind of problem, when wiretest knows it whatever the schema library:
   * `"unknown_param"` for a key the schema does not declare (`path` ends with
   * the key), `"missing_param"` for a required key that is absent.
   */
  code?: "unknown_param" | "missing_param";
  /** For an unknown param: the declared name it most likely meant. */
  suggestion?: string;
}

/**
 * Params did not match a plugin role's schema.
 *
 * @example Reading the issues
 * ```ts
 * import { ParamsError } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const err = new ParamsError("Cannot use params", { issues: [{ path: ["count"], message: "bad" }] });
 * assert.ok(err instanceof TypeError);
 * assert.deepEqual(err.issues[0].path, ["count"]);
 * ```
 */
export class ParamsError extends TypeError {
  /** Each problem with its path. */
  readonly issues: ParamsIssue[];

  /**
   * Creates a params error.
   *
   * @param message The full message.
   * @param options The issues and the cause.
   */
  constructor(message: string, options: { issues: ParamsIssue[]; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "ParamsError";
    this.issues = options.issues;
  }
}

/**
 * Validates params against a schema, filling defaults.
 *
 * Params are strict whatever the schema library: a key that the schema's
 * JSON Schema (`~standard.jsonSchema.input`) does not declare under
 * `properties` is refused, at any depth, unless that object explicitly
 * allows more (`additionalProperties` other than `false`, or
 * `patternProperties`). Unknown keys are reported together with every other
 * problem, each with its path.
 *
 * @param schema The params schema.
 * @param input The raw params (from a fixture, the CLI or code).
 * @param label What the params are for, in the message (default `"params"`).
 * @returns The validated params.
 * @throws {ParamsError} Naming every field that is wrong.
 *
 * @example Defaults and a located error
 * ```ts
 * import { ParamsError, validateParams } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ count: z.number().int().min(1).default(1) });
 * assert.deepEqual(validateParams(schema, {}), { count: 1 });
 * assert.throws(
 *   () => validateParams(schema, { count: 0 }),
 *   (e: unknown) => e instanceof ParamsError && e.issues[0].path[0] === "count",
 * );
 * ```
 *
 * @example A misspelt key is refused, even by a non-strict `z.object`
 * ```ts
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ count: z.number().default(1) });
 * assert.throws(
 *   () => validateParams(schema, { cout: 100 }),
 *   { message: 'Cannot use params for params: "cout" is not a known param (did you mean "count"?)' },
 * );
 * ```
 */
export function validateParams<T>(schema: ParamsSchema<T>, input: unknown, label = "params"): T {
  const raw = input ?? {};
  const shape = findUnknownParams(inputJsonSchema(schema, label), raw);
  // The schema sees the input without unknown keys, so a strict schema does
  // not report them a second time and every other problem still shows.
  const result = schema["~standard"].validate(shape.known);
  if (result instanceof Promise) {
    throw new TypeError(
      `Cannot use params for ${label}: its schema validates asynchronously, which wiretest does not support`,
    );
  }
  if (!result.issues && shape.unknown.length === 0) return result.value as T;
  const missing = new Set(shape.required.map((path) => JSON.stringify(path)));
  const issues: ParamsIssue[] = shape.unknown.map(({ path, suggestion }) => ({
    path,
    message: `is not a known param${
      suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`
    }`,
    code: "unknown_param" as const,
    ...(suggestion === undefined ? {} : { suggestion }),
  }));
  for (const issue of result.issues ?? []) {
    const path = (issue.path ?? []).map((seg) => {
      const key = typeof seg === "object" ? seg.key : seg;
      return typeof key === "number" ? key : String(key);
    });
    issues.push(
      missing.has(JSON.stringify(path))
        ? { path, message: "is required", code: "missing_param" }
        : { path, message: issue.message },
    );
  }
  const detail = issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(params)";
    return `"${path}" ${issue.message}`;
  }).join("; ");
  throw new ParamsError(`Cannot use params for ${label}: ${detail}`, { issues });
}

// Converting a schema to JSON Schema costs far more than validating with it.
const inputJsonSchemas = new WeakMap<object, Record<string, unknown>>();

function inputJsonSchema(schema: ParamsSchema, label: string): Record<string, unknown> {
  let json = inputJsonSchemas.get(schema);
  if (json) return json;
  try {
    json = paramsInputJsonSchema(schema);
  } catch (error) {
    // Without it, unknown keys could not be told apart: refusing is safer than passing.
    throw new TypeError(
      `Cannot use params for ${label}: its schema gives no JSON Schema (Standard JSON Schema "input"): ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  if (typeof json !== "object" || json === null) {
    throw new TypeError(
      `Cannot use params for ${label}: its schema's JSON Schema is not an object`,
    );
  }
  inputJsonSchemas.set(schema, json);
  return json;
}
