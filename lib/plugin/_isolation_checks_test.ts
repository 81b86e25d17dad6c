import assert from "node:assert/strict";
import { PluginLoadError } from "./registry.ts";
import { apiVersionProblem, pluginOf } from "./_isolation_checks.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

const registry = await builtinRegistry().withManifests(
  new URL("../../tests/fixtures/manifests/broken/manifest.json", import.meta.url),
);

/** What pluginOf() says of a broken fixture plugin, next to what Registry.load() says. */
async function both(name: string): Promise<{ isolated: unknown; inProcess: unknown }> {
  const entry = registry.get(name);
  const namespace = await import(entry.module);
  let isolated: unknown;
  try {
    pluginOf(entry, namespace);
  } catch (error) {
    isolated = error;
  }
  const inProcess = await registry.load(name).then(() => undefined, (error: unknown) => error);
  return { isolated, inProcess };
}

for (const name of ["no-plugin", "wrong-export", "wrong-name", "wrong-roles", "future-plugin"]) {
  Deno.test(`pluginOf() refuses "${name}" with Registry.load()'s message`, async () => {
    const { isolated, inProcess } = await both(name);
    assert.ok(inProcess instanceof PluginLoadError);
    assert.ok(isolated instanceof Error);
    assert.equal(isolated.name, "PluginLoadError");
    assert.equal(isolated.message, inProcess.message);
    assert.deepEqual(
      {
        plugin: (isolated as PluginLoadError).plugin,
        module: (isolated as PluginLoadError).module,
      },
      { plugin: name, module: registry.get(name).module },
    );
  });
}

Deno.test("pluginOf() returns the export a manifest entry names", async () => {
  const entry = registry.get("named-export");
  assert.equal(pluginOf(entry, await import(entry.module)).name, "named-export");
});

Deno.test("apiVersionProblem() says what Registry.load() says of an entry for another version", async () => {
  const error = await registry.load("future-api").then(() => undefined, (e: Error) => e);
  assert.ok(error instanceof PluginLoadError);
  assert.ok(error.message.endsWith(apiVersionProblem(registry.get("future-api"))!));
  assert.equal(apiVersionProblem(registry.get("named-export")), undefined);
});
