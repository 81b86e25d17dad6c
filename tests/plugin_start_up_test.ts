// What a built-in plugin's process loads before its first client role, for
// `wiretest echo host:port` and `wiretest probe URL` (bench row `startup`):
// the process's own runtime (lib/plugin/_isolation_child.ts) and the
// plugin's module, as `deno info` reports their static graph (a dynamic
// import loads when it runs, not at start). Node's compatibility layer costs
// a new process 3-4 ms for its base (node:v8, node:buffer, node:timers…) and
// about 12 ms more for the stream-based modules (node:net, node:tls,
// node:crypto, node:zlib…); zod costs 10 ms.
import assert from "node:assert/strict";
import { deno, ROOT } from "./_support/deno_process.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
}

/** The node: modules and npm packages the roots import statically, sorted. */
async function staticExternals(roots: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const root of roots) {
    const url = new URL(`${ROOT}/${root}`, "file:///").href;
    const out = await deno(["info", "--json", url], { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const modules = new Map<string, InfoModule>();
    for (const m of JSON.parse(out.stdout).modules as InfoModule[]) modules.set(m.specifier, m);
    const seen = new Set<string>([url]);
    const queue = [url];
    while (queue.length > 0) {
      for (const dep of modules.get(queue.shift()!)?.dependencies ?? []) {
        const next = dep.code?.specifier;
        if (!next || dep.isDynamic || seen.has(next)) continue;
        seen.add(next);
        const npm = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)/.exec(next);
        if (next.startsWith("node:")) found.add(next);
        else if (npm) found.add(`npm:${npm[1]}`);
        else if (next.startsWith("file:")) queue.push(next);
      }
    }
  }
  return [...found].sort();
}

const CHILD = "lib/plugin/_isolation_child.ts";

Deno.test("an echo plugin's process loads only the base of Node's layer, and zod", async () => {
  // node:v8 frames the messages to the host (_isolation_frames.ts); node:buffer
  // compares echoed bytes and is free once node:v8 is loaded. The TLS client
  // and listener (node:tls, node:crypto, node:stream) load for a tls target.
  assert.deepEqual(await staticExternals([CHILD, "plugins/echo/mod.ts"]), [
    "node:buffer",
    "node:v8",
    "npm:zod",
  ]);
});

Deno.test("an http-probe plugin's process loads node:zlib only for a compressed probe", async () => {
  // node:crypto hashes every body as it streams (no Web API does that
  // incrementally), so the stream-based layer loads anyway and node:net,
  // node:tls and node:dns add 1-2 ms to it; node:zlib (2 ms more) is
  // imported before the clock starts when `compressed` asks for decoding.
  assert.deepEqual(await staticExternals([CHILD, "plugins/http_probe/mod.ts"]), [
    "node:crypto",
    "node:dns/promises",
    "node:net",
    "node:stream",
    "node:timers",
    "node:tls",
    "node:v8",
    "npm:zod",
  ]);
});
