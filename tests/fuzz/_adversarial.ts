// Fixtures written to hurt a parser: alias bombs, nesting 100,000 deep,
// megabyte scalars, huge numbers, many errors at once, unicode edge cases.
import type { FuzzText } from "./_generate.ts";

const STEP = "steps:\n  - plugin: echo\n    with: { target: 127.0.0.1:7 }\n";
const MB = 1 << 20;

function yaml(text: string): FuzzText {
  return { text, ext: "yaml" };
}

function json(text: string): FuzzText {
  return { text, ext: "json" };
}

/** "Billion laughs": each level an anchor listing the previous one ten times. */
function aliasBomb(levels: number, where: "with" | "top" | "expect"): string {
  const defs = [`a0: &a0 "lol"`];
  for (let i = 1; i <= levels; i++) {
    defs.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  if (where === "top") return `name: bomb\n${defs.join("\n")}\n${STEP}`;
  const nested = defs.map((d) => `      ${d}`).join("\n");
  if (where === "with") {
    return `name: bomb\nsteps:\n  - plugin: echo\n    with:\n      target: 127.0.0.1:7\n${nested}\n`;
  }
  return `name: bomb\nsteps:\n  - plugin: echo\n    with: { target: 127.0.0.1:7 }\n    expect:\n${
    nested.replaceAll("      a", "      facts.a")
  }\n`;
}

/** The adversarial cases, built on demand (some are megabytes). */
export const ADVERSARIAL: readonly { label: string; make: () => FuzzText }[] = [
  { label: "alias bomb at the top level", make: () => yaml(aliasBomb(9, "top")) },
  { label: "alias bomb in with", make: () => yaml(aliasBomb(9, "with")) },
  { label: "alias bomb in expect", make: () => yaml(aliasBomb(9, "expect")) },
  {
    label: "a thousand aliases of one small anchor",
    make: () =>
      yaml(
        `name: many\nsteps:\n  - plugin: echo\n    with: &w { target: 127.0.0.1:7 }\n` +
          "  - { plugin: echo, with: *w }\n".repeat(1000),
      ),
  },
  {
    label: "an alias to itself",
    make: () => yaml(`name: loop\nsteps: &s\n  - plugin: echo\n    with: *s\n`),
  },
  { label: "an alias without an anchor", make: () => yaml(`name: *nope\n${STEP}`) },
  {
    label: "100,000 nested flow lists",
    make: () =>
      yaml(`name: deep\n${STEP}    expect: { facts.x: ${"[".repeat(1e5)}${"]".repeat(1e5)} }\n`),
  },
  {
    label: "100,000 nested flow maps",
    make: () => yaml(`name: deep\nx: ${"{a: ".repeat(1e5)}1${"}".repeat(1e5)}\n${STEP}`),
  },
  {
    label: "100,000 unclosed flow lists",
    make: () => yaml(`name: deep\nx: ${"[".repeat(1e5)}\n${STEP}`),
  },
  {
    label: "100,000 nested block lists on one line",
    make: () => yaml(`name: deep\nx: \n  ${"- ".repeat(1e5)}x\n${STEP}`),
  },
  {
    label: "100,000 nested JSON arrays",
    make: () => json(`{"name": "deep", "x": ${"[".repeat(1e5)}${"]".repeat(1e5)}, "steps": []}`),
  },
  {
    label: "100,000 nested JSON objects in with",
    make: () =>
      json(
        `{"name": "deep", "steps": [{"plugin": "echo", "with": ${'{"a": '.repeat(1e5)}1${
          "}".repeat(1e5)
        }}]}`,
      ),
  },
  {
    label: "1,000 nested block maps",
    make: () => {
      let text = "name: deep\n" + STEP + "    expect:\n      facts.x:\n";
      for (let i = 0; i < 1000; i++) text += " ".repeat(8 + i) + "a:\n";
      return yaml(text + " ".repeat(1008) + "b: 1\n");
    },
  },
  { label: "a 1 MB name", make: () => yaml(`name: ${"n".repeat(MB)}\n${STEP}`) },
  { label: "a 1 MB quoted name", make: () => yaml(`name: "${"é\\t".repeat(MB / 4)}"\n${STEP}`) },
  {
    label: "a 1 MB block scalar payload",
    make: () =>
      yaml(
        `name: big\nsteps:\n  - plugin: echo\n    with:\n      target: 127.0.0.1:7\n      payload: |\n${
          "        0123456789abcdef\n".repeat(MB / 25)
        }`,
      ),
  },
  { label: "a 1 MB key", make: () => yaml(`name: big\n${"k".repeat(MB)}: 1\n${STEP}`) },
  {
    label: "a 1 MB expectation key",
    make: () => yaml(`name: big\n${STEP}    expect:\n      facts.${"a.".repeat(MB / 2)}b: 1\n`),
  },
  {
    label: "a 1 MB regex expectation",
    make: () =>
      yaml(`name: big\n${STEP}    expect:\n      facts.x: "/${"(a|b)".repeat(MB / 5)}/"\n`),
  },
  {
    label: "a 1 MB comparison operand",
    make: () =>
      yaml(`name: big\n${STEP}    expect:\n      metrics.x_ms: "< ${"9".repeat(MB)}ms"\n`),
  },
  {
    label: "a 1 MB range",
    make: () => yaml(`name: big\n${STEP}    expect:\n      metrics.x: "1..${"1".repeat(MB)}.5"\n`),
  },
  {
    label: "a 1 MB duration",
    make: () => yaml(`name: big\ntimeout: "${"1s ".repeat(MB / 3)}"\n${STEP}`),
  },
  {
    label: "a 1 MB template of unclosed variables",
    make: () => yaml(`name: big\n${STEP}      payload: "${"${".repeat(MB / 2)}"\n`),
  },
  {
    label: "a template with 20,000 undefined variables",
    make: () =>
      yaml(
        `name: big\nsteps:\n  - plugin: echo\n    with:\n      target: "${
          "${services.n.addr}".repeat(2e4)
        }"\n`,
      ),
  },
  {
    // JSON: YAML refuses block keys over 1,024 characters before any check.
    label: "long service and step names against other long names",
    make: () => {
      const [a, b, c] = ["a", "b", "c"].map((x) => x.repeat(30_000));
      const services = Object.fromEntries([a, b].map((n) => [n, { plugin: "echo" }]));
      return json(JSON.stringify({
        name: "names",
        services,
        steps: [
          { name: c, plugin: "echo", with: { target: `\${services.${a.slice(1)}b.addr}` } },
          { plugin: "echo", with: { target: `\${steps.${a}.ok}` } },
        ],
      }));
    },
  },
  {
    label: "a long unknown key against the known ones",
    make: () => yaml(`name: t\n${"stepz".repeat(60_000)}: 1\n${STEP}`),
  },
  {
    label: "a long plugin name",
    make: () => yaml(`name: t\nsteps:\n  - plugin: ${"echo-".repeat(60_000)}x\n`),
  },
  {
    label: "2,000 steps",
    make: () =>
      yaml(
        `name: many\nsteps:\n${
          "  - { plugin: echo, with: { target: 127.0.0.1:7 } }\n".repeat(2e3)
        }`,
      ),
  },
  {
    label: "10,000 unknown fields",
    make: () => {
      let text = `name: many\n${STEP}`;
      for (let i = 0; i < 1e4; i++) text += `    x${i}: ${i}\n`;
      return yaml(text);
    },
  },
  {
    label: "10,000 repeated keys",
    make: () => yaml(`name: many\n${STEP}${"    timeout: 1s\n".repeat(1e4)}`),
  },
  {
    label: "10,000 bad expectations",
    make: () => {
      let text = `name: many\n${STEP}    expect:\n`;
      for (let i = 0; i < 1e4; i++) text += `      metrics.m${i}: "<< ${i}"\n`;
      return yaml(text);
    },
  },
  {
    label: "5,000 syntax errors",
    make: () => yaml(`name: t\n${STEP}${"    : : : [\n".repeat(5e3)}`),
  },
  {
    label: "huge numbers",
    make: () =>
      yaml(
        `name: nums\ntimeout: 1e309\nsteps:\n  - plugin: echo\n    retries: 123456789012345678901234567890\n` +
          `    timeout: -1e309\n    retryDelay: .nan\n    with:\n      target: 127.0.0.1:7\n      count: 1e308\n` +
          `      connections: 0x7fffffffffffffff\n      timeoutMs: -0\n    expect:\n      metrics.a: 1e999\n` +
          `      metrics.b: "< 1e308"\n      metrics.c_ms: "< 1e300h"\n      metrics.bytes: ">= 1e300 TiB"\n` +
          `      metrics.d: "${"9".repeat(400)}..${"9".repeat(401)}"\n      metrics.e: -.inf\n`,
      ),
  },
  {
    label: "huge numbers in JSON",
    make: () =>
      json(
        `{"name": "nums", "timeout": 1e999, "steps": [{"plugin": "echo", "retries": 1e400, ` +
          `"with": {"target": "127.0.0.1:7", "count": 18446744073709551616}, ` +
          `"expect": {"metrics.x": -1e999, "metrics.y": 0.1e-400}}]}`,
      ),
  },
  {
    label: "lone surrogates, NULs and line separators in JSON strings",
    make: () =>
      json(
        `{"name": "\\ud800\\u0000\\u2028", "steps": [{"name": "\\udfff", "plugin": "echo", ` +
          `"with": {"target": "\\u0000:7", "payload": "\\ud83d"}, ` +
          `"expect": {"facts.\\u2028": "\\u2029", "facts[\\"\\ud800\\"]": 1}}]}`,
      ),
  },
  {
    label: "unicode in names, keys and values",
    make: () =>
      yaml(
        `name: "\u202etxt.exe \u200b\u200d 😀 名前"\nservices:\n  é: { plugin: echo }\n  ｅｃｈｏ: { plugin: echo }\n` +
          `steps:\n  - name: 😀\n    plugin: ｅｃｈｏ\n    with: { target: "\${services.é.addr}" }\n` +
          `    expect:\n      facts.ü: "\u0085"\n      "facts[\\"\u0000\\"]": 1\n`,
      ),
  },
  {
    label: "CR-only line endings with an error at the end",
    make: () => yaml(`name: cr\r${STEP.replaceAll("\n", "\r")}    expct: 1\r`),
  },
  {
    label: "a byte order mark in the middle",
    make: () => yaml(`name: bom\n\ufeff${STEP}\ufeff    timeout: 1s\n`),
  },
  { label: "only a byte order mark", make: () => yaml("\ufeff") },
  { label: "empty", make: () => yaml("") },
  { label: "only NULs", make: () => yaml("\u0000".repeat(1000)) },
  { label: "only newlines", make: () => yaml("\n".repeat(1e5)) },
  {
    label: "1,000 documents",
    make: () => yaml(`name: t\n${STEP}${"---\nname: again\n".repeat(1000)}`),
  },
  {
    label: "a 1 MB comment and trailing spaces",
    make: () => yaml(`# ${"c".repeat(MB)}\nname: t\n${STEP}${" ".repeat(MB)}\n`),
  },
  {
    label: "tabs as indentation",
    make: () => yaml(`name: t\nsteps:\n\t- plugin: echo\n\t\twith: { target: 127.0.0.1:7 }\n`),
  },
  {
    label: "custom tags and binary",
    make: () =>
      yaml(
        `name: !!binary aGVsbG8=\nsteps:\n  - plugin: !custom echo\n    with: !!set { target }\n` +
          `    timeout: !!timestamp 2001-12-14\n    expect: !!omap [ok: true]\n`,
      ),
  },
  {
    label: "merge keys from anchors",
    make: () =>
      yaml(
        `name: merge\nbase: &b { plugin: echo, with: { target: 127.0.0.1:7 } }\nsteps:\n  - <<: *b\n    name: first\n`,
      ),
  },
  {
    label: "complex keys",
    make: () =>
      yaml(`name: t\n? [a, b]\n: 1\n? { c: d }\n: 2\n${STEP}    expect:\n      ? [x]\n      : 1\n`),
  },
];
