// What a one-shot command loads. `wiretest probe|echo|ping|send` and
// `--help` are measured against a bare `deno run` script (bench row
// `startup`), so the CLI process's part of them imports no npm package (the
// manifest parser's zod and jsonc-parser, cli-progress, YAML, the
// histogram library take 10–50 ms each), and a plugin's process imports no
// npm package but the schema library its params are written in. Checked on
// the static import graph `deno info` reports, from the modules the CLI's
// entry point imports for these commands.
import assert from "node:assert/strict";
import { deno, MAIN, ROOT, serve } from "./_support/deno_process.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
}

/**
 * Every module the roots import, each with the chain that imports it: the
 * static imports alone (what evaluating the roots evaluates), or with the
 * literal `import()`s too (`dynamic`: the graph Deno walks, reading and
 * resolving every module, before it evaluates the roots).
 */
async function importGraph(roots: string[], dynamic = false): Promise<Map<string, string>> {
  const via = new Map<string, string>();
  for (const root of roots) {
    const url = new URL(`${ROOT}/${root}`, "file:///").href;
    const out = await deno(["info", "--json", url], { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const modules = new Map<string, InfoModule>();
    for (const m of JSON.parse(out.stdout).modules as InfoModule[]) modules.set(m.specifier, m);
    if (!via.has(url)) via.set(url, root);
    const queue = [url];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const dep of modules.get(at)?.dependencies ?? []) {
        const next = dep.code?.specifier;
        if (!next || (dep.isDynamic && !dynamic) || via.has(next)) continue;
        via.set(next, `${via.get(at)} → ${next.replace(`file://${ROOT}/`, "")}`);
        if (next.startsWith("file:")) queue.push(next);
      }
    }
  }
  return via;
}

/** The npm packages (by name) the roots import statically, each with the chain that imports it. */
async function staticNpm(roots: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const [specifier, chain] of await importGraph(roots)) {
    const npm = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)/.exec(specifier);
    if (npm && !found.has(npm[1])) found.set(npm[1], chain);
  }
  return found;
}

/** The Node modules (`node:…`) in a graph, sorted, each with the chain that imports it. */
function nodeModules(graph: Map<string, string>): [string, string][] {
  return [...graph].filter(([specifier]) => specifier.startsWith("node:")).sort();
}

Deno.test("the CLI process of wiretest --help, probe, echo, ping and send imports no npm package", async () => {
  // main.ts, then (dynamically) the early plugin start and the client command.
  const npm = await staticNpm([
    "lib/cli/main.ts",
    "lib/cli/_early_plugin.ts",
    "lib/cli/client_command.ts",
  ]);
  assert.deepEqual([...npm.entries()], []);
});

Deno.test("a built-in plugin's process imports no npm package but zod", async () => {
  const npm = await staticNpm([
    "lib/plugin/_isolation_child.ts",
    "plugins/http_probe/mod.ts",
    "plugins/echo/mod.ts",
    "plugins/udp_ping/mod.ts",
  ]);
  npm.delete("zod");
  assert.deepEqual([...npm.entries()], []);
});

Deno.test("main.ts reaches the one-shot commands through the modules checked above", async () => {
  // If main.ts imported the client command some other way, the graph checked
  // above would not be the one these commands load.
  const main = await Deno.readTextFile(`${ROOT}/lib/cli/main.ts`);
  assert.match(main, /await lazy\("\.\/_early_plugin\.ts"\)/);
  assert.match(main, /await lazy\("\.\/client_command\.ts"\)/);
});

Deno.test("Deno walks no command's module graph before main() runs", async () => {
  // Deno reads and resolves the graph behind every literal import() before
  // it runs a program: a command imported that way (every command's graph,
  // about 290 modules) cost 10–20 ms of every start, --help and --version too.
  const walked = [...(await importGraph(["lib/cli/main.ts"], true)).keys()]
    .map((specifier) => specifier.replace(`file://${ROOT}/`, "")).sort();
  assert.deepEqual(walked, [
    "deno.json",
    // What one-line errors escape control characters with (no imports of its own).
    "lib/_internal/escape_controls.ts",
    "lib/_internal/stdout.ts",
    "lib/cli/_exit.ts",
    "lib/cli/_one_line.ts",
    "lib/cli/client_aliases.ts",
    "lib/cli/main.ts",
  ]);
});

Deno.test("the CLI process of probe, echo, ping and send loads Node's modules for framing and the flag parser alone", async () => {
  // Node's net, tls, zlib, crypto, dns (20–25 ms to load) are the plugin
  // process's: the CLI process only frames messages (node:v8, loaded by the
  // isolation host once the process is started), parses flags (node:util)
  // and names manifests (node:url, node:path).
  const graph = await importGraph([
    "lib/cli/main.ts",
    "lib/cli/_early_plugin.ts",
    "lib/cli/client_command.ts",
    "lib/plugin/_isolation_frames.ts",
  ]);
  assert.deepEqual(nodeModules(graph).map(([specifier]) => specifier), [
    "node:path",
    "node:url",
    "node:util",
    "node:v8",
  ]);
});

Deno.test("a one-shot command's modules make Deno walk no plugin's module graph", async () => {
  // Loaded while the plugin's process starts, on the same two cores: a
  // literal import() of a plugin (the registry's loaders) made Deno read and
  // resolve some 120 more modules, the plugins' and theirs.
  const walked = [...(await importGraph(["lib/cli/client_command.ts"], true)).keys()]
    .map((specifier) => specifier.replace(`file://${ROOT}/`, ""))
    .filter((path) => path.startsWith("plugins/")).sort();
  assert.deepEqual(walked, [
    "plugins/builtin_manifest.ts",
    "plugins/descriptions.json",
    "plugins/descriptions.ts",
    "plugins/manifest.json",
  ]);
});

Deno.test("the plugin's process starts before the CLI loads any Node module or walks any plugin's graph", async () => {
  // What main.ts and _early_plugin.ts import is evaluated before the spawn:
  // the first Node module costs 4–5 ms (Node's compatibility layer).
  const roots = ["lib/cli/main.ts", "lib/cli/_early_plugin.ts"];
  const evaluated = await importGraph(roots);
  assert.deepEqual(nodeModules(evaluated), []);
  // Nor the isolation host and its pool (some 30 modules): the process's
  // launch alone (lib/plugin/_isolation_launch.ts), the host once it runs.
  const host = ["lib/plugin/isolation.ts", "lib/plugin/_isolation_host.ts"]
    .filter((path) => evaluated.has(`file://${ROOT}/${path}`));
  assert.deepEqual(host, []);
  // And Deno walks the graph behind their literal import()s before it
  // evaluates them: no npm package, no plugin, no Node module but the
  // frames' (node:v8) and a manifest error's (node:url, node:path).
  const walked = [...await importGraph(roots, true)].filter(([specifier]) =>
    specifier.startsWith("npm:") ||
    (specifier.startsWith("node:") && !["node:v8", "node:url", "node:path"].includes(specifier)) ||
    /\/plugins\/[a-z_]+\//.test(specifier)
  );
  assert.deepEqual(walked, []);
});

Deno.test("echo, ping, probe and run work in the plugin process the entry point started early", async () => {
  await using echo = await serve(["echo"]);
  await using udp = await serve(["udp-ping"]);
  await using http = await serve(["http-probe"]);
  const run = async (args: string[]) => {
    const out = await deno(["run", "-A", MAIN, ...args, "--json"], { timeoutMs: 60_000 });
    assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
    return JSON.parse(out.stdout);
  };
  assert.equal((await run(["echo", echo.address])).metrics.round_trips, 1);
  assert.equal((await run(["run", "echo", echo.address, "--count", "2"])).metrics.round_trips, 2);
  assert.equal((await run(["ping", udp.address, "--count", "3"])).metrics.received, 3);
  const probed = await run(["probe", `http://${http.address}/`]);
  assert.equal(probed.metrics.status, 200);
  assert.equal(probed.facts.warm_up, "loopback-exchange");
});
