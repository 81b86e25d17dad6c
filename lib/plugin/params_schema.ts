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
 * JSON Schema (draft 2020-12) of what users may write for a params schema.
 *
 * @param schema The params schema.
 * @returns The JSON Schema object.
 *
 * @example JSON Schema of a zod schema
 * ```ts
 * import { paramsInputJsonSchema } from "@wiretest/wiretest/plugin";
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
 */
export function validateParams<T>(schema: ParamsSchema<T>, input: unknown, label = "params"): T {
  const result = schema["~standard"].validate(input ?? {});
  if (result instanceof Promise) {
    throw new TypeError(
      `Cannot use params for ${label}: its schema validates asynchronously, which wiretest does not support`,
    );
  }
  if (!result.issues) return result.value;
  const issues: ParamsIssue[] = result.issues.map((issue) => ({
    path: (issue.path ?? []).map((seg) => {
      const key = typeof seg === "object" ? seg.key : seg;
      return typeof key === "number" ? key : String(key);
    }),
    message: issue.message,
  }));
  const detail = issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(params)";
    return `"${path}" ${issue.message}`;
  }).join("; ");
  throw new ParamsError(`Cannot use params for ${label}: ${detail}`, { issues });
}
