// The built-in plugins' descriptions (flags, help, positionals: what
// describePlugin makes from their modules) as data written in this package,
// so a one-shot command parses its flags while the plugin's process is
// still starting, with no round trip to it, and no import of the plugin's
// module (nor its schema library) into the CLI's process. Each is kept with
// a digest of the source files it was made from: when they have changed
// since (a change without `deno task reference`, which writes this file), it
// is not used, and the plugin's process describes it as for any plugin —
// slower, never wrong. descriptions_test.ts checks that the file is fresh.
import type { PluginDescription } from "../lib/plugin/isolation.ts";

/** What `descriptions.json` holds for one plugin. */
interface Written {
  /** The source files the description was made from, relative to the package root. */
  files: string[];
  /** SHA-256 of their contents, in that order, each preceded by its path. */
  sha256: string;
  description: PluginDescription;
}

const ROOT = new URL("../", import.meta.url);
// Besides each plugin's module graph: the code that turns it into a description.
const DESCRIBER = "lib/plugin/_isolation_describe.ts";

/** SHA-256 (hex) of files under `root`, each preceded by its path; `undefined` if one is unreadable. */
async function digest(root: URL, files: readonly string[]): Promise<string | undefined> {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  try {
    for (const file of files) {
      // Synchronous: some 70 small files, where an async read each costs more than the read.
      parts.push(encoder.encode(`${file}\0`), Deno.readFileSync(new URL(file, root)));
    }
  } catch {
    return undefined;
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A built-in plugin's description as written in `descriptions.json`, when
 * the files it was made from are unchanged; `undefined` when they changed,
 * cannot be read (wiretest imported from a server), or the name is not a
 * built-in plugin's.
 *
 * @param name The plugin's name.
 * @param root The package root the written paths are read under (this package's by default).
 * @returns Its description.
 *
 * @example The echo plugin's client takes its target as a positional
 * ```ts
 * import { builtinDescription } from "./descriptions.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = await builtinDescription("echo");
 * assert.deepEqual(echo?.client?.positionals, ["target"]);
 * assert.equal(await builtinDescription("no-such-plugin"), undefined);
 * ```
 */
export async function builtinDescription(
  name: string,
  root: URL = ROOT,
): Promise<PluginDescription | undefined> {
  if (root.protocol !== "file:") return undefined;
  const { default: all } = await import("./descriptions.json", { with: { type: "json" } });
  const table = all as unknown as Record<string, Written>;
  if (!Object.hasOwn(table, name)) return undefined;
  const written = table[name];
  if (await digest(root, written.files) !== written.sha256) return undefined;
  return structuredClone(written.description);
}

/**
 * Every built-in plugin described from its module, by name, in the
 * manifest's order, with the files each description is made from and their
 * digest (what `descriptions.json` holds).
 *
 * @returns The descriptions.
 *
 * @example Each built-in plugin is described
 * ```ts
 * import { describeBuiltins } from "./descriptions.ts";
 * import assert from "node:assert/strict";
 *
 * const all = await describeBuiltins();
 * assert.equal(all["http-probe"].description.name, "http-probe");
 * assert.ok(all["http-probe"].files.includes("plugins/http_probe/params.ts"));
 * ```
 */
export async function describeBuiltins(): Promise<Record<string, Written>> {
  const { describePlugin } = await import("../lib/plugin/isolation.ts");
  // Computed: a literal import() would make Deno walk every plugin's graph
  // wherever this module is imported (the CLI's one-shot commands).
  const { builtinRegistry }: typeof import("./manifest.ts") = await import(
    new URL("./manifest.ts", import.meta.url).href
  );
  const registry = builtinRegistry();
  const all: Record<string, Written> = {};
  for (const entry of registry.list()) {
    const files = [...await localGraph(entry.module), DESCRIBER].sort();
    all[entry.name] = {
      files,
      sha256: (await digest(ROOT, files))!,
      description: describePlugin(await registry.load(entry.name)),
    };
  }
  return all;
}

/** The package's own files in a module's graph (`deno info`), relative to the root. */
async function localGraph(module: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", module],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`Cannot list the modules of "${module}": deno info failed`);
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(ROOT.href))
    .map((s) => decodeURIComponent(s.slice(ROOT.href.length)));
}

if (import.meta.main) {
  const path = new URL("./descriptions.json", import.meta.url);
  await Deno.writeTextFile(path, `${JSON.stringify(await describeBuiltins(), null, 2)}\n`);
  console.log(`Wrote ${path.pathname}`);
}
