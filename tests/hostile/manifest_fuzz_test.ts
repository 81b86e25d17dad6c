// parseManifest() fed 10,000 seeded mutations of real manifests: every one
// is either accepted (and then well formed) or rejected with a located
// ManifestError (each issue has a line and column) or a SyntaxError whose
// message has the line and column; nothing else is thrown and nothing hangs.
import assert from "node:assert/strict";
import { ManifestError, parseManifest } from "../../lib/plugin/manifest.ts";
import { fuzzSeed, Random } from "./_support/random.ts";

const CASES = 10_000;
const SEED = fuzzSeed(0x3a9f_c0de);
const SOURCE = "file:///srv/wiretest/manifest.json";
/**
 * The slowest one case may be (a hang, or parsing quadratic in the depth, is
 * far slower): generous for a loaded machine, which can stall any one of
 * 10,000 cases for a second or two.
 */
const CASE_LIMIT_MS = 10_000;

const ROOT = new URL("../../", import.meta.url);
const BASES = await Promise.all(
  [
    "plugins/manifest.json",
    "tests/fixtures/manifests/good/manifest.json",
    "tests/fixtures/manifests/broken/manifest.json",
    "tests/fixtures/manifests/duplicate/manifest.json",
    "tests/fixtures/manifests/invalid/bad_name.json",
    "tests/fixtures/manifests/invalid/trailing_comma.txt",
  ].map((path) => Deno.readTextFile(new URL(path, ROOT))),
);

const KEYS = [
  "plugins",
  "$schema",
  "module",
  "description",
  "roles",
  "apiVersion",
  "permissions",
  "export",
  "net",
  "read",
  "write",
  "env",
  "sys",
  "run",
  "ffi",
  "hrtime",
  "__proto__",
  "constructor",
  "toString",
  "echo",
  "Echo",
  "a--b",
  "",
  "é",
  "x".repeat(300),
];

const STRINGS = [
  "",
  " ",
  "./x.ts",
  "../x.ts",
  "./",
  "jsr:",
  "jsr:@a/b",
  "npm:x",
  "https:",
  "https:x y",
  "https://[",
  "http://%zz/",
  "file:",
  "file:///etc/passwd",
  "data:text/javascript,1",
  "javascript:alert(1)",
  "C:\\x.ts",
  "server",
  "client",
  "default",
  "1abc",
  "$ok",
  "a\nb",
  "\u0000",
  "\ud800",
  "🙂",
  "x".repeat(10_000),
];

const VALUES: (() => unknown)[] = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => 1.5,
  () => 1e308,
  () => Number.MAX_SAFE_INTEGER + 2,
  () => [],
  () => ({}),
  () => ["server", "server"],
  () => ["client", "server", "other"],
  () => [1, "2", null],
  () => ({ net: true, run: true }),
  () => ({ net: ["127.0.0.1", ""], read: "yes" }),
];

const TEXT_TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "\\",
  "\n",
  "\r\n",
  " ",
  "\t",
  "0",
  "-",
  "e",
  "tru",
  "null",
  "//",
  "/*",
  "\ufeff",
  "\u2028",
  "\u0000",
  "é",
];

// Own properties even for "__proto__", as JSON.parse makes them.
function put(target: Record<string | number, unknown>, key: string | number, value: unknown) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

function randomValue(random: Random, depth = 0): unknown {
  if (depth < 3 && random.chance(0.15)) {
    const obj: Record<string, unknown> = {};
    for (let i = random.int(3); i >= 0; i--) {
      put(obj, random.pick(KEYS), randomValue(random, depth + 1));
    }
    return obj;
  }
  if (random.chance(0.4)) return random.pick(STRINGS);
  return random.pick(VALUES)();
}

/** Paths to every value in `value`. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      paths(v, [...prefix, Array.isArray(value) ? Number(k) : k], out);
    }
  }
  return out;
}

function structural(random: Random, base: string): string {
  let value: unknown;
  try {
    value = JSON.parse(base);
  } catch {
    return textual(random, base);
  }
  for (let edits = 1 + random.int(3); edits > 0; edits--) {
    const all = paths(value);
    const path = random.pick(all);
    if (path.length === 0) {
      value = random.chance(0.5) ? randomValue(random) : value;
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>(
      (node, key) => (node as Record<string | number, unknown>)[key],
      value,
    ) as Record<string | number, unknown>;
    const key = path.at(-1)!;
    switch (random.int(4)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 1:
        put(parent, key, randomValue(random));
        break;
      case 2:
        if (!Array.isArray(parent)) {
          const v = parent[key];
          delete parent[key];
          put(parent, random.pick(KEYS), v);
        }
        break;
      default:
        if (!Array.isArray(parent)) put(parent, random.pick(KEYS), randomValue(random));
        else parent.push(randomValue(random));
    }
  }
  const text = JSON.stringify(value, null, random.pick([undefined, 2, "\t"]));
  return text ?? "";
}

function textual(random: Random, base: string): string {
  let text = base;
  for (let edits = 1 + random.int(4); edits > 0; edits--) {
    const at = random.int(text.length + 1);
    switch (random.int(6)) {
      case 0:
        text = text.slice(0, at) + random.pick(TEXT_TOKENS) + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + random.int(20));
        break;
      case 2: {
        // A key and value written again, sometimes making a duplicate key.
        const from = random.int(text.length + 1);
        const piece = text.slice(from, from + random.int(80));
        text = text.slice(0, at) + piece + text.slice(at);
        break;
      }
      case 3:
        text = text.slice(0, at);
        break;
      case 4:
        text = text.replaceAll("\n", "\r\n");
        break;
      default:
        text = text.slice(0, at) + random.pick(['"x": 1,', '"plugins": {},', ",,", "[[[[", "}}"]) +
          text.slice(at);
    }
  }
  return text;
}

/** Nested JSON, `depth` levels, alone or where a permission goes. */
function nested(depth: number, array: boolean, inPlugin: boolean): string {
  const open = array ? "[" : '{"a":';
  const close = array ? "]" : "}";
  const inner = `${open.repeat(depth)}1${close.repeat(depth)}`;
  return inPlugin ? `{"plugins": {"x": {"permissions": ${inner}}}}` : inner;
}

function generate(random: Random): string {
  const base = random.pick(BASES);
  const kind = random.int(50);
  // Deeper nesting has a test of its own below: it is slow to parse.
  if (kind === 0) return nested(1 + random.int(500), random.chance(0.5), random.chance(0.5));
  return kind < 25 ? structural(random, base) : textual(random, base);
}

function located(error: unknown): string | undefined {
  if (error instanceof ManifestError) {
    if (error.issues.length === 0) return "a ManifestError without issues";
    for (const issue of error.issues) {
      if (!(issue.line! >= 1 && issue.column! >= 1)) {
        return `an issue without a line and column: ${issue.message}`;
      }
    }
    return undefined;
  }
  if (error instanceof SyntaxError) {
    return /\(line \d+, column \d+\)$/.test(error.message)
      ? undefined
      : `a SyntaxError without a position: ${error.message}`;
  }
  return `${(error as Error)?.name}: ${(error as Error)?.message}`;
}

Deno.test(`parseManifest() locates every rejection of ${CASES} mutated manifests (seed ${SEED})`, () => {
  const random = new Random(SEED);
  const failures: string[] = [];
  let accepted = 0, slowest = 0;
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const text = generate(random);
    const t0 = performance.now();
    let problem: string | undefined;
    try {
      const manifest = parseManifest(text, SOURCE);
      accepted++;
      for (const entry of manifest.plugins) {
        if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(entry.name)) {
          problem = `accepted name ${entry.name}`;
        }
        if (!/^(file|https?|jsr|npm):/i.test(entry.module)) {
          problem = `accepted module ${entry.module}`;
        }
      }
    } catch (error) {
      problem = located(error);
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    if (ms > CASE_LIMIT_MS) problem ??= `took ${ms.toFixed(0)} ms`;
    if (problem && failures.length < 10) {
      failures.push(`case ${i}: ${problem}\n  input: ${JSON.stringify(text.slice(0, 300))}`);
    }
  }
  console.log(
    `manifest fuzz: ${CASES} cases, ${accepted} accepted, slowest ${slowest.toFixed(1)} ms, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  assert.deepEqual(failures, []);
});

Deno.test("parseManifest() rejects JSON nested 10,000 and 100,000 deep with a located error", () => {
  for (const depth of [10_000, 100_000]) {
    for (const array of [true, false]) {
      for (const inPlugin of [true, false]) {
        const text = nested(depth, array, inPlugin);
        const t0 = performance.now();
        let problem: string | undefined = "accepted";
        try {
          parseManifest(text, SOURCE);
        } catch (error) {
          problem = located(error);
        }
        const ms = performance.now() - t0;
        assert.equal(problem, undefined, `depth ${depth}, ${array ? "arrays" : "objects"}`);
        assert.ok(ms < CASE_LIMIT_MS, `depth ${depth} took ${ms} ms`);
      }
    }
  }
});
