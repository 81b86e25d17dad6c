// Every `metrics.*` and `facts.*` key the documentation and the examples
// use names something the plugin it is used with declares (and
// outcome_declarations_test.ts ties the declarations to real outcomes): a
// fixture's expectations and `${steps.…}` variables are checked against their
// step's plugin, code against the plugin it imports (or, for a plugin it
// defines itself, against its own text), the rest against the built-ins.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parsePath } from "../lib/fixture/_path.ts";
import type { AnyPlugin } from "../lib/host/mod.ts";
import type { OutcomeDeclaration } from "../lib/plugin/mod.ts";
import { factPathSteps } from "../lib/plugin/outcome_declaration.ts";
import echo from "../plugins/echo/mod.ts";
import fileSend from "../plugins/file_send/mod.ts";
import httpProbe from "../plugins/http_probe/mod.ts";
import udpPing from "../plugins/udp_ping/mod.ts";
import proxy from "../plugins/proxy/mod.ts";
import dns from "../examples/plugins/dns/mod.ts";
import resp from "../examples/plugins/resp/mod.ts";
import { checkLoadPlan, LOAD_OUTCOME_DECLARATION, loadMetrics, runLoad } from "../lib/load/mod.ts";

const LOAD_FACTS = new Set(LOAD_OUTCOME_DECLARATION.facts.map((f) => f.path));

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BUILTINS = ["echo", "http-probe", "udp-ping", "file-send", "proxy"];
const DECLARED = new Map<string, OutcomeDeclaration>(
  ([echo, httpProbe, udpPing, fileSend, proxy, dns, resp] as AnyPlugin[]).map((p) => {
    assert.ok(p.client?.outcome, `${p.name} declares its outcome`);
    return [p.name, p.client.outcome];
  }),
);
// What `wiretest load` reports (its thresholds use these), from a real run of
// an open-model plan, so `asked_rate` is among them.
const LOAD_METRICS = new Set(
  Object.keys(loadMetrics(
    await runLoad(
      () =>
        Promise.resolve({
          iterate: () => Promise.resolve({ ok: true }),
          close: () => Promise.resolve(),
        }),
      checkLoadPlan({ rate: 100, duration: "50ms", maxVus: 1 }),
    ),
  )),
);
// Where the plugin folders of code examples are: `plugins/echo/mod.ts`, `…/plugins/http-probe`.
const IMPORTED: readonly [RegExp, string][] = [
  [/plugins\/echo\b/, "echo"],
  [/plugins\/(http_probe|http-probe)\b/, "http-probe"],
  [/plugins\/(udp_ping|udp-ping)\b/, "udp-ping"],
  [/plugins\/(file_send|file-send)\b/, "file-send"],
  [/plugins\/proxy\b/, "proxy"],
];
const KEY = /(?<![\w$])(metrics|facts)((?:\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"\\]*"\])+)/g;
// Prose that names one without the prefix: "metric `tls_inspections`", "the `tls.certificate` fact".
const NAMED = /\b(metric|fact)s? `([\w.[\]"-]+)(?::[^`]*)?`|`([\w.[\]"-]+)` (metric|fact)\b/g;
const STEP_VARIABLE = /\$\{\s*steps\.([\w-]+)\.((?:metrics|facts)[^}\s]*)\s*\}/g;

/** A key found in a file, and what it must exist in. */
interface Use {
  key: string;
  where: string;
  /** Plugins, any of which must declare it. */
  plugins?: readonly string[];
  /** Text of a plugin defined where the key is used: it must name the key. */
  source?: string;
  /** Used with `wiretest load` (README's Load section): a load metric is fine too. */
  load?: boolean;
}

/** Whether a plugin declares `key` (`metrics.x`, `facts.a[0].b`, `facts.headers["x"]`). */
function declares(plugin: string, key: string): boolean {
  const declaration = DECLARED.get(plugin);
  if (!declaration) return false;
  const [root, ...rest] = parsePath(key);
  if (root === "metrics") {
    return rest.length === 1 && declaration.metrics.some((m) => m.name === rest[0]);
  }
  const steps = rest.map((s) => typeof s === "number" ? "[]" : s);
  return declaration.facts.some((f) => {
    const declared = factPathSteps(f.path);
    return declared.length === steps.length &&
      declared.every((d, i) => d === steps[i] || (d === "*" && steps[i] !== "[]"));
  });
}

// A plugin defined in the text itself: the key's name is one of its own
// (written outside an accessor), or one summaryMetrics makes for a prefix it uses.
function namedIn(source: string, key: string): boolean {
  const name = String(parsePath(key)[1]);
  const rest = source.replaceAll(KEY, " ");
  if (new RegExp(`(?<![\\w.])${name}(?![\\w])`).test(rest)) return true;
  const latency = /^(\w+)_(min|p50|p90|p99|p999|max|mean|stddev)_ms$/.exec(name);
  return latency !== null && source.includes(`summaryMetrics("${latency[1]}"`);
}

function problem(use: Use): string | undefined {
  if (use.plugins?.some((p) => declares(p, use.key))) return undefined;
  if (use.load && LOAD_METRICS.has(use.key.replace(/^metrics\./, ""))) return undefined;
  if (
    use.load &&
    LOAD_FACTS.has(
      use.key.replace(/^facts\./, "").replace(/^errors_by_type\..*/, "errors_by_type.*"),
    )
  ) {
    return undefined;
  }
  if (use.source !== undefined && namedIn(use.source, use.key)) return undefined;
  const what = use.plugins ? `declared by ${use.plugins.join(" or ")}` : "defined there";
  return `${use.where}: "${use.key}" is not ${what}`;
}

/** Keys of a fixture (parsed YAML): each expectation and `${steps.…}` by its step's plugin. */
function fixtureUses(text: string, where: string): Use[] {
  const fixture = parse(text) as { steps?: { name?: string; plugin: string }[] };
  const steps = fixture.steps ?? [];
  const byName = new Map(steps.map((s) => [s.name, s.plugin]));
  const uses: Use[] = [];
  steps.forEach((step, i) => {
    const at = `${where} steps[${i}]`;
    const expect = (step as { expect?: Record<string, unknown> }).expect ?? {};
    // A load step's expectations are thresholds on the load's metrics.
    const load = (step as { load?: unknown }).load !== undefined;
    for (const key of Object.keys(expect)) {
      if (/^(metrics|facts)\b/.test(key)) {
        uses.push({ key, where: at, plugins: [step.plugin], ...(load ? { load } : {}) });
      }
    }
    for (const [, name, key] of JSON.stringify(step).matchAll(STEP_VARIABLE)) {
      const plugin = byName.get(name);
      assert.ok(plugin, `${at}: "\${steps.${name}…}" names no step`);
      uses.push({ key, where: at, plugins: [plugin] });
    }
  });
  // Nothing escapes: every key written in the file is one of these.
  assert.equal(uses.length, [...text.matchAll(KEY)].length, `${where}: keys outside steps`);
  return uses;
}

/** Keys in code: by the plugin it imports, or its own plugin, or the built-ins. */
function codeUses(code: string, where: string, fallback: readonly string[] = BUILTINS): Use[] {
  const imported = IMPORTED.filter(([pattern]) => pattern.test(code)).map(([, name]) => name);
  const ownPlugin = /definePlugin\(|summaryMetrics\(|: Outcome\b/.test(code);
  return [...code.matchAll(KEY)].map((m) => ({
    key: m[0],
    where,
    ...(imported.length > 0 ? { plugins: imported } : ownPlugin ? {} : { plugins: fallback }),
    ...(ownPlugin ? { source: code } : {}),
  }));
}

/** Keys in Markdown: fixtures in yaml blocks, code by what it imports, prose by the built-ins. */
function markdownUses(text: string, file: string, prose: Partial<Use> = {}): Use[] {
  const uses: Use[] = [];
  const fence = /^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm;
  let last = 0;
  const proseUses = (part: string, offset: number) => {
    for (const m of part.matchAll(KEY)) {
      const line = text.slice(0, offset + m.index).split("\n").length;
      uses.push({ key: m[0], where: `${file}:${line}`, plugins: BUILTINS, ...prose });
    }
    for (const m of part.matchAll(NAMED)) {
      const line = text.slice(0, offset + m.index).split("\n").length;
      const key = `${m[1] ?? m[4]}s.${m[2] ?? m[3]}`;
      uses.push({ key, where: `${file}:${line}`, plugins: BUILTINS, ...prose });
    }
  };
  for (const m of text.matchAll(fence)) {
    proseUses(text.slice(last, m.index), last);
    last = m.index + m[0].length;
    const [, lang, body] = m;
    const where = `${file}:${text.slice(0, m.index).split("\n").length}`;
    if (lang === "yaml" && /^steps:/m.test(body)) uses.push(...fixtureUses(body, where));
    else if (lang === "ts") uses.push(...codeUses(body, where));
    else proseUses(body, m.index);
  }
  proseUses(text.slice(last), last);
  return uses;
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await filesUnder(path, suffix));
    else if (entry.name.endsWith(suffix)) files.push(path);
  }
  return files.sort();
}

/**
 * Marks as load uses those in README's "## Load" section, and in the limits'
 * load rows (`| load …`) and load bullets (`- **Load …`, to the next bullet).
 */
function inLoadSection(text: string, uses: Use[]): Use[] {
  const lines = text.split("\n");
  const start = lines.indexOf("## Load") + 1;
  const end = lines.findIndex((line, i) => i >= start && line.startsWith("## "));
  assert.ok(start > 0 && end > start, "README has a Load section");
  const loadLine = new Set<number>();
  let inBullet = false;
  lines.forEach((line, i) => {
    if (line.startsWith("- ")) inBullet = line.startsWith("- **Load");
    else if (!line.startsWith("  ")) inBullet = false;
    if (inBullet || /^\| load/.test(line)) loadLine.add(i + 1);
  });
  return uses.map((use) => {
    const line = Number(use.where.split(":").at(-1));
    return (line > start && line <= end) || loadLine.has(line) ? { ...use, load: true } : use;
  });
}

async function documentedUses(): Promise<Use[]> {
  const read = (file: string) => Deno.readTextFile(`${ROOT}${file}`);
  const uses: Use[] = [
    ...inLoadSection(await read("README.md"), markdownUses(await read("README.md"), "README.md")),
    ...markdownUses(await read("REFERENCE.md"), "REFERENCE.md"),
    // The scaffold's plugin (`wiretest new plugin`) is described in prose.
    ...markdownUses(await read("PLUGINS.md"), "PLUGINS.md", {
      source: await read("lib/cli/_scaffold/module_template.ts"),
    }),
  ];
  for (const file of await filesUnder("examples", ".wire.yaml")) {
    uses.push(...fixtureUses(await read(file), file));
  }
  for (const file of await filesUnder("examples", ".ts")) {
    // An example plugin's own files use its own keys.
    const own = /^examples\/plugins\/([\w-]+)\//.exec(file)?.[1];
    uses.push(
      ...codeUses(await read(file), file, own ? [own] : BUILTINS).map((use) =>
        own ? { ...use, plugins: [own], source: undefined } : use
      ),
    );
  }
  return uses;
}

Deno.test("every metrics.* and facts.* key in README, PLUGINS.md, REFERENCE.md and examples/ is declared by its plugin", async () => {
  const uses = await documentedUses();
  const problems = uses.map(problem).filter((p) => p !== undefined);
  assert.deepEqual(problems, []);
  // The scan found the keys it should, in each kind of place.
  const keys = (where: string) => uses.filter((u) => u.where.startsWith(where)).map((u) => u.key);
  assert.ok(keys("README.md").includes("facts.redirects[0].status"));
  assert.ok(keys("README.md").includes('facts.headers["content-type"]'));
  assert.ok(keys("README.md").includes("metrics.tls_inspections"));
  assert.ok(keys("README.md").includes("facts.tls.native_refused"));
  assert.ok(keys("PLUGINS.md").includes("metrics.pongs"));
  assert.ok(keys("PLUGINS.md").includes("metrics.ops"));
  assert.ok(keys("examples/fixtures/http_probe.wire.yaml").includes("facts.headers.content-type"));
  assert.ok(keys("examples/fixtures/file_send.wire.yaml").includes("facts.ack.sha256"));
  assert.ok(keys("examples/plugins/dns/mod_test.ts").includes("facts.answers[0].data"));
  assert.ok(uses.length > 80, `${uses.length} keys found`);
  // Load thresholds are checked against what `wiretest load` reports, nothing else.
  assert.ok(uses.some((u) => u.load && u.key === "metrics.error_rate"));
  assert.equal(
    problem({ key: "metrics.error_rte", where: "x", plugins: BUILTINS, load: true }) !== undefined,
    true,
  );
});

Deno.test("the documented-keys check refuses a wrong key in each kind of place", () => {
  const wrong = (uses: Use[]) => uses.map(problem).filter((p) => p !== undefined);
  // The README's old example: http-probe's hops are facts.redirects.
  assert.deepEqual(wrong(markdownUses("Keys: `facts.hops[0].status`.\n", "R.md")), [
    'R.md:1: "facts.hops[0].status" is not declared by echo or http-probe or udp-ping or file-send or proxy',
  ]);
  // Named in prose without its prefix.
  assert.deepEqual(
    wrong(markdownUses("The fact `tls.sources: x` and the `inspections` metric.\n", "P.md")),
    [
      'P.md:1: "facts.tls.sources" is not declared by echo or http-probe or udp-ping or file-send or proxy',
      'P.md:1: "metrics.inspections" is not declared by echo or http-probe or udp-ping or file-send or proxy',
    ],
  );
  // A key of another plugin than the step's.
  const fixture =
    "steps:\n  - name: p\n    plugin: udp-ping\n    expect:\n      metrics.round_trips: 1\n" +
    '  - plugin: echo\n    with: { payload: "${steps.p.facts.body_text}" }\n';
  assert.deepEqual(wrong(fixtureUses(fixture, "f.yaml")), [
    'f.yaml steps[0]: "metrics.round_trips" is not declared by udp-ping',
    'f.yaml steps[1]: "facts.body_text" is not declared by udp-ping',
  ]);
  // Code that imports a plugin is held to that plugin; a self-defined one to its own text.
  assert.deepEqual(
    wrong(codeUses('import x from "../plugins/echo/mod.ts";\noutcome.metrics.status;', "a.ts")),
    ['a.ts: "metrics.status" is not declared by echo'],
  );
  assert.deepEqual(
    wrong(
      codeUses("definePlugin({ run: () => ({ metrics: { pongs: 1 } }) }); o.metrics.pong;", "b.ts"),
    ),
    ['b.ts: "metrics.pong" is not defined there'],
  );
  // A wildcard key and a list index are matched as the declaration says.
  assert.equal(declares("http-probe", 'facts.headers["x-anything"]'), true);
  assert.equal(declares("http-probe", "facts.tls.certificate.subject_alt_names[2]"), true);
  assert.equal(declares("http-probe", "facts.tls.certificate.nope"), false);
  assert.equal(declares("http-probe", "metrics.latency_p99_ms"), true);
});
