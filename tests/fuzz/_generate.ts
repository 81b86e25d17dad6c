// Structure-aware generation of fixtures: objects shaped like fixtures, with
// the built-in plugins' real params (taken from their JSON Schemas), the
// expectation grammar and `${…}` variables, each part sometimes right and
// sometimes wrong, then written as YAML or JSON.
import { stringify, type ToStringOptions } from "yaml";
import { paramsJsonSchema } from "../../lib/plugin/json_schema.ts";
import type { Registry } from "../../lib/plugin/registry.ts";
import type { Random } from "./_random.ts";

/** One param of a plugin role, as its JSON Schema describes it. */
export interface ParamShape {
  type?: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  items?: ParamShape;
}

/** The params of one role. */
export interface RoleShape {
  properties: Readonly<Record<string, ParamShape>>;
  required: readonly string[];
}

/** The roles of each plugin, by plugin name. */
export type PluginShapes = Readonly<Record<string, { server?: RoleShape; client?: RoleShape }>>;

/** A fixture file to try. */
export interface FuzzText {
  /** Its text. */
  text: string;
  /** `yaml` or `json`: the file is named `*.wire.<ext>`. */
  ext: "yaml" | "json";
}

/** Reads the params of every plugin of `registry` from their JSON Schemas. */
export async function pluginShapes(registry: Registry): Promise<PluginShapes> {
  const shapes: Record<string, { server?: RoleShape; client?: RoleShape }> = {};
  for (const entry of registry.list()) {
    const schemas = paramsJsonSchema(await registry.load(entry.name));
    const role = (schema: unknown): RoleShape | undefined => {
      if (!schema || typeof schema !== "object") return undefined;
      const s = schema as { properties?: Record<string, ParamShape>; required?: string[] };
      return { properties: s.properties ?? {}, required: s.required ?? [] };
    };
    shapes[entry.name] = { server: role(schemas.server), client: role(schemas.client) };
  }
  return shapes;
}

/** Sets a property even when its name is `__proto__`. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const GOOD_NAMES = ["a", "first", "echo", "web_1", "_x", "Relay-2", "step3", "B"];
const BAD_NAMES = [
  "",
  " ",
  "1abc",
  "has space",
  "é",
  "a.b",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "x".repeat(200),
  "${services.a.addr}",
  "\u0000",
  "😀",
];
const UNKNOWN_PLUGINS = ["ecoh", "http_probe", "HTTP-probe", "gopher", "", "a--b", "x".repeat(80)];
const GOOD_DURATIONS = ["500ms", "1.5s", "2m", "1m30s", "500us", " 1 h ", "250ns", "0.5s", 250];
const BAD_DURATIONS = [
  "30",
  "-1s",
  "1.5.5s",
  "1y",
  -5,
  true,
  "",
  null,
  "9".repeat(400) + "h",
  Infinity,
  0,
  "0s",
  [1],
  { s: 1 },
];
const ENV_NAMES = ["HOME", "ECHO_PAYLOAD", "WIRETEST_TMP", "WIRETEST_FIXTURE_DIR", "_A1"];
const BAD_ENV_NAMES = ["", "1X", "A-B", "a b", 5, null];
const SERVICE_FIELDS = ["addr", "host", "port", "path", "adr", "hostname", ""];
const OUTCOME_KEYS = [
  "ok",
  "error",
  "error.code",
  "error.message",
  "error.name",
  "error.nope",
  "metrics.rtt_p99_ms",
  "metrics.bytes_received",
  "metrics.bytes_sent",
  "metrics.round_trips",
  "metrics.duration_s",
  "metrics.status",
  "metrics",
  "metrics.a.b",
  "facts.x",
  "facts.hops[0].status",
  'facts["content-type"]',
  "facts.headers.content-type",
  "facts.payload_bytes",
  "facts[",
  "facts.",
  "facts[x]",
  "",
  "ok.x",
  "nonsense",
  ".ok",
  "metrics..x",
];
const GOOD_VALUES: readonly unknown[] = [
  true,
  false,
  0,
  200,
  -1.5,
  "hello",
  null,
  "< 20",
  "<= 20ms",
  "> 0",
  ">= 1KiB",
  "== x",
  "!= x",
  "== exists",
  "10..20",
  "10ms..2s",
  "1KiB..2MiB",
  "-5..5",
  "/refused|reset/i",
  "/^[0-9a-f]{64}$/",
  { match: "a+", flags: "i" },
  { match: "x" },
  { contains: "text/plain" },
  { contains: 5 },
  { exists: true },
  { exists: false },
  "exists",
  "absent",
  [200, 204],
  ["< 5", { exists: false }],
  "1 KiB",
  "20ms",
];
const BAD_VALUES: readonly unknown[] = [
  "<< 5",
  "<",
  ">=",
  "=<5",
  "10..1",
  "1KiB..20ms",
  "/(/",
  "/a/zz",
  "/a/gg",
  { match: 5 },
  { match: "(" },
  { match: "a", flags: "q" },
  { contains: [] },
  { contains: { a: 1 } },
  { exists: "yes" },
  { mach: "x" },
  { match: "a", contains: "b" },
  { flags: "i" },
  {},
  [],
  [[1]],
  [{ exists: 1 }],
  "< 1e999",
  "< 5 parsecs",
  "< 1.5.5",
  ">= 99999999999 TiB",
  "< 1.1 B",
  Infinity,
  -Infinity,
  NaN,
  "${",
  "${}",
  "< ${",
  "${a b}",
  "== ${steps[}",
  "x".repeat(3000),
];

/** What a fixture being generated has declared so far, and how often to get things wrong. */
interface Context {
  services: string[];
  steps: string[];
  env: string[];
  /** The chance of each part being wrong: 0 for a fixture meant to be valid. */
  bad: number;
}

function wrong(r: Random, ctx: Context): boolean {
  return ctx.bad > 0 && r.chance(ctx.bad);
}

/**
 * A `${…}` variable: one the fixture allows where it is used, or (when
 * wrong) an undefined name, a later step, a bad field or a malformed one.
 */
function variable(r: Random, ctx: Context, site: "service" | "with" | "expect"): string {
  if (wrong(r, ctx)) {
    return r.pick([
      () => `\${services.${r.pick(["nope", ...ctx.services])}.${r.pick(SERVICE_FIELDS)}}`,
      () => `\${steps.${r.pick(["nope", ...GOOD_NAMES])}.${r.pick(["ok", "x", "metrics"])}}`,
      () => `\${steps.${r.pick([...ctx.steps, "a"])}}`,
      () => `\${env.${r.pick(ENV_NAMES)}.x}`,
      () => `\${env.NOT_LISTED}`,
      () => r.pick(["${", "${}", "${ services.a.addr }", "${nope.x}", "${[0]}", "${a b}"]),
    ])();
  }
  const choices: (() => string)[] = [() => "$${literal}"];
  // Services use earlier services only; steps any service, and earlier named steps.
  const services = site === "service" ? ctx.services.slice(0, -1) : ctx.services;
  if (services.length > 0) {
    choices.push(() =>
      `\${services.${r.pick(services)}.${r.pick(["addr", "host", "port", "path"])}}`
    );
  }
  const steps = site === "expect" ? ctx.steps : ctx.steps.slice(0, -1);
  if (site !== "service" && steps.length > 0) {
    choices.push(() =>
      `\${steps.${r.pick(steps)}.${
        r.pick(["ok", "metrics.count", "facts.a.b", "error.code", "facts.hops[0]"])
      }}`
    );
  }
  if (ctx.env.length > 0) choices.push(() => `\${env.${r.pick(ctx.env)}}`);
  if (RUNNER_ENV.length > 0) choices.push(() => `\${env.${r.pick(RUNNER_ENV)}}`);
  return r.pick(choices)();
}

const RUNNER_ENV = ["WIRETEST_TMP", "WIRETEST_FIXTURE_DIR"];

const WRONG_TYPES: readonly unknown[] = [
  "text",
  "",
  12,
  -1,
  1.5,
  true,
  null,
  [],
  {},
  [1],
  { a: 1 },
  1e300,
];

/** A value for a param: right, or (when wrong) of another type or out of range. */
function paramValue(
  r: Random,
  shape: ParamShape,
  name: string,
  ctx: Context,
  site: "service" | "with",
): unknown {
  if (wrong(r, ctx) && r.chance(0.5)) return r.pick(WRONG_TYPES);
  if (r.chance(0.1)) return `${r.chance(0.3) ? "127.0.0.1:" : ""}${variable(r, ctx, site)}`;
  const outOfRange = wrong(r, ctx);
  switch (shape.type) {
    case "integer":
    case "number": {
      const min = shape.minimum ?? 0;
      const max = Math.min(shape.maximum ?? 1e6, 1e9);
      if (outOfRange) return r.pick([min - 1, max + 1, 1e21, -0.5, 2 ** 53 + 1]);
      const value = r.between(Math.max(min, 0), Math.max(Math.min(max, min + 1000), min));
      return shape.type === "number" && r.chance(0.3) && value + 0.25 <= max ? value + 0.25 : value;
    }
    case "boolean":
      return outOfRange ? r.pick(["true", "yes", 1]) : r.chance(0.5);
    case "array":
      if (outOfRange) return r.pick([Array(101).fill("A: b"), ["no colon"], ["A: b\r\nC: d"]]);
      return r.pick([[], ["Content-Type: text/plain"], ["X-A: 1", "X-B: 2"]]);
    default: {
      if (shape.enum) return outOfRange ? r.pick(["TCP", "sctp", ""]) : r.pick(shape.enum);
      if (outOfRange) return shape.minLength ? "" : r.pick(["\u0000", "x".repeat(5000)]);
      return stringFor(r, name);
    }
  }
}

function stringFor(r: Random, name: string): string {
  if (/target/.test(name)) {
    return r.pick([
      "127.0.0.1:7",
      "[::1]:7",
      "localhost:80",
      "127.0.0.1:99999",
      "unix:/tmp/a.sock",
    ]);
  }
  if (/url/.test(name)) return r.pick(["http://127.0.0.1:8080/", "https://[::1]/x", "not a url"]);
  if (/method/.test(name)) return r.pick(["GET", "POST", "BAD METHOD"]);
  if (/hex/i.test(name)) return r.pick(["00ff", "abc", "zz"]);
  if (/host/.test(name)) return r.pick(["127.0.0.1", "::1", "localhost"]);
  return r.pick(["x", "/tmp/file", "hello wire", "é😀", "a\nb", "./data/hello.txt"]);
}

/** A typo of a known key, or an odd one. */
function unknownKey(r: Random, known: readonly string[]): string {
  if (known.length > 0 && r.chance(0.6)) {
    const key = r.pick(known);
    const at = r.int(Math.max(key.length, 1));
    return key.slice(0, at) + key.slice(at + 1) || "x";
  }
  return r.pick(["__proto__", "constructor", "nope", "", "with ", "x".repeat(100)]);
}

function params(
  r: Random,
  role: RoleShape | undefined,
  ctx: Context,
  site: "service" | "with",
): unknown {
  if (wrong(r, ctx) && r.chance(0.2)) return r.pick(["text", 5, [], null, [{ a: 1 }]]);
  const out: Record<string, unknown> = {};
  if (!role) {
    if (r.chance(0.5)) put(out, r.pick(["a", "target", "x"]), variable(r, ctx, site));
    return out;
  }
  const names = Object.keys(role.properties);
  for (const name of names) {
    const required = role.required.includes(name);
    if (required ? !wrong(r, ctx) : r.chance(0.2)) {
      put(out, name, paramValue(r, role.properties[name], name, ctx, site));
    }
  }
  if (wrong(r, ctx)) put(out, unknownKey(r, names), r.pick(WRONG_TYPES));
  return out;
}

function pluginFor(
  r: Random,
  ctx: Context,
  shapes: PluginShapes,
  role: "server" | "client",
): string {
  const names = Object.keys(shapes);
  if (wrong(r, ctx)) return r.pick([...UNKNOWN_PLUGINS, ...names]);
  return r.pick(names.filter((name) => shapes[name][role]));
}

function duration(r: Random, ctx: Context): unknown {
  return wrong(r, ctx) ? r.pick(BAD_DURATIONS) : r.pick(GOOD_DURATIONS);
}

// Keys every outcome may have; the rest are wrong or only right for some values.
const SOUND_KEYS = OUTCOME_KEYS.slice(0, 19);
// Values any key takes (units only fit some names, so they count as risky).
const SOUND_VALUES = GOOD_VALUES.filter((v) => !(typeof v === "string" && /ms|KiB|MiB/.test(v)));

function expectation(r: Random, ctx: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const count = r.int(5);
  for (let i = 0; i < count; i++) {
    const key = wrong(r, ctx) ? r.pick(OUTCOME_KEYS) : r.pick(SOUND_KEYS);
    let value: unknown;
    if (wrong(r, ctx)) value = r.pick([...BAD_VALUES, ...GOOD_VALUES]);
    else if (r.chance(0.8)) value = r.pick(SOUND_VALUES);
    else {
      const v = variable(r, ctx, "expect");
      value = r.pick([v, `== ${v}`, { contains: v }, [v, 1]]);
    }
    put(out, key, value);
  }
  return out;
}

/** A fixture as an object: valid, or with some parts wrong. */
export function generateFixture(r: Random, shapes: PluginShapes): unknown {
  const ctx: Context = { services: [], steps: [], env: [], bad: r.pick([0, 0, 0, 0.03, 0.1, 0.3]) };
  if (wrong(r, ctx) && r.chance(0.05)) {
    return r.pick([null, "name: x", 5, [], [{ name: "x" }], true]);
  }
  const fixture: Record<string, unknown> = {};
  if (r.chance(0.05)) fixture.$schema = "../../fixture.schema.json";
  if (!wrong(r, ctx)) fixture.name = r.pick(["echo test", "t", "é 😀 名前", "x".repeat(300)]);
  else if (r.chance(0.5)) fixture.name = r.pick(["", 5, null, ["a"]]);
  if (r.chance(0.2)) {
    fixture.description = wrong(r, ctx) ? 5 : r.pick(["A description.", "multi\nline"]);
  }
  if (wrong(r, ctx)) {
    fixture.plugins = r.pick([
      ["./missing/manifest.json"],
      [""],
      [5],
      "./manifest.json",
      ["https://example.invalid/manifest.json"],
      ["jsr:@acme/plugins"],
      [new URL("../../plugins/manifest.json", import.meta.url).pathname],
      [new URL("../../tests/fixtures/manifests/invalid/bad_name.json", import.meta.url).pathname],
    ]);
  }
  if (r.chance(0.2)) fixture.timeout = duration(r, ctx);
  if (r.chance(0.3)) {
    const env = Array.from(
      { length: r.between(1, 3) },
      () => wrong(r, ctx) ? r.pick(BAD_ENV_NAMES) : r.pick(ENV_NAMES),
    );
    ctx.env = env.filter((e): e is string => typeof e === "string" && /^[A-Za-z_]\w*$/.test(e));
    fixture.env = wrong(r, ctx) ? "HOME" : env;
  }
  if (r.chance(0.7)) {
    const services: Record<string, unknown> = {};
    const count = r.int(4);
    for (let i = 0; i < count; i++) {
      const name = wrong(r, ctx) ? r.pick(BAD_NAMES) : `${r.pick(GOOD_NAMES)}${i}`;
      const plugin = pluginFor(r, ctx, shapes, "server");
      const service: Record<string, unknown> = {};
      if (!wrong(r, ctx)) service.plugin = plugin;
      else if (r.chance(0.5)) service.plugin = r.pick([5, null, ["echo"]]);
      ctx.services.push(name);
      if (r.chance(0.7)) service.with = params(r, shapes[plugin]?.server, ctx, "service");
      if (wrong(r, ctx)) put(service, unknownKey(r, ["plugin", "with"]), "x");
      put(services, name, wrong(r, ctx) && r.chance(0.2) ? r.pick(["echo", null, []]) : service);
    }
    fixture.services = wrong(r, ctx) && r.chance(0.2) ? r.pick([[], "echo", 5]) : services;
  }
  if (!wrong(r, ctx)) {
    const steps: unknown[] = [];
    const count = wrong(r, ctx) ? 0 : r.between(1, 4);
    const shared = r.chance(0.1) ? { target: "127.0.0.1:7" } : undefined;
    for (let i = 0; i < count; i++) {
      const step: Record<string, unknown> = {};
      if (r.chance(0.6)) {
        const name = wrong(r, ctx)
          ? r.pick([...BAD_NAMES, ...ctx.steps])
          : `${r.pick(GOOD_NAMES)}${i}`;
        step.name = wrong(r, ctx) ? r.pick([5, null, true]) : name;
        ctx.steps.push(name);
      }
      const plugin = pluginFor(r, ctx, shapes, "client");
      if (!wrong(r, ctx)) step.plugin = plugin;
      // The same object twice becomes an anchor and an alias in YAML.
      if (shared && plugin === "echo" && r.chance(0.5)) step.with = shared;
      else step.with = params(r, shapes[plugin]?.client, ctx, "with");
      if (r.chance(0.2)) step.timeout = duration(r, ctx);
      if (r.chance(0.1)) {
        step.retries = wrong(r, ctx) ? r.pick([101, -1, 1.5, "2", null]) : r.pick([0, 3, 100]);
      }
      if (r.chance(0.1)) step.retryDelay = duration(r, ctx);
      if (r.chance(0.7)) step.expect = wrong(r, ctx) ? r.pick(["ok", [], 5]) : expectation(r, ctx);
      if (wrong(r, ctx)) {
        put(step, unknownKey(r, ["name", "plugin", "with", "timeout", "expect"]), 1);
      }
      steps.push(wrong(r, ctx) && r.chance(0.2) ? r.pick(["echo", null, 5, []]) : step);
    }
    fixture.steps = steps;
  } else if (r.chance(0.5)) {
    fixture.steps = r.pick([[], { a: { plugin: "echo" } }, "echo", null]);
  }
  if (wrong(r, ctx)) {
    put(fixture, unknownKey(r, ["name", "steps", "services", "timeout", "env"]), 1);
  }
  return fixture;
}

const YAML_PREFIXES = ["", "", "", "# comment\n", "---\n", "%YAML 1.2\n---\n", "\ufeff"];
const YAML_SUFFIXES = ["", "", "", "...\n", "---\nname: second\n", "\n\n# end"];

/** Writes a generated fixture as YAML (with random style) or JSON. */
export function serialise(r: Random, value: unknown): FuzzText {
  if (r.chance(0.3)) {
    return { text: JSON.stringify(value, null, r.pick([0, 2, "\t"])) ?? "null", ext: "json" };
  }
  const options: ToStringOptions = {
    indent: r.pick([2, 2, 4, 1]),
    collectionStyle: r.pick(["any", "any", "block", "flow"] as const),
    defaultStringType: r.pick(
      ["PLAIN", "PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE", "BLOCK_LITERAL"] as const,
    ),
    lineWidth: r.pick([80, 0, 20]),
  };
  const text = stringify(value, options);
  return { text: r.pick(YAML_PREFIXES) + text + r.pick(YAML_SUFFIXES), ext: "yaml" };
}

/** A generated fixture, written out. */
export function generatedText(r: Random, shapes: PluginShapes): FuzzText {
  return serialise(r, generateFixture(r, shapes));
}
