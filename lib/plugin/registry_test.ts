import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { formatAddress } from "../transport/address.ts";
import { loadManifest, ManifestError, validateManifest } from "./manifest.ts";
import { PluginLoadError, Registry, UnknownPluginError } from "./registry.ts";
import { runClient, startServer } from "./run.ts";

const FIXTURES = new URL("../../tests/fixtures/manifests/", import.meta.url);
const fixture = (path: string) => new URL(path, FIXTURES);

async function registryOf(...paths: string[]): Promise<Registry> {
  return await new Registry().withManifests(...paths.map(fixture));
}

/** Loads a plugin of the broken fixture manifest and returns the load error. */
async function loadError(name: string): Promise<PluginLoadError> {
  const registry = await registryOf("broken/manifest.json");
  try {
    await registry.load(name);
  } catch (error) {
    assert.ok(error instanceof PluginLoadError, String(error));
    assert.ok(error instanceof TypeError);
    assert.equal(error.plugin, name);
    return error;
  }
  assert.fail(`plugin "${name}" loaded`);
}

Deno.test("Registry.list() imports nothing; load() imports once and caches", async () => {
  const counter = globalThis as { wiretestLazyMarkerImports?: number };
  const registry = await registryOf("good/manifest.json");
  const entries = registry.list();
  assert.deepEqual(entries.map((e) => e.name), ["greet", "lazy-marker"]);
  assert.equal(
    registry.get("lazy-marker").description,
    "Does nothing; records that it was imported.",
  );
  assert.equal(counter.wiretestLazyMarkerImports, undefined);

  const first = await registry.load("lazy-marker");
  assert.equal(counter.wiretestLazyMarkerImports, 1);
  const again = await registry.load("lazy-marker");
  assert.equal(again, first);
  assert.equal(counter.wiretestLazyMarkerImports, 1);
});

Deno.test({
  name: "Registry.load() gives a third-party plugin that runs end to end on loopback",
  permissions: { net: ["127.0.0.1"], read: true },
  async fn() {
    const registry = await builtinRegistry().withManifests(fixture("good/manifest.json"));
    const greet = await registry.load("greet");
    const service = await startServer(greet, { greeting: "hi" });
    try {
      const outcome = await runClient(greet, {
        target: formatAddress(service.address),
        name: "wiretest",
      }, { timeout: 10_000 });
      assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
      assert.equal(outcome.facts.reply, "hi, wiretest");
      assert.equal(outcome.metrics.bytes_sent, "wiretest\n".length);
      assert.equal(service.stats().greeted, 1);
    } finally {
      await service.close();
    }
  },
});

Deno.test("Registry.withManifests() adds plugins after the built-in ones", async () => {
  const builtin = builtinRegistry();
  const merged = await builtin.withManifests(fixture("good/manifest.json"));
  assert.deepEqual(merged.list().map((e) => e.name), [
    "echo",
    "http-probe",
    "udp-ping",
    "file-send",
    "proxy",
    "greet",
    "lazy-marker",
  ]);
  assert.equal(merged.get("greet").source, fixture("good/manifest.json").href);
  assert.equal(builtin.has("greet"), false, "the original registry is unchanged");
  assert.equal(merged.manifests.length, 2);
});

Deno.test("Registry rejects a name defined by two manifests, naming both files", async () => {
  await assert.rejects(
    registryOf("good/manifest.json", "duplicate/manifest.json"),
    (error: unknown) => {
      assert.ok(error instanceof ManifestError);
      assert.match(
        error.message,
        /^Cannot load manifest "[^"]*duplicate\/manifest\.json": plugin "greet" is already defined by "[^"]*good\/manifest\.json" \(set the override option to replace it\)$/,
      );
      assert.equal(error.source, fixture("duplicate/manifest.json").href);
      return true;
    },
  );
});

Deno.test("Registry with override lets a later manifest replace a plugin", async () => {
  const manifests = await Promise.all(
    ["good/manifest.json", "duplicate/manifest.json"].map((p) => loadManifest(fixture(p))),
  );
  const registry = new Registry(manifests, { override: true });
  assert.equal(registry.get("greet").source, fixture("duplicate/manifest.json").href);
  assert.deepEqual(registry.list().map((e) => e.name), ["greet", "lazy-marker"]);
  assert.equal((await registry.load("greet")).name, "greet");
});

Deno.test("Registry.get() suggests the closest name for an unknown plugin", async () => {
  const registry = await builtinRegistry().withManifests(fixture("good/manifest.json"));
  assert.throws(() => registry.get("gret"), (error: unknown) => {
    assert.ok(error instanceof UnknownPluginError);
    assert.equal(error.suggestion, "greet");
    assert.equal(
      error.message,
      'Cannot find plugin "gret": did you mean "greet"? Known plugins: "echo", "file-send", ' +
        '"greet", "http-probe", "lazy-marker", "proxy", "udp-ping"',
    );
    return true;
  });
});

Deno.test("Registry.load() lists the known names when nothing is close", async () => {
  const registry = await registryOf("good/manifest.json");
  await assert.rejects(registry.load("smtp-relay"), (error: unknown) => {
    assert.ok(error instanceof UnknownPluginError);
    assert.equal(error.suggestion, undefined);
    assert.equal(
      error.message,
      'Cannot find plugin "smtp-relay": known plugins: "greet", "lazy-marker"',
    );
    return true;
  });
});

Deno.test("Registry.load() reports a missing module file", async () => {
  const error = await loadError("missing-module");
  assert.equal(
    error.message,
    `Cannot load plugin "missing-module" from "${fixture("broken/missing.ts").href}": ` +
      "module not found",
  );
  assert.ok(error.cause instanceof Error);
});

Deno.test("Registry.load() reports a module without a plugin as default export", async () => {
  const error = await loadError("no-plugin");
  assert.equal(
    error.message,
    `Cannot load plugin "no-plugin" from "${fixture("broken/no_plugin.ts").href}": ` +
      "module has no default export that is a plugin (its default export is a function)",
  );
});

Deno.test("Registry.load() reads the export a manifest entry names", async () => {
  const registry = await registryOf("broken/manifest.json");
  const plugin = await registry.load("named-export");
  assert.equal(plugin.name, "named-export");
});

Deno.test("Registry.load() reports a named export the module lacks", async () => {
  const error = await loadError("wrong-export");
  assert.match(error.message, /: module has no export "greeting" that is a plugin$/);
});

Deno.test("Registry.load() reports a plugin whose name differs from its entry", async () => {
  const error = await loadError("wrong-name");
  assert.match(
    error.message,
    /wrong_name\.ts": the module's plugin is named "other", but the manifest names it "wrong-name"$/,
  );
});

Deno.test("Registry.load() reports roles that differ from the entry's", async () => {
  const error = await loadError("wrong-roles");
  assert.match(
    error.message,
    /: the manifest declares roles "server", "client", but the plugin has "client"$/,
  );
});

Deno.test("Registry.load() refuses an entry written for another API version", async () => {
  const error = await loadError("future-api");
  assert.equal(
    error.message,
    `Cannot load plugin "future-api" from "${fixture("broken/future_api.ts").href}": ` +
      "it needs plugin API version 2, this wiretest provides version 1",
  );
});

Deno.test("Registry.load() refuses a plugin stamped with another API version", async () => {
  const error = await loadError("future-plugin");
  assert.match(
    error.message,
    /: the plugin was written for plugin API version 2, this wiretest provides version 1$/,
  );
});

Deno.test("Registry.load() reports a module that throws while it is imported", async () => {
  const error = await loadError("throws");
  assert.match(error.message, /throws\.ts": module failed to import: /);
  assert.ok(error.cause instanceof SyntaxError);
});

Deno.test("Registry.load() does not cache a failure", async () => {
  const registry = await registryOf("broken/manifest.json");
  const first = await registry.load("wrong-name").catch((e) => e);
  const second = await registry.load("wrong-name").catch((e) => e);
  assert.ok(first instanceof PluginLoadError && second instanceof PluginLoadError);
  assert.notEqual(first, second);
});

Deno.test("Registry accepts manifests already parsed", async () => {
  const manifest = validateManifest({
    plugins: {
      greet: {
        module: "./greet.ts",
        description: "Greets over TCP: the server answers a name with a greeting.",
        roles: ["server", "client"],
        apiVersion: 1,
        permissions: { net: ["127.0.0.1"] },
      },
    },
  }, fixture("good/manifest.json"));
  const registry = await new Registry().withManifests(manifest);
  assert.equal((await registry.load("greet")).version, "1.0.0");
});

Deno.test("Registry.load() refuses a manifest description that drifted from the module's, at the field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-drift-" });
  try {
    const path = `${dir}/manifest.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify(
        {
          plugins: {
            greet: {
              module: fixture("good/greet.ts").href,
              description: "Greets.",
              roles: ["server", "client"],
              apiVersion: 1,
              permissions: { net: ["127.0.0.1"] },
            },
          },
        },
        null,
        2,
      ),
    );
    const registry = await new Registry().withManifests(path);
    // Listing needs no code, so it shows the manifest's words...
    assert.equal(registry.get("greet").description, "Greets.");
    // ...and loading the module finds that they are not the plugin's.
    const error = await registry.load("greet").then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ManifestError, String(error));
    assert.deepEqual(error.issues, [{
      plugin: "greet",
      path: ["plugins", "greet", "description"],
      message: 'plugin "greet": "description" is "Greets.", but the module\'s plugin says ' +
        '"Greets over TCP: the server answers a name with a greeting."',
      line: 5,
      column: 22,
    }]);
    assert.match(error.message, /\(line 5, column 22\)$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Registry.load() refuses a drifted description of a manifest given parsed, without a line", async () => {
  const manifest = validateManifest({
    plugins: {
      greet: {
        module: "./greet.ts",
        description: "Greets.",
        roles: ["server", "client"],
        apiVersion: 1,
        permissions: { net: ["127.0.0.1"] },
      },
    },
  }, fixture("good/manifest.json"));
  const registry = await new Registry().withManifests(manifest);
  await assert.rejects(
    () => registry.load("greet"),
    (e: unknown) =>
      e instanceof ManifestError && e.issues[0].line === undefined &&
      e.issues[0].path.join(".") === "plugins.greet.description",
  );
});

Deno.test("every built-in manifest entry describes its plugin in the plugin's own words", async () => {
  const registry = builtinRegistry();
  for (const entry of registry.list()) {
    assert.equal((await registry.load(entry.name)).description, entry.description);
  }
});

Deno.test("Registry with no manifests says no plugins are registered", () => {
  assert.throws(
    () => new Registry().get("echo"),
    /^UnknownPluginError: Cannot find plugin "echo": no plugins are registered$/,
  );
});
