// Command-line flags derived from a plugin role's params schema, so every
// plugin (built-in or third-party) gets `--kebab-case` flags and `--help`
// without writing CLI code.
import { parseArgs } from "node:util";
import { paramsInputJsonSchema, type ParamsSchema } from "../plugin/params_schema.ts";

/** One flag derived from a top-level schema property. */
export interface FlagSpec {
  /** Param name in the schema (camelCase). */
  param: string;
  /** Flag name (kebab-case), without dashes. */
  flag: string;
  kind: "string" | "number" | "integer" | "boolean" | "enum" | "json";
  multiple: boolean;
  description: string;
  required: boolean;
  defaultValue?: unknown;
  choices?: unknown[];
}

/** Thrown for bad command lines; the CLI prints it and exits with 2. */
export class UsageError extends TypeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Flags every client/serve command has, which no plugin param may shadow. */
export const COMMON_FLAGS = ["json", "help", "debug", "plugins", "no-isolation"] as const;

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/** Lists the flags of a params schema. */
export function flagSpecs(schema: ParamsSchema): FlagSpec[] {
  const json = paramsInputJsonSchema(schema) as JsonSchema;
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([param, prop]) => {
    const base = prop.anyOf?.find((p) => p.type !== "null") ?? prop;
    const isArray = base.type === "array";
    const item = isArray ? base.items ?? {} : base;
    let kind: FlagSpec["kind"] = "json";
    if (item.enum) kind = "enum";
    else if (item.type === "string") kind = "string";
    else if (item.type === "integer") kind = "integer";
    else if (item.type === "number") kind = "number";
    else if (item.type === "boolean") kind = "boolean";
    return {
      param,
      flag: kebab(param),
      kind,
      multiple: isArray,
      description: prop.description ?? base.description ?? "",
      required: required.has(param) && prop.default === undefined,
      defaultValue: prop.default,
      choices: item.enum,
    };
  });
}

/**
 * Parses `args` into params: positionals fill `positionals` in order, flags
 * fill the rest. Values are converted to the schema's types; the schema
 * itself then validates them.
 */
export function parseFlags(
  args: string[],
  specs: FlagSpec[],
  positionals: readonly string[],
): { params: Record<string, unknown>; common: Record<string, string | boolean> } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    json: { type: "boolean" },
    help: { type: "boolean" },
    debug: { type: "boolean" },
    plugins: { type: "string", multiple: true },
    "no-isolation": { type: "boolean" },
  };
  for (const spec of specs) {
    if ((COMMON_FLAGS as readonly string[]).includes(spec.flag)) continue;
    options[spec.flag] = spec.multiple
      ? { type: spec.kind === "boolean" ? "boolean" : "string", multiple: true }
      : { type: spec.kind === "boolean" ? "boolean" : "string" };
    if (spec.kind === "boolean") options[`no-${spec.flag}`] = { type: "boolean" };
    // A list param reads naturally one item at a time: --header A --header B.
    const singular = singularOf(spec);
    if (singular && !options[singular]) options[singular] = { type: "string", multiple: true };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  const params: Record<string, unknown> = {};
  const common: Record<string, string | boolean> = {};
  const values = parsed.values as Record<string, unknown>;
  for (const name of COMMON_FLAGS) {
    const v = values[name];
    if (v !== undefined) common[name] = Array.isArray(v) ? v.join(",") : v as string | boolean;
  }
  if (parsed.positionals.length > positionals.length) {
    const extra = parsed.positionals.slice(positionals.length).map((p) => `"${p}"`).join(", ");
    throw new UsageError(`Cannot parse arguments: unexpected argument ${extra}`);
  }
  parsed.positionals.forEach((value, i) => {
    const spec = specs.find((s) => s.param === positionals[i]);
    params[positionals[i]] = spec ? convert(spec, value) : value;
  });
  for (const spec of specs) {
    if (spec.kind === "boolean" && values[`no-${spec.flag}`]) params[spec.param] = false;
    const singular = singularOf(spec);
    const many = [values[spec.flag], singular ? values[singular] : undefined]
      .filter((v) => v !== undefined).flat();
    const raw = spec.multiple ? (many.length ? many : undefined) : values[spec.flag];
    if (raw === undefined) continue;
    params[spec.param] = Array.isArray(raw)
      ? raw.map((v) => convert(spec, v))
      : convert(spec, raw as string | boolean);
  }
  return { params, common };
}

function singularOf(spec: FlagSpec): string | undefined {
  return spec.multiple && spec.flag.endsWith("s") ? spec.flag.slice(0, -1) : undefined;
}

function convert(spec: FlagSpec, raw: string | boolean): unknown {
  if (typeof raw === "boolean") return raw;
  switch (spec.kind) {
    case "number":
    case "integer": {
      const n = Number(raw.replace(/_/g, ""));
      if (raw.trim() === "" || !Number.isFinite(n)) {
        throw new UsageError(`Cannot parse --${spec.flag}: "${raw}" is not a number`);
      }
      return n;
    }
    case "enum": {
      const choice = spec.choices?.find((c) => String(c) === raw);
      return choice ?? raw;
    }
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

/** Help text listing a role's arguments and flags. */
export function flagsHelp(
  specs: FlagSpec[],
  positionals: readonly string[],
  extra: [string, string][] = [
    ["  --json", "print the whole outcome as JSON"],
    ["  --debug", "print stack traces and plugin log lines"],
  ],
): string {
  const lines: string[] = [];
  const rows = specs
    .filter((s) => !positionals.includes(s.param))
    .map((s) => {
      const value = s.kind === "boolean"
        ? ""
        : s.kind === "enum"
        ? ` <${s.choices!.join("|")}>`
        : ` <${s.kind === "integer" ? "n" : s.kind}>`;
      const name = singularOf(s) ?? s.flag;
      const left = `  --${name}${value}${s.multiple ? " (repeatable)" : ""}`;
      const dflt = s.defaultValue !== undefined &&
          !(Array.isArray(s.defaultValue) && s.defaultValue.length === 0)
        ? ` (default: ${JSON.stringify(s.defaultValue)})`
        : s.required
        ? " (required)"
        : "";
      return [left, `${s.description}${dflt}`];
    });
  rows.push(...extra);
  const width = Math.min(34, Math.max(0, ...rows.map(([l]) => l.length)) + 2);
  for (const [left, right] of rows) lines.push(`${left.padEnd(width)}${right}`);
  return lines.join("\n");
}
