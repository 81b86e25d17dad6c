/**
 * Checks the module graph's layering, for `deno task ok` and `.ci/run`:
 *
 * 1. No import cycles. Every TypeScript file in the repository is put in one
 *    graph with `deno info --json` (static, type-only and dynamic `import()`s
 *    with a literal specifier alike: a lazy import that closes a loop is a
 *    cycle too), and every strongly connected component with more than one
 *    module, or a module importing itself, is reported.
 * 2. No reaching into another folder's private files. A path segment that
 *    starts with `_` (`lib/plugin/_closest.ts`, `lib/cli/_scaffold/…`) is
 *    private to the folder that holds it: only files under that folder may
 *    import it. `lib/_internal/` is the one internal module shared by the
 *    whole repository (std's `internal/`), so anything here may import it,
 *    while no public entry point in `deno.json` may re-export it.
 *
 * Prints each problem on its own line and exits 1 when there is any. Run as
 * `deno task imports` (part of `deno task ok`); an argument names another
 * repository root to check.
 *
 * @module
 */

import { relative, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

/** The repository checked: the first argument, or the one holding this script. */
let root = resolve(fromFileUrl(new URL("..", import.meta.url)));
const skipped = new Set([
  ".git",
  "node_modules",
  "coverage",
  "reports",
  "tests/fixtures",
  "tests/data",
  "bench/results",
]);

/** Every `.ts` file of the repository, relative to its root. */
function sourceFiles(dir = ""): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(resolve(root, dir))) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (skipped.has(path)) continue;
    if (entry.isDirectory) files.push(...sourceFiles(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly dynamic: boolean;
  /** For an edge between layers: the file that imports. */
  readonly file?: string;
}

interface InfoDependency {
  readonly specifier?: string;
  readonly isDynamic?: boolean;
  readonly code?: { readonly specifier?: string; readonly span?: { start: { line: number } } };
  readonly type?: { readonly specifier?: string; readonly span?: { start: { line: number } } };
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly InfoDependency[];
}

/** The local import edges among `files`, from one `deno info --json` run. */
async function localEdges(files: readonly string[]): Promise<Edge[]> {
  // One root that imports every file, so that a single `deno info` sees them all.
  const rootFile = await Deno.makeTempFile({ prefix: "check_imports_", suffix: ".ts" });
  try {
    const lines = files.map((file) =>
      `import ${JSON.stringify(new URL(`file://${root}/${file}`).href)};`
    );
    await Deno.writeTextFile(rootFile, lines.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", resolve(root, "deno.json"), "--no-lock", rootFile],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`Cannot read the module graph: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: InfoModule[];
    };
    const local = (specifier: string | undefined): string | undefined => {
      if (specifier === undefined || !specifier.startsWith("file://")) return undefined;
      const path = relative(root, fromFileUrl(specifier));
      return path.startsWith("..") ? undefined : path;
    };
    const edges: Edge[] = [];
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === undefined) continue;
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code, dependency.type]) {
          const to = local(target?.specifier);
          if (to === undefined) continue;
          edges.push({
            from,
            to,
            line: (target?.span?.start.line ?? 0) + 1,
            dynamic: dependency.isDynamic === true,
          });
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(rootFile);
  }
}

/** Strongly connected components (Tarjan), only those that form a cycle. */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    if (!next.has(to)) next.set(to, new Set());
    next.get(from)!.add(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  // Iterative, so a deep graph cannot overflow the call stack.
  for (const start of next.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; children: Iterator<string> }> = [];
    const visit = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: next.get(node)!.values() });
    };
    visit(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const step = frame.children.next();
      if (!step.done) {
        const child = step.value;
        if (!index.has(child)) visit(child);
        else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || next.get(frame.node)!.has(frame.node)) {
          found.push(component.sort());
        }
      }
    }
  }
  return found;
}

/** The folder a private path belongs to, or undefined when `path` is not private. */
export function privateOwner(path: string): string | undefined {
  const segments = path.split("/");
  // The innermost private segment decides: `a/_b/c/_d.ts` belongs to `a/_b/c`.
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i].startsWith("_")) {
      if (segments[i] === "_internal" && segments.slice(0, i).join("/") === "lib") return "";
      return segments.slice(0, i).join("/");
    }
  }
  return undefined;
}

/**
 * Whether `path` is test code: a test, a test's helper, or anything under
 * `tests/`. Tests may look inside the modules they test, and share the test
 * support of `tests/_support/` (as the benchmarks do, to start the same peers).
 */
export function isTestCode(path: string): boolean {
  return path.startsWith("tests/") || /(^|\/)(\w+_test|_(\w+_)?test_utils)\.ts$/.test(path);
}

/** The import edges that reach into another folder's private files. */
export function privateReaches(edges: readonly Edge[]): Edge[] {
  return edges.filter(({ from, to }) => {
    const owner = privateOwner(to);
    if (owner === undefined || owner === "") return false;
    if (from.startsWith(`${owner}/`)) return false;
    if (to.startsWith("tests/_support/") && (isTestCode(from) || from.startsWith("bench/"))) {
      return false;
    }
    return !(from.startsWith("tests/") && owner !== "tests");
  });
}

/**
 * The module (layer) a file belongs to: `lib/<name>`, `plugins/<name>`, or its
 * top folder (`mod.ts` is the root). Cycles between these are layers leaking
 * even when no two files import each other (`lib/plugin/registry.ts` ->
 * `plugins/manifest.ts` -> `plugins/echo/…` -> `lib/plugin/…`).
 */
export function layerOf(path: string): string {
  const segments = path.split("/");
  if (segments.length === 1) return ".";
  if ((segments[0] === "lib" || segments[0] === "plugins") && segments.length > 2) {
    return `${segments[0]}/${segments[1]}`;
  }
  return segments[0];
}

/** The edges between layers, from code that is not test code. */
export function layerEdges(edges: readonly Edge[]): Edge[] {
  return edges
    .filter(({ from, to }) => !isTestCode(from) && !isTestCode(to))
    .map((edge) => ({ ...edge, from: layerOf(edge.from), to: layerOf(edge.to), file: edge.from }))
    .filter(({ from, to }) => from !== to);
}

/**
 * The entry points a plugin author has: a plugin (built-in under `plugins/`,
 * or an example under `examples/plugins/`) imports wiretest only through
 * them, as a third-party plugin does through `@wiretest/wiretest/plugin`,
 * `/transport`, `/transport/plain`, `/unstable-udp`, `/codec` and `/metrics`.
 */
export const AUTHOR_ENTRY_POINTS: ReadonlySet<string> = new Set([
  "lib/plugin/mod.ts",
  "lib/transport/mod.ts",
  "lib/transport/plain.ts",
  "lib/transport/unstable_udp.ts",
  "lib/codec/mod.ts",
  "lib/metrics/mod.ts",
]);

/**
 * Imports from a plugin's folder to anything outside it that is not an
 * author entry point (`../../lib/transport/tcp.ts`, `../../lib/_internal/…`,
 * another plugin). Test code may look inside.
 */
export function pluginDeepImports(edges: readonly Edge[]): Edge[] {
  return edges.filter(({ from, to }) => {
    const folder = /^((?:examples\/)?plugins\/[^/]+)\//.exec(from)?.[1];
    if (folder === undefined || isTestCode(from)) return false;
    if (to.startsWith(`${folder}/`)) return false;
    return !AUTHOR_ENTRY_POINTS.has(to);
  });
}

if (import.meta.main) {
  if (Deno.args[0] !== undefined) root = resolve(Deno.args[0]);
  const files = sourceFiles();
  const edges = await localEdges(files);
  const problems: string[] = [];
  for (const component of cycles(edges)) {
    const members = new Set(component);
    const links = edges
      .filter((edge) => members.has(edge.from) && members.has(edge.to))
      .map((edge) => `${edge.from}:${edge.line} -> ${edge.to}${edge.dynamic ? " (import())" : ""}`);
    problems.push(`Import cycle among ${component.join(", ")}:\n    ${links.join("\n    ")}`);
  }
  const between = layerEdges(edges);
  for (const component of cycles(between)) {
    const members = new Set(component);
    const links = between
      .filter((edge) => members.has(edge.from) && members.has(edge.to))
      .map((edge) =>
        `${edge.from} -> ${edge.to} (${edge.file}:${edge.line}${edge.dynamic ? ", import()" : ""})`
      );
    problems.push(
      `Layer cycle among ${component.join(", ")}:\n    ${[...new Set(links)].join("\n    ")}`,
    );
  }
  for (const edge of privateReaches(edges)) {
    problems.push(
      `Private import: ${edge.from}:${edge.line} imports ${edge.to}, private to ${
        privateOwner(edge.to)
      }/ (move what is shared to lib/_internal/)`,
    );
  }
  for (const edge of pluginDeepImports(edges)) {
    problems.push(
      `Plugin deep import: ${edge.from}:${edge.line} imports ${edge.to}; a plugin imports wiretest only through ${
        [...AUTHOR_ENTRY_POINTS].join(", ")
      } (as a third-party plugin does)`,
    );
  }
  const config = JSON.parse(await Deno.readTextFile(resolve(root, "deno.json")));
  const entries: string[] = typeof config.exports === "string"
    ? [config.exports]
    : Object.values(config.exports ?? {});
  const exported = new Set(entries.map((p) => p.replace(/^\.\//, "")));
  for (const edge of edges) {
    if (exported.has(edge.from) && edge.to.startsWith("lib/_internal/")) {
      const text = (await Deno.readTextFile(resolve(root, edge.from))).split("\n")[edge.line - 1];
      if (/^\s*export\b/.test(text)) {
        problems.push(`Internal export: ${edge.from}:${edge.line} re-exports ${edge.to}`);
      }
    }
  }
  for (const problem of problems) console.log(problem);
  console.log(`${files.length} modules, ${edges.length} imports, ${problems.length} problems`);
  if (problems.length > 0) Deno.exit(1);
}
