/**
 * What a role declares it reports: every metric and fact of a client
 * role's {@linkcode Outcome}, every counter of a server role's `stats()`.
 * Declarations are data: `wiretest reference` writes them as a table, and
 * {@linkcode outcomeProblems} checks a real outcome against them, so a
 * declaration cannot drift from what the code reports.
 *
 * @module
 */
import type {
  FactDeclaration,
  FactType,
  MetricDeclaration,
  OutcomeDeclaration,
} from "./outcome_declaration_types.ts";
import type { Outcome } from "./types.ts";

export type {
  FactDeclaration,
  FactType,
  MetricDeclaration,
  OutcomeDeclaration,
} from "./outcome_declaration_types.ts";

/** The JSON types a fact may have, for checks. */
export const FACT_TYPES: readonly FactType[] = [
  "string",
  "number",
  "boolean",
  "null",
  "object",
  "array",
];

/** Options for {@linkcode outcomeProblems} and {@linkcode statsProblems}. */
export interface OutcomeCheckOptions {
  /**
   * Receives each declaration a value matched, as `metrics.<name>`,
   * `facts.<path>` (the declared path) or `stats.<name>`: over several runs,
   * what no run produced is a declaration no test covered.
   */
  seen?: Set<string>;
}

const METRIC_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const KEY = /^(?:\*|[A-Za-z0-9_-]+)(?:\[\])*$/;

/**
 * Splits a fact path into its steps: keys, `*` for any key, `[]` for any
 * element. `"redirects[].status"` → `["redirects", "[]", "status"]`.
 *
 * @param path A declared fact path.
 * @returns Its steps.
 * @throws {SyntaxError} When the path is not keys joined by dots, each
 * followed by any number of `[]`.
 *
 * @example Splitting paths
 * ```ts
 * import { factPathSteps } from "./outcome_declaration.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(factPathSteps("redirects[].status"), ["redirects", "[]", "status"]);
 * assert.deepEqual(factPathSteps("headers.*"), ["headers", "*"]);
 * assert.throws(() => factPathSteps("a..b"), SyntaxError);
 * ```
 */
export function factPathSteps(path: string): string[] {
  const steps: string[] = [];
  for (const part of path.split(".")) {
    if (!KEY.test(part)) {
      throw new SyntaxError(
        `Cannot read fact path "${path}": "${part}" is not a key, "*" or a key followed by "[]"`,
      );
    }
    const bracket = part.indexOf("[");
    steps.push(bracket < 0 ? part : part.slice(0, bracket));
    for (let i = bracket < 0 ? part.length : bracket; i < part.length; i += 2) steps.push("[]");
  }
  return steps;
}

/**
 * Checks a role's declarations: metric names are snake_case and unique,
 * fact paths well formed and unique, every fact's parent declared as an
 * object or array, every unit, type and description given.
 *
 * @param declaration What the role declares: an outcome (client) or stats (server).
 * @param where Names the role in messages, e.g. `plugin "echo" (client)`.
 * @throws {TypeError} Naming the first declaration that is wrong.
 *
 * @example A fact whose parent is not declared
 * ```ts
 * import { checkOutcomeDeclaration } from "./outcome_declaration.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () =>
 *     checkOutcomeDeclaration({
 *       metrics: [],
 *       facts: [{ path: "tls.protocol", type: "string", description: "TLS version" }],
 *     }, 'plugin "x" (client)'),
 *   /Cannot declare the outcome of plugin "x" \(client\): fact "tls.protocol" is in "tls", which is not declared as an object/,
 * );
 * ```
 */
export function checkOutcomeDeclaration(
  declaration: OutcomeDeclaration | { readonly stats: readonly MetricDeclaration[] },
  where: string,
): void {
  const fail = (detail: string): never => {
    throw new TypeError(`Cannot declare the outcome of ${where}: ${detail}`);
  };
  if (typeof declaration !== "object" || declaration === null) fail("it is not an object");
  const isStats = "stats" in declaration;
  const metrics = isStats ? declaration.stats : declaration.metrics;
  const facts = isStats ? [] : declaration.facts;
  const kind = isStats ? "stat" : "metric";
  if (!Array.isArray(metrics)) fail(`its ${kind}s are not a list`);
  if (!Array.isArray(facts)) fail("its facts are not a list");
  const names = new Set<string>();
  for (const m of metrics) {
    if (typeof m !== "object" || m === null) fail(`a ${kind} is not an object`);
    if (typeof m.name !== "string" || !METRIC_NAME.test(m.name)) {
      fail(`${kind} name "${String(m.name)}" is not snake_case`);
    }
    if (names.has(m.name)) fail(`${kind} "${m.name}" is declared twice`);
    names.add(m.name);
    if (typeof m.unit !== "string" || m.unit === "") fail(`${kind} "${m.name}" has no unit`);
    describedOnce(m, `${kind} "${m.name}"`, fail);
  }
  const kinds = new Map<string, readonly FactType[]>();
  for (const f of facts) {
    if (typeof f !== "object" || f === null) fail("a fact is not an object");
    if (typeof f.path !== "string") fail(`a fact path is not text`);
    let steps: string[];
    try {
      steps = factPathSteps(f.path);
    } catch (error) {
      return fail(
        (error as Error).message.replace(/^Cannot read fact path "[^"]*": /, `fact "${f.path}": `),
      );
    }
    const key = steps.join(".");
    if (kinds.has(key)) fail(`fact "${f.path}" is declared twice`);
    const types = typeof f.type === "string" ? [f.type] : f.type;
    if (
      !Array.isArray(types) || types.length === 0 || !types.every((t) => FACT_TYPES.includes(t))
    ) {
      fail(`fact "${f.path}" has type "${String(f.type)}", not one of ${FACT_TYPES.join(", ")}`);
    }
    describedOnce(f, `fact "${f.path}"`, fail);
    if (steps.length > 1) {
      const parent = steps.slice(0, -1);
      const holder = steps.at(-1) === "[]" ? "array" : "object";
      if (!kinds.get(parent.join("."))?.includes(holder)) {
        fail(
          `fact "${f.path}" is in "${
            joinSteps(parent)
          }", which is not declared as an ${holder} before it`,
        );
      }
    }
    kinds.set(key, types);
  }
}

function describedOnce(
  d: { description?: unknown; when?: unknown },
  what: string,
  fail: (detail: string) => never,
): void {
  if (typeof d.description !== "string" || d.description === "") fail(`${what} has no description`);
  if (d.when !== undefined && (typeof d.when !== "string" || d.when === "")) {
    fail(`${what} has a "when" that is not text`);
  }
}

/**
 * Joins path steps back into the declared form: `["a", "[]", "b"]` → `"a[].b"`.
 *
 * @param steps Path steps from {@linkcode factPathSteps}.
 * @returns The path.
 *
 * @example Joining steps
 * ```ts
 * import { joinSteps } from "./outcome_declaration.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(joinSteps(["redirects", "[]", "status"]), "redirects[].status");
 * ```
 */
export function joinSteps(steps: readonly string[]): string {
  let path = "";
  for (const step of steps) path += step.startsWith("[") ? step : path === "" ? step : `.${step}`;
  return path;
}

/**
 * Compares a real outcome with a role's declaration and lists what differs:
 * a metric or fact that is not declared, a fact of another type than
 * declared, and — in an outcome with `ok: true` — a metric or fact declared
 * always present that is missing (a nested fact is required wherever its
 * parent is, in failed outcomes too). Plugin tests use it to keep a
 * declaration true to the code.
 *
 * @param declaration The role's declaration.
 * @param outcome An outcome the role returned.
 * @param options Where to note the declarations matched.
 * @returns One line per problem; empty when the outcome matches.
 *
 * @example An undeclared metric and a missing one
 * ```ts
 * import { outcomeProblems } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const declaration = {
 *   metrics: [{ name: "replies", unit: "count", description: "Replies received." }],
 *   facts: [{ path: "peer", type: "string" as const, description: "Who answered." }],
 * };
 * assert.deepEqual(
 *   outcomeProblems(declaration, { ok: true, metrics: { pongs: 3 }, facts: { peer: "x" } }),
 *   ['metric "pongs" is not declared', 'metric "replies" is declared always present but missing'],
 * );
 * ```
 */
export function outcomeProblems(
  declaration: OutcomeDeclaration,
  outcome: Outcome,
  options: OutcomeCheckOptions = {},
): string[] {
  const problems = metricProblems(
    declaration.metrics,
    outcome.metrics,
    outcome.ok,
    "metric",
    options.seen,
  );
  const byKey = new Map<string, FactDeclaration>();
  for (const f of declaration.facts) byKey.set(factPathSteps(f.path).join("."), f);
  const walk: Walk = { byKey, problems, seen: options.seen };
  walkFacts(walk, outcome.facts, [], [], outcome.ok);
  return problems;
}

/**
 * Compares a server's `stats()` with its declared counters: every counter
 * must be declared and a number, and every one declared without `when`
 * must be there.
 *
 * @param declared The server role's `stats` declaration.
 * @param stats What `stats()` returned.
 * @param options Where to note the declarations matched.
 * @returns One line per problem; empty when the stats match.
 *
 * @example A counter the declaration forgot
 * ```ts
 * import { statsProblems } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const declared = [{ name: "requests", unit: "count", description: "Requests answered." }];
 * assert.deepEqual(statsProblems(declared, { requests: 1, active: 0 }), [
 *   'stat "active" is not declared',
 * ]);
 * ```
 */
export function statsProblems(
  declared: readonly MetricDeclaration[],
  stats: Record<string, number>,
  options: OutcomeCheckOptions = {},
): string[] {
  return metricProblems(declared, stats, true, "stat", options.seen);
}

function metricProblems(
  declared: readonly MetricDeclaration[],
  metrics: Record<string, number>,
  ok: boolean,
  kind: string,
  seen: Set<string> | undefined,
): string[] {
  const problems: string[] = [];
  const byName = new Map(declared.map((m) => [m.name, m]));
  for (const [name, value] of Object.entries(metrics)) {
    if (!byName.has(name)) problems.push(`${kind} "${name}" is not declared`);
    else if (typeof value !== "number") {
      problems.push(`${kind} "${name}" is ${typeName(value)}, not a number`);
    } else seen?.add(`${kind}s.${name}`);
  }
  if (ok) {
    for (const m of declared) {
      if (m.when === undefined && !Object.hasOwn(metrics, m.name)) {
        problems.push(`${kind} "${m.name}" is declared always present but missing`);
      }
    }
  }
  return problems;
}

interface Walk {
  byKey: Map<string, FactDeclaration>;
  problems: string[];
  seen: Set<string> | undefined;
}

// Walks an object of facts: `steps` is where it is in the outcome (indexes
// as "[0]"), `declared` the steps of the declaration it matched ("*", "[]").
function walkFacts(
  walk: Walk,
  object: Record<string, unknown>,
  steps: string[],
  declared: string[],
  required: boolean,
): void {
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) walkValue(walk, value, [...steps, key], declared, key);
  }
  if (!required) return;
  for (const [declaredKey, f] of walk.byKey) {
    const fSteps = declaredKey.split(".");
    const last = fSteps.at(-1)!;
    if (
      f.when === undefined && last !== "*" && last !== "[]" &&
      fSteps.length === declared.length + 1 && sameSteps(fSteps.slice(0, -1), declared) &&
      object[last] === undefined
    ) {
      walk.problems.push(
        `fact "${joinSteps([...steps, last])}" is declared always present but missing`,
      );
    }
  }
}

function walkValue(
  walk: Walk,
  value: unknown,
  steps: string[],
  parent: string[],
  key: string,
): void {
  const { byKey, problems } = walk;
  // The most specific match: the exact key before "*".
  const exact = [...parent, key];
  const any = [...parent, key === "[]" ? "[]" : "*"];
  const declaredSteps = byKey.has(exact.join(".")) ? exact : byKey.has(any.join(".")) ? any : null;
  const path = joinSteps(steps);
  if (!declaredSteps) {
    problems.push(`fact "${path}" is not declared`);
    return;
  }
  const f = byKey.get(declaredSteps.join("."))!;
  const type = typeName(value);
  const types = typeof f.type === "string" ? [f.type] : f.type;
  if (!types.includes(type as FactType)) {
    problems.push(`fact "${path}" is ${type}, declared ${types.join(" or ")}`);
    return;
  }
  walk.seen?.add(`facts.${f.path}`);
  if (type === "array") {
    (value as unknown[]).forEach((element, i) =>
      walkValue(walk, element, [...steps, `[${i}]`], declaredSteps, "[]")
    );
  } else if (type === "object") {
    walkFacts(walk, value as Record<string, unknown>, steps, declaredSteps, true);
  }
}

function sameSteps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((step, i) => step === b[i]);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
