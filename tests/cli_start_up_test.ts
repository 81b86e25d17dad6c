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

/** The npm packages (by name) the roots import statically, each with the chain that imports it. */
async function staticNpm(roots: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const root of roots) {
    const url = new URL(`${ROOT}/${root}`, "file:///").href;
    const out = await deno(["info", "--json", url], { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const modules = new Map<string, InfoModule>();
    for (const m of JSON.parse(out.stdout).modules as InfoModule[]) modules.set(m.specifier, m);
    const via = new Map<string, string>([[url, root]]);
    const queue = [url];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const dep of modules.get(at)?.dependencies ?? []) {
        const next = dep.code?.specifier;
        if (!next || dep.isDynamic || via.has(next)) continue;
        const chain = `${via.get(at)} → ${next.replace(`file://${ROOT}/`, "")}`;
        via.set(next, chain);
        const npm = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)/.exec(next);
        if (npm && next.startsWith("npm:") && !found.has(npm[1])) found.set(npm[1], chain);
        else if (next.startsWith("file:")) queue.push(next);
      }
    }
  }
  return found;
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
  assert.match(main, /await import\("\.\/_early_plugin\.ts"\)/);
  assert.match(main, /await import\("\.\/client_command\.ts"\)/);
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
