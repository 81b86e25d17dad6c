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

Deno.test("builtinRegistry() entries are exactly what validating manifest.json gives", async () => {
  // builtinRegistry() trusts its own file rather than validate it in every
  // process: this is the validation it skips.
  const { validateManifest } = await import("../lib/plugin/manifest.ts");
  const { builtinManifestData } = await import("./manifest.ts");
  const validated = validateManifest(builtinManifestData, builtinManifestUrl);
  assert.deepEqual(builtinRegistry().manifests, [validated]);
});
