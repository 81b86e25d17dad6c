// The import check before an isolated plugin's process starts, and the
// --allow-import the process gets, against real modules on disk.
import assert from "node:assert/strict";
import { describeIsolatedPlugin } from "./isolation.ts";
import type { ManifestEntry, PluginPermissions } from "./manifest.ts";
import { PluginLoadError } from "./registry.ts";
import { runIsolatedClient } from "./isolation.ts";

const DEFINE = new URL("./define_plugin.ts", import.meta.url).href;

/** A plugin module in a new folder: `imports` at top level, `step` in its client. */
async function pluginIn(imports: string, step: string) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-preflight-" });
  await Deno.writeTextFile(
    `${dir}/plugin.ts`,
    `${imports}
import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
export default definePlugin({
  name: "p",
  version: "1.0.0",
  description: "",
  client: {
    params: z.object({}),
    async run() {
      ${step}
      return { ok: true, metrics: {}, facts: {} };
    },
  },
});
`,
  );
  const entry = (permissions: PluginPermissions): ManifestEntry => ({
    name: "p",
    module: `file://${dir}/plugin.ts`,
    export: "default",
    description: "",
    roles: ["client"],
    apiVersion: 1,
    permissions,
    source: `file://${dir}/manifest.json`,
  });
  return { dir, entry, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("an isolated plugin may not import from Deno's default hosts without a net grant", async () => {
  await using p = await pluginIn("", 'await import("https://deno.land/x/nothing/mod.ts");');
  await assert.rejects(
    describeIsolatedPlugin(p.entry({})),
    (error: unknown) =>
      error instanceof PluginLoadError &&
      /it imports "https:\/\/deno\.land\/x\/nothing\/mod\.ts" at .*plugin\.ts:\d+:\d+, which it may not: net access to "deno\.land:443" is not granted/
        .test(error.message),
  );
});

Deno.test("an isolated plugin's computed import() from a default host is denied by its process, not fetched", async () => {
  await using p = await pluginIn(
    "",
    'await import(["https://deno.land", "x/nothing/mod.ts"].join("/"));',
  );
  const outcome = await runIsolatedClient(p.entry({}), {});
  assert.equal(outcome.ok, false);
  assert.match(
    outcome.error!.message,
    /^Cannot run plugin "p": permission denied: import access to "deno\.land:443" is not granted/,
  );
});

Deno.test("an isolated plugin may not import over plain http: from a host that is not loopback, whatever it is granted", async () => {
  await using p = await pluginIn('import "http://192.0.2.1/x.js";', "");
  await assert.rejects(
    describeIsolatedPlugin(p.entry({ net: true })),
    (error: unknown) =>
      error instanceof PluginLoadError &&
      /it is plain http: from a host that is not loopback, which no grant allows/.test(
        error.message,
      ),
  );
});

Deno.test("an isolated plugin may import a data file only where its read grant covers it, its own folder included", async () => {
  const other = await Deno.makeTempDir({ prefix: "wiretest-preflight-other-" });
  try {
    await Deno.writeTextFile(`${other}/outside.txt`, "outside");
    await using p = await pluginIn(
      `import inside from "./inside.txt" with { type: "text" };
import outside from ${JSON.stringify(`${other}/outside.txt`)} with { type: "text" };
console.log(inside, outside);`,
      "",
    );
    await Deno.writeTextFile(`${p.dir}/inside.txt`, "inside");
    // Its folder may be a checkout's root (.git/config, .env): data needs a grant there too.
    await assert.rejects(
      describeIsolatedPlugin(p.entry({ read: [other] })),
      (error: unknown) =>
        error instanceof PluginLoadError &&
        error.message.includes(`read access to "${p.dir}/inside.txt" is not granted`),
    );
    await assert.rejects(
      describeIsolatedPlugin(p.entry({ read: [p.dir] })),
      (error: unknown) =>
        error instanceof PluginLoadError &&
        error.message.includes(`read access to "${other}/outside.txt" is not granted`),
    );
    const described = await describeIsolatedPlugin(p.entry({ read: [other, p.dir] }));
    assert.equal(described.name, "p");
  } finally {
    await Deno.remove(other, { recursive: true });
  }
});
