import assert from "node:assert/strict";
import { builtinManifestUrl, builtinModules, builtinRegistry } from "./manifest.ts";

Deno.test("builtinRegistry() has a loader for every built-in module and nothing else", () => {
  const registry = builtinRegistry();
  const modules = registry.list().map((e) => e.module).sort();
  const loaders = Object.keys(builtinModules).map((p) => new URL(p, builtinManifestUrl).href)
    .sort();
  assert.deepEqual(modules, loaders);
  for (const entry of registry.list()) {
    assert.deepEqual(entry.roles, ["server", "client"]);
    assert.equal(entry.permissions.net, true);
    assert.equal(entry.permissions.run, undefined);
  }
});

Deno.test("builtinRegistry() loads every built-in plugin, the same module as its path", async () => {
  const registry = builtinRegistry();
  for (const entry of registry.list()) {
    const plugin = await registry.load(entry.name);
    assert.equal(plugin.name, entry.name);
    const direct = await import(entry.module);
    assert.equal(direct.default, plugin, `${entry.name}: loader and path give one module`);
  }
});
