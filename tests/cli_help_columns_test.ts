// Every command's --help: the descriptions of a block of flags start in one
// column (wrapped lines too), and every flag that has a default names it.
import assert from "node:assert/strict";
import { commandOutput } from "./_support/command.ts";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const DESCRIPTIONS = new URL("../plugins/descriptions.json", import.meta.url);

const PLUGINS = ["echo", "http-probe", "udp-ping", "file-send", "proxy"] as const;

/** Flags of hand-written help texts whose value has a default (from the code). */
const HAND_WRITTEN_DEFAULTS: Record<string, string[]> = {
  "--help": ["--plugin-memory-mib"],
  "test --help": [
    "--concurrency",
    "--step-timeout",
    "--reporter",
    "--manifest-timeout",
    "--max-fixture-size",
    "--plugin-memory-mib",
  ],
  "exporter --help": ["--listen", "--timeout-offset", "--max-concurrent"],
  "new --help": ["--dir", "--roles"],
  "load --help": ["--max-vus", "--pre-allocated-vus"],
  "load echo --help": ["--max-vus", "--pre-allocated-vus", "--plugin-memory-mib"],
};

async function help(args: string[]): Promise<string> {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
  });
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return stdout;
}

interface FlagRow {
  flag: string;
  /** Where its description starts. */
  column: number;
  /** Its description, wrapped lines joined. */
  text: string;
}

/**
 * The flag blocks of a help text: runs of rows that start with "  -", each
 * with its wrapped lines (indented further). Asserts the columns line up.
 */
function flagRows(name: string, text: string): FlagRow[] {
  const rows: FlagRow[] = [];
  let block: FlagRow[] = [];
  const endBlock = () => {
    const columns = new Set(block.map((row) => row.column));
    assert.equal(
      columns.size <= 1,
      true,
      `${name}: descriptions start in columns ${[...columns].join(", ")}:\n${
        block.map((r) => `${r.flag} @${r.column}`).join("\n")
      }`,
    );
    rows.push(...block);
    block = [];
  };
  for (const line of text.split("\n")) {
    const flag = /^ {2}((?:-[A-Za-z], )?--?[A-Za-z][\w-]*)/.exec(line);
    if (flag) {
      const gap = /\S( {2,})\S/.exec(line);
      assert.ok(gap, `${name}: flag row without two spaces before its description: ${line}`);
      const column = gap.index + 1 + gap[1].length;
      block.push({ flag: flag[1].replace(/^-[A-Za-z], /, ""), column, text: line.slice(column) });
      continue;
    }
    const last = block.at(-1);
    if (last && /^ {3,}\S/.test(line)) {
      const indent = line.length - line.trimStart().length;
      assert.equal(indent, last.column, `${name}: wrapped line not under its description: ${line}`);
      last.text += ` ${line.trim()}`;
      continue;
    }
    if (block.length > 0) endBlock();
  }
  if (block.length > 0) endBlock();
  return rows;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Params of a plugin role whose schema gives a default, as flags. */
async function defaultedFlags(plugin: string, role: "client" | "server"): Promise<string[]> {
  const all = JSON.parse(await Deno.readTextFile(DESCRIPTIONS));
  const described = all[plugin].description[role];
  if (!described) return [];
  const properties: Record<string, { default?: unknown }> = described.params.properties ?? {};
  return Object.entries(properties)
    .filter(([key, schema]) =>
      schema.default !== undefined && !described.positionals?.includes(key) &&
      !(Array.isArray(schema.default) && schema.default.length === 0)
    )
    .map(([key]) => `--${kebab(key)}`);
}

Deno.test("every --help lines its flag descriptions up and names every default", async (t) => {
  const cases: { args: string[]; defaults: string[] }[] = [];
  for (const [args, defaults] of Object.entries(HAND_WRITTEN_DEFAULTS)) {
    cases.push({ args: args.split(" "), defaults });
  }
  for (
    const args of [
      "schema --help",
      "reference --help",
      "report html --help",
      "report merge --help",
      "plugins --help",
      "run --help",
      "serve --help",
      "proxy --help",
    ]
  ) cases.push({ args: args.split(" "), defaults: [] });
  for (const plugin of PLUGINS) {
    const client = await defaultedFlags(plugin, "client");
    const server = await defaultedFlags(plugin, "server");
    if (client.length > 0 || plugin !== "proxy") {
      cases.push({ args: ["run", plugin, "--help"], defaults: client });
      cases.push({ args: ["load", plugin, "--help"], defaults: client });
    }
    cases.push({ args: ["serve", plugin, "--help"], defaults: server });
  }
  for (const { args, defaults } of cases) {
    const name = args.join(" ");
    await t.step(name, async () => {
      const rows = flagRows(name, await help(args));
      for (const flag of defaults) {
        const row = rows.find((r) => r.flag === flag);
        assert.ok(row, `${name}: no row for ${flag}`);
        assert.match(row.text, /default/, `${name}: ${flag} does not name its default`);
      }
    });
  }
});

/** Flags every command that runs a plugin takes, whatever the plugin. */
const COMMON = ["--plugins", "--no-isolation", "--plugin-memory-mib", "--no-ffi", "--trust-ffi"];

Deno.test("every client and serve command's --help lists the common flags, once each", async (t) => {
  const commands = [
    "ping --help",
    "probe --help",
    "echo --help",
    "send --help",
    "proxy --help",
    ...PLUGINS.flatMap((plugin) => [
      `serve ${plugin} --help`,
      ...(plugin === "proxy" ? [] : [`run ${plugin} --help`, `load ${plugin} --help`]),
    ]),
  ];
  for (const command of commands) {
    await t.step(command, async () => {
      const text = await help(command.split(" "));
      const rows = flagRows(command, text);
      for (const flag of COMMON) {
        const found = rows.filter((row) => row.flag === flag);
        assert.equal(found.length, 1, `${command}: ${found.length} rows for ${flag}:\n${text}`);
      }
      assert.match(text, /\nCommon flags \(every command that runs a plugin\):\n/);
    });
  }
});
