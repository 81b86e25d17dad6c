// Command-line flags derived from a plugin role's params schema, so every
// plugin (built-in or third-party) gets `--kebab-case` flags and `--help`
// without writing CLI code.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { JsonSchema } from "../plugin/json_schema.ts";
import { paramsInputJsonSchema, type ParamsSchema } from "../plugin/params_schema.ts";
import { closestName } from "../_internal/closest.ts";
import { isRecord } from "../_internal/is_record.ts";
import { UsageError } from "./_usage_error.ts";

// Apart, so the CLI's entry point reads them without node:util's parseArgs.
export { UsageError } from "./_usage_error.ts";
export { parsePluginMemory } from "./_plugin_args.ts";

/**
 * The JSON Schema keyword a params schema declares a CLI alias with, on a
 * top-level property: `headers: z.array(…).meta({ "x-wiretest-alias": "header" })`.
 */
export const ALIAS_KEYWORD = "x-wiretest-alias";

/** One flag derived from a top-level schema property. */
export interface FlagSpec {
  /** Param name in the schema (camelCase). */
  param: string;
  /** Flag name (kebab-case), without dashes. */
  flag: string;
  /**
   * Another flag name for the same param, declared by the schema with the
   * JSON Schema keyword `x-wiretest-alias` (zod: `.meta({ "x-wiretest-alias": "header" })`):
   * a singular name for a repeatable flag, say.
   */
  alias?: string;
  kind: "string" | "number" | "integer" | "boolean" | "enum" | "json";
  multiple: boolean;
  description: string;
  required: boolean;
  defaultValue?: unknown;
  choices?: unknown[];
}

/** Flags every client/serve command has, which no plugin param may shadow. */
export const COMMON_FLAGS = [
  "json",
  "help",
  "debug",
  "plugins",
  "no-isolation",
  "plugin-memory-mib",
  "trust-ffi",
] as const;

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

type Schema = Record<string, unknown>;

/**
 * Lists the flags of a role's params, from the JSON Schema of what users
 * write (`PluginDescription` roles carry it). An isolated plugin's schema
 * comes from its process, so it is read as untrusted data: anything that is
 * not the expected shape is skipped or read as a JSON value. A live
 * `ParamsSchema` is converted first.
 */
export function flagSpecs(schema: JsonSchema | ParamsSchema): FlagSpec[] {
  // Functions do not survive structured clone: data from a process is never taken for a schema.
  const live = typeof (schema as Partial<ParamsSchema>)["~standard"]?.jsonSchema?.input ===
    "function";
  const json: Schema = live ? paramsInputJsonSchema(schema as ParamsSchema) : schema as Schema;
  const required = new Set(strings(json.required));
  const properties = isSchema(json.properties) ? json.properties : {};
  return Object.entries(properties).filter(([param, prop]) => isParamName(param) && isSchema(prop))
    .map(([param, value]) => {
      const prop = value as Schema;
      const alternatives = Array.isArray(prop.anyOf) ? prop.anyOf.filter(isSchema) : [];
      const base = alternatives.find((p) => p.type !== "null") ?? prop;
      const isArray = base.type === "array";
      const item = isArray ? (isSchema(base.items) ? base.items : {}) : base;
      const choices = Array.isArray(item.enum) ? item.enum : undefined;
      let kind: FlagSpec["kind"] = "json";
      if (choices) kind = "enum";
      else if (item.type === "string") kind = "string";
      else if (item.type === "integer") kind = "integer";
      else if (item.type === "number") kind = "number";
      else if (item.type === "boolean") kind = "boolean";
      const description = typeof prop.description === "string"
        ? prop.description
        : typeof base.description === "string"
        ? base.description
        : "";
      const aliasName = prop[ALIAS_KEYWORD] ?? base[ALIAS_KEYWORD];
      const alias = typeof aliasName === "string" && isParamName(aliasName)
        ? kebab(aliasName)
        : undefined;
      return {
        param,
        flag: kebab(param),
        ...(alias === undefined || alias === kebab(param) ? {} : { alias }),
        kind,
        multiple: isArray,
        description,
        required: required.has(param) && prop.default === undefined,
        defaultValue: prop.default,
        choices,
      };
    });
}

function isSchema(value: unknown): value is Schema {
  return isRecord(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

// A flag is made of the name: one nobody could type as a flag (spaces, "=",
// a leading dash) or that would set an object's prototype gets none.
function isParamName(name: string): boolean {
  return /^[A-Za-z_$][\w$-]*$/.test(name) && name !== "__proto__";
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
  otherFlags: readonly string[] = [],
): { params: Record<string, unknown>; common: Record<string, string | boolean> } {
  const options: Options = {
    json: { type: "boolean" },
    // `-h` too, as every other command takes it.
    help: { type: "boolean", short: "h" },
    debug: { type: "boolean" },
    plugins: { type: "string", multiple: true },
    "no-isolation": { type: "boolean" },
    "plugin-memory-mib": { type: "string" },
    "trust-ffi": { type: "string", multiple: true },
  };
  for (const spec of specs) {
    if ((COMMON_FLAGS as readonly string[]).includes(spec.flag)) continue;
    options[spec.flag] = spec.multiple
      ? { type: spec.kind === "boolean" ? "boolean" : "string", multiple: true }
      : { type: spec.kind === "boolean" ? "boolean" : "string" };
    if (spec.kind === "boolean") options[`no-${spec.flag}`] = { type: "boolean" };
  }
  // After every param's own flags, so an alias never shadows a real name.
  const aliases = new Map<string, string>();
  for (const spec of specs) {
    if (spec.alias !== undefined && !options[spec.alias] && options[spec.flag]) {
      aliases.set(spec.alias, spec.flag);
    }
  }
  const normalized = checkTokens(args, options, aliases, otherFlags);
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's messages quote with unbalanced single quotes; ours use double ones.
    const detail = (error as Error).message.split("\n")[0].replaceAll("'", '"');
    throw new UsageError(`Cannot parse arguments: ${detail}`, { cause: error });
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
    const raw = values[spec.flag];
    if (raw === undefined) continue;
    params[spec.param] = Array.isArray(raw)
      ? raw.map((v) => convert(spec, v))
      : convert(spec, raw as string | boolean);
  }
  return { params, common };
}

type Options = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/**
 * Refuses, before parsing, what node:util would word badly: an unknown flag
 * (with the closest known one), a flag without its value, a value given to
 * a switch.
 */
function checkTokens(
  args: string[],
  options: Options,
  aliases: Map<string, string>,
  otherFlags: readonly string[],
): string[] {
  const all: Options = { ...options };
  for (const [alias, flag] of aliases) all[alias] = options[flag];
  const normalized = [...args];
  const { tokens } = parseArgs({
    args,
    options: all,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const flag = `${token.rawName.startsWith("--") ? "--" : "-"}${token.name}`;
    const option = all[token.name];
    // An alias becomes its flag where it stands, so a repeated flag keeps the command line's order.
    const target = aliases.get(token.name);
    if (target !== undefined && token.rawName === `--${token.name}`) {
      normalized[token.index] = `--${target}${args[token.index].slice(token.rawName.length)}`;
    }
    if (!option) {
      // Flags a command took off before this parse (load's) are suggested too.
      const close = suggestFlag(token.name, [...Object.keys(all), ...otherFlags]);
      const hint = close ? ` (did you mean "--${close}"?)` : " (see --help)";
      throw new UsageError(`Cannot parse arguments: unknown flag "${flag}"${hint}`);
    }
    if (option.type === "boolean" && token.value !== undefined) {
      throw new UsageError(
        `Cannot parse arguments: flag "${flag}" takes no value, got "${token.value}"`,
      );
    }
    if (option.type === "string" && token.value === undefined) {
      throw new UsageError(`Cannot parse arguments: flag "${flag}" needs a value`);
    }
    if (
      option.type === "string" && !token.inlineValue && token.value?.startsWith("-") &&
      token.value !== "-"
    ) {
      throw new UsageError(
        `Cannot parse arguments: flag "${flag}" needs a value, got flag-like "${token.value}" (write ${flag}="${token.value}" if that is the value)`,
      );
    }
  }
  return normalized;
}

/**
 * node:util's `parseArgs` for a command's own flags (test, exporter,
 * report…), with what it words badly refused first as the plugin commands
 * refuse it: an unknown flag with the closest known one, a flag without its
 * value, a value given to a switch. The message comes without "Cannot parse
 * arguments: ", which the command's own catch puts before it.
 *
 * @param config As `parseArgs` takes it.
 * @returns What `parseArgs` returns.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    checkTokens(config.args ?? [], (config.options ?? {}) as Options, new Map(), []);
  } catch (error) {
    throw new Error((error as Error).message.replace(/^Cannot parse arguments: /, ""), {
      cause: error,
    });
  }
  return parseArgs(config);
}

// A typo, or the start of a longer name: "--ca" is most likely "--ca-file".
function suggestFlag(name: string, known: string[]): string | undefined {
  const close = closestName(name, known);
  if (close) return close;
  const longer = known.filter((k) => name.length >= 2 && k.startsWith(name))
    .sort((a, b) => a.length - b.length);
  return longer[0];
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

/**
 * The first line of `--help`: `wiretest <command> <positionals…> [flags]`,
 * single-spaced whatever the positionals.
 */
export function usageLine(command: string, positionals: readonly string[]): string {
  return ["wiretest", command, ...positionals.map((p) => `<${p}>`), "[flags]"].join(" ");
}

/** The `--help` row of `--plugin-memory-mib`, which every command running a plugin has. */
export const PLUGIN_MEMORY_HELP: [string, string] = [
  "  --plugin-memory-mib <n>",
  "memory ceiling of the plugin's process, MiB (default: 512; isolated only)",
];

/**
 * The `--help` rows of the flags every command running a plugin takes
 * (`--no-ffi` is read by main.ts before the command, the rest by
 * {@linkcode parseFlags}), minus those named in `except`.
 */
export function commonFlagRows(except: readonly string[] = []): [string, string][] {
  const rows: [string, string][] = [
    ["  --plugins <file>", "also load plugins from this manifest (repeatable)"],
    [
      "  --no-isolation",
      "run the plugin in this process instead of a process limited to its manifest entry's permissions",
    ],
    PLUGIN_MEMORY_HELP,
    [
      "  --no-ffi",
      `UDP through Deno's sockets: no plugin loads libc (io "auto" falls back to "deno")`,
    ],
    [
      "  --trust-ffi <file>",
      "plugins of this manifest may load libc through FFI too (repeatable; built-ins only otherwise)",
    ],
  ];
  return rows.filter(([left]) => !except.includes(left.trim().split(" ")[0]));
}

/** The "Common flags" block of a client or serve command's `--help`, after its own flags. */
export function commonFlagsHelp(except: readonly string[] = []): string {
  return `\n\nCommon flags (every command that runs a plugin):\n${
    helpRows(commonFlagRows(except))
  }`;
}

/** Help text listing a role's arguments and flags; the common ones are apart ({@linkcode commonFlagsHelp}). */
export function flagsHelp(
  specs: FlagSpec[],
  positionals: readonly string[],
  extra: [string, string][] = [
    ["  --json", "print the whole outcome as JSON"],
    ["  --debug", "print stack traces and plugin log lines"],
  ],
): string {
  const rows: [string, string][] = specs
    .filter((s) => !positionals.includes(s.param))
    .map((s): [string, string] => {
      const value = s.kind === "boolean"
        ? ""
        : s.kind === "enum"
        ? ` <${s.choices!.join("|")}>`
        : ` <${s.kind === "integer" ? "n" : s.kind}>`;
      const left = `  --${s.flag}${value}${s.multiple ? " (repeatable)" : ""}`;
      const also = s.alias !== undefined ? ` (also --${s.alias})` : "";
      const dflt = s.defaultValue !== undefined &&
          !(Array.isArray(s.defaultValue) && s.defaultValue.length === 0)
        ? ` (default: ${JSON.stringify(s.defaultValue)})`
        : s.required
        ? " (required)"
        : "";
      return [left, `${s.description}${dflt}${also}`];
    });
  rows.push(...extra);
  return helpRows(rows);
}

/**
 * Flag rows of a help text, every description starting in one column: two
 * spaces after the longest flag.
 */
export function helpRows(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `${left.padEnd(width)}${right}`).join("\n");
}
