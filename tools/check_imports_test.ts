import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cycles,
  layerEdges,
  pluginDeepImports,
  privateOwner,
  privateReaches,
} from "./check_imports.ts";

const edge = (from: string, to: string) => ({ from, to, line: 1, dynamic: false });

Deno.test("cycles() finds each loop once, and a module importing itself", () => {
  const found = cycles([
    edge("a.ts", "b.ts"),
    edge("b.ts", "c.ts"),
    edge("c.ts", "a.ts"),
    edge("c.ts", "d.ts"),
    edge("d.ts", "d.ts"),
    edge("e.ts", "a.ts"),
  ]);
  assert.deepEqual(found.sort(), [["a.ts", "b.ts", "c.ts"], ["d.ts"]]);
  assert.deepEqual(cycles([edge("a.ts", "b.ts"), edge("b.ts", "c.ts")]), []);
});

Deno.test("privateOwner() names the folder a private path belongs to", () => {
  assert.equal(privateOwner("lib/plugin/_closest.ts"), "lib/plugin");
  assert.equal(privateOwner("lib/cli/_scaffold/names.ts"), "lib/cli");
  assert.equal(privateOwner("lib/_internal/pause.ts"), "", "shared by the whole repository");
  assert.equal(privateOwner("lib/plugin/registry.ts"), undefined);
});

Deno.test("privateReaches() allows the own folder, tests and lib/_internal only", () => {
  const reaches = privateReaches([
    edge("lib/fixture/check_plugins.ts", "lib/plugin/_closest.ts"),
    edge("lib/plugin/registry.ts", "lib/plugin/_closest.ts"),
    edge("lib/plugin/registry_test.ts", "lib/plugin/_source.ts"),
    edge("lib/fixture/check_plugins.ts", "lib/_internal/closest.ts"),
    edge("lib/codec/struct_test.ts", "tests/_support/command.ts"),
    edge("lib/transport/_tls_test_utils.ts", "tests/_support/certs.ts"),
    edge("tests/reference_test.ts", "lib/cli/_reference_markdown.ts"),
    edge("lib/codec/struct.ts", "tests/_support/command.ts"),
    edge("lib/plugin_extra/x.ts", "lib/plugin/_closest.ts"),
  ]);
  assert.deepEqual(reaches.map((e) => e.from), [
    "lib/fixture/check_plugins.ts",
    "lib/codec/struct.ts",
    "lib/plugin_extra/x.ts",
  ]);
});

Deno.test("layerEdges() joins files into modules, leaving test code out", () => {
  const layers = layerEdges([
    edge("lib/plugin/registry.ts", "plugins/manifest.ts"),
    edge("plugins/echo/mod.ts", "lib/plugin/define_plugin.ts"),
    edge("lib/plugin/registry_test.ts", "plugins/manifest.ts"),
    edge("lib/plugin/registry.ts", "lib/plugin/manifest.ts"),
  ]);
  assert.deepEqual(layers.map((e) => `${e.from} -> ${e.to}`), [
    "lib/plugin -> plugins",
    "plugins/echo -> lib/plugin",
  ]);
});

async function checkTree(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "check_imports_" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ exports: "./mod.ts" }));
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), text);
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./check_imports.ts", import.meta.url).href, dir],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, out: decode(output.stdout) + decode(output.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("check_imports fails on a loop closed by a lazy import() and on a private reach", async () => {
  const { code, out } = await checkTree({
    "mod.ts": 'export * from "./lib/a/a.ts";\nexport * from "./lib/_internal/x.ts";\n',
    "lib/_internal/x.ts": "export const x = 1;\n",
    "lib/a/a.ts": 'import { b } from "../b/b.ts";\nexport const a = () => b;\n',
    "lib/b/b.ts": 'export const b = () => import("../a/a.ts");\n',
    "lib/c/c.ts": 'export { p } from "../a/_p.ts";\n',
    "lib/a/_p.ts": "export const p = 1;\n",
  });
  assert.equal(code, 1, out);
  assert.match(out, /Import cycle among lib\/a\/a\.ts, lib\/b\/b\.ts/);
  assert.match(out, /lib\/b\/b\.ts:1 -> lib\/a\/a\.ts \(import\(\)\)/);
  assert.match(out, /Private import: lib\/c\/c\.ts:1 imports lib\/a\/_p\.ts, private to lib\/a\//);
  assert.match(out, /Internal export: mod\.ts:2 re-exports lib\/_internal\/x\.ts/);
});

Deno.test("check_imports fails on a loop between modules with no loop between files", async () => {
  const { code, out } = await checkTree({
    "lib/plugin/registry.ts":
      'import { list } from "../../plugins/manifest.ts";\nexport { list };\n',
    "plugins/manifest.ts": 'export const list = () => import("./echo/mod.ts");\n',
    "plugins/echo/mod.ts": 'import { id } from "../../lib/plugin/define.ts";\nexport default id;\n',
    "lib/plugin/define.ts": "export const id = 1;\n",
  });
  assert.equal(code, 1, out);
  assert.match(out, /Layer cycle among lib\/plugin, plugins, plugins\/echo/);
  assert.match(out, /lib\/plugin -> plugins \(lib\/plugin\/registry\.ts:1\)/);
});

Deno.test("check_imports passes a layered tree", async () => {
  const { code, out } = await checkTree({
    "mod.ts": 'export * from "./lib/a/a.ts";\n',
    "lib/a/a.ts": 'import { x } from "../_internal/x.ts";\nexport const a = x;\n',
    "lib/_internal/x.ts": 'import { p } from "./_p.ts";\nexport const x = p;\n',
    "lib/_internal/_p.ts": "export const p = 1;\n",
  });
  assert.equal(code, 0, out);
  assert.match(out, /0 problems/);
});

Deno.test("pluginDeepImports() lets a plugin import wiretest only through the author entry points", () => {
  const deep = pluginDeepImports([
    edge("plugins/echo/server.ts", "lib/transport/mod.ts"),
    edge("plugins/echo/server.ts", "plugins/echo/_listen.ts"),
    edge("plugins/echo/server.ts", "lib/transport/tcp.ts"),
    edge("plugins/echo/server.ts", "lib/_internal/deadline.ts"),
    edge("plugins/echo/server.ts", "lib/_internal/pause.ts"),
    edge("plugins/echo/server.ts", "lib/plugin/isolation.ts"),
    edge("plugins/echo/server.ts", "plugins/http_probe/_tls.ts"),
    edge("plugins/echo/server_test.ts", "lib/transport/tcp.ts"),
    edge("plugins/manifest.ts", "lib/plugin/registry.ts"),
    edge("examples/plugins/dns/client.ts", "lib/codec/mod.ts"),
    edge("examples/plugins/dns/client.ts", "lib/errors.ts"),
    edge("examples/plugins/dns/client.ts", "lib/_internal/pause.ts"),
  ]);
  assert.deepEqual(deep.map((e) => `${e.from} -> ${e.to}`), [
    "plugins/echo/server.ts -> lib/transport/tcp.ts",
    "plugins/echo/server.ts -> lib/_internal/deadline.ts",
    "plugins/echo/server.ts -> lib/_internal/pause.ts",
    "plugins/echo/server.ts -> lib/plugin/isolation.ts",
    "plugins/echo/server.ts -> plugins/http_probe/_tls.ts",
    "examples/plugins/dns/client.ts -> lib/errors.ts",
    "examples/plugins/dns/client.ts -> lib/_internal/pause.ts",
  ]);
});

Deno.test("check_imports fails on a built-in plugin importing lib/_internal/deadline.ts or within.ts", async () => {
  const { code, out } = await checkTree({
    "lib/_internal/deadline.ts": "export const limitSignal = 1;\n",
    "lib/_internal/within.ts": "export const within = 1;\n",
    "lib/plugin/mod.ts":
      'export { limitSignal as deadlineSignal } from "../_internal/deadline.ts";\n',
    "plugins/http_probe/_watchdog.ts":
      'import { limitSignal } from "../../lib/_internal/deadline.ts";\nexport const w = limitSignal;\n',
    "plugins/file_send/sender.ts":
      'import { within } from "../../lib/_internal/within.ts";\nexport const s = within;\n',
    "plugins/echo/client.ts":
      'import { deadlineSignal } from "../../lib/plugin/mod.ts";\nexport const c = deadlineSignal;\n',
  });
  assert.equal(code, 1, out);
  assert.match(
    out,
    /Plugin deep import: plugins\/http_probe\/_watchdog\.ts:1 imports lib\/_internal\/deadline\.ts/,
  );
  assert.match(
    out,
    /Plugin deep import: plugins\/file_send\/sender\.ts:1 imports lib\/_internal\/within\.ts/,
  );
  assert.doesNotMatch(out, /plugins\/echo\/client\.ts/);
  assert.match(out, /2 problems/);
});
