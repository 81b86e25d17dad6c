// Strict params for every schema library: a key the schema's JSON Schema
// does not declare is an unknown param, unless that object explicitly allows
// more (`additionalProperties` other than `false`, `patternProperties`). zod's
// plain `z.object` and valibot's `object` silently drop such keys; reading the
// JSON Schema every params schema must give makes strictness the contract's
// default instead of each plugin's choice.
import { closestName } from "../_internal/closest.ts";
import { isRecord } from "../_internal/is_record.ts";

type Schema = Record<string, unknown>;

/** An unknown key found in params, with the closest declared key. */
export interface UnknownParam {
  /** Path of the key, ending with the key itself. */
  path: (string | number)[];
  /** The declared key it most likely meant. */
  suggestion?: string;
}

/** What {@linkcode findUnknownParams} found. */
export interface UnknownParamsResult {
  /** Each unknown key. */
  unknown: UnknownParam[];
  /** The input without them (the same value when there are none). */
  known: unknown;
  /** Paths of keys that are required where they are missing. */
  required: (string | number)[][];
}

// Deep enough for any real params; bounds the walk on hostile or cyclic schemas.
const MAX_DEPTH = 64;
const MAX_REFS = 32;
const SHAPE_KEYWORDS = [
  "type",
  "properties",
  "patternProperties",
  "additionalProperties",
  "unevaluatedProperties",
  "items",
  "prefixItems",
  "allOf",
  "anyOf",
  "oneOf",
];

/**
 * Walks `input` along `root` (a JSON Schema of the params' input) and lists
 * every key no schema object declares.
 *
 * @param root The JSON Schema.
 * @param input The params as written.
 * @returns The unknown keys, the input without them, and the missing required keys.
 */
export function findUnknownParams(root: Schema, input: unknown): UnknownParamsResult {
  const unknown: UnknownParam[] = [];
  const required: (string | number)[][] = [];
  const known = walk(root, [root], input, [], 0, unknown, required);
  return { unknown, known, required };
}

function walk(
  root: Schema,
  schemas: Schema[],
  value: unknown,
  path: (string | number)[],
  depth: number,
  unknown: UnknownParam[],
  required: (string | number)[][],
): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item, i) => {
      const itemSchemas = schemas.flatMap((s) => leaves(root, s, 0, "array")).flatMap((s) => {
        const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
        const at = i < prefix.length ? prefix[i] : s.items;
        return isSchema(at) ? [at] : [];
      });
      if (itemSchemas.length === 0) return item;
      const next = walk(root, itemSchemas, item, [...path, i], depth + 1, unknown, required);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? items : value;
  }
  if (!isSchema(value)) return value;
  const objects = schemas.flatMap((s) => leaves(root, s, 0, "object"));
  if (objects.length === 0) return value;
  const open = objects.some(isOpen);
  const declared = new Set(
    objects.flatMap((s) => isSchema(s.properties) ? Object.keys(s.properties) : []),
  );
  for (const key of new Set(objects.flatMap((s) => strings(s.required)))) {
    if (!Object.hasOwn(value, key)) required.push([...path, key]);
  }
  let changed = false;
  const kept: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value)) {
    const candidates = objects.flatMap((s) => propertySchemas(s, key));
    if (!open && !declared.has(key) && candidates.length === 0) {
      const suggestion = closestName(key, declared);
      unknown.push({ path: [...path, key], ...(suggestion === undefined ? {} : { suggestion }) });
      changed = true;
      continue;
    }
    const next = candidates.length === 0
      ? item
      : walk(root, candidates, item, [...path, key], depth + 1, unknown, required);
    if (next !== item) changed = true;
    kept.push([key, next]);
  }
  return changed ? Object.fromEntries(kept) : value;
}

/** The schemas a key's value must meet in one object schema. */
function propertySchemas(schema: Schema, key: string): Schema[] {
  if (isSchema(schema.properties) && Object.hasOwn(schema.properties, key)) {
    const property = schema.properties[key];
    return isSchema(property) ? [property] : [];
  }
  const found: Schema[] = [];
  if (isSchema(schema.patternProperties)) {
    for (const [pattern, property] of Object.entries(schema.patternProperties)) {
      if (isSchema(property) && matches(pattern, key)) found.push(property);
    }
  }
  if (found.length === 0 && isSchema(schema.additionalProperties)) {
    found.push(schema.additionalProperties);
  }
  return found;
}

// An object schema allows keys it does not name when it says so, or when it
// names none at all (`{}`, `{ type: "object" }`: nothing to compare with).
function isOpen(schema: Schema): boolean {
  const extra = schema.additionalProperties ?? schema.unevaluatedProperties;
  if (extra !== undefined) return extra !== false;
  return !isSchema(schema.properties) && !isSchema(schema.patternProperties);
}

/**
 * The plain schemas a value of `kind` meets: `$ref`s resolved and
 * `allOf`/`anyOf`/`oneOf` flattened (a key declared by any branch is known),
 * keeping only those whose `type` allows `kind`.
 */
function leaves(
  root: Schema,
  schema: Schema,
  refs: number,
  kind: string,
  seen: ReadonlySet<string> = new Set(),
): Schema[] {
  if (refs > MAX_REFS) return [{}];
  if (typeof schema.$ref === "string") {
    // A reference back into its own chain adds nothing the chain has not said.
    if (seen.has(schema.$ref)) return [];
    const target = resolve(root, schema.$ref);
    // An unresolvable reference could declare anything: treat it as open.
    if (!target) return [{}];
    const { $ref: _, ...rest } = schema;
    const chain = new Set([...seen, schema.$ref]);
    return [
      ...leaves(root, target, refs + 1, kind, chain),
      // Keywords beside the reference (zod adds a description) only count when they shape values.
      ...(SHAPE_KEYWORDS.some((k) => rest[k] !== undefined)
        ? leaves(root, rest, refs + 1, kind, chain)
        : []),
    ];
  }
  const branches = ["allOf", "anyOf", "oneOf"].flatMap((k) =>
    Array.isArray(schema[k]) ? (schema[k] as unknown[]).filter(isSchema) : []
  );
  if (!allowsType(schema.type, kind)) return [];
  // A schema that only combines others (`anyOf: [{…}, { type: "null" }]`) says nothing itself.
  const shaped = branches.length === 0 ||
    ["properties", "patternProperties", "additionalProperties", "items", "prefixItems"]
      .some((k) => schema[k] !== undefined);
  const own = shaped ? [schema] : [];
  return [...own, ...branches.flatMap((b) => leaves(root, b, refs + 1, kind, seen))];
}

function allowsType(type: unknown, kind: string): boolean {
  if (type === undefined) return true;
  if (typeof type === "string") return type === kind;
  return Array.isArray(type) && type.includes(kind);
}

function resolve(root: Schema, ref: string): Schema | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isSchema(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return isSchema(at) ? at : undefined;
}

function matches(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, "u").test(key);
  } catch {
    // A pattern we cannot read might match: let the schema decide.
    return true;
  }
}

function isSchema(value: unknown): value is Schema {
  return isRecord(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
