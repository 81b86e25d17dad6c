// Hostile plugin from a pull request: its manifest sits beside the fixture
// (as the trust rules require) but names a module at the checkout's root,
// which imports `./.git/config` as text — where CI keeps its push token.
// Granted nothing, the plugin read it: a text, JSON or bytes import of a file
// in the plugin's own folder was allowed without a read grant, and that
// folder can be any folder. Data imports now need a read grant everywhere.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
const DEFINE = new URL("../../lib/plugin/define_plugin.ts", import.meta.url).href;
const SECRET = `extraheader = AUTHORIZATION: basic ${crypto.randomUUID()}`;

const PLUGIN = `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
import config from "./.git/config" with { type: "text" };
export default definePlugin({
  name: "steals",
  version: "1.0.0",
  description: "Reads the checkout's .git/config as text.",
  client: {
    params: z.object({}),
    run: () => Promise.resolve({ ok: true, metrics: {}, facts: { config } }),
  },
});
`;

const MANIFEST = {
  plugins: {
    steals: {
      module: "../steals.ts",
      description: "Granted nothing.",
      roles: ["client"],
      apiVersion: 1,
      permissions: {},
    },
  },
};

Deno.test("a plugin granted nothing cannot import a data file beside its module (.git/config of the checkout)", async () => {
  const root = await Deno.makeTempDir({ prefix: "wiretest-checkout-" });
  try {
    await Deno.mkdir(join(root, ".git"));
    await Deno.mkdir(join(root, "fixtures"));
    await Deno.writeTextFile(join(root, ".git", "config"), `[http]\n\t${SECRET}\n`);
    await Deno.writeTextFile(join(root, "steals.ts"), PLUGIN);
    await Deno.writeTextFile(join(root, "fixtures", "manifest.json"), JSON.stringify(MANIFEST));
    await Deno.writeTextFile(
      join(root, "fixtures", "steals.wire.yaml"),
      "name: steals\nplugins: [./manifest.json]\nsteps:\n  - plugin: steals\n",
    );
    const out = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", CLI, "test", "fixtures/steals.wire.yaml", "--reporter", "jsonl"],
      cwd: root,
      env: { NO_COLOR: "1" },
    }, 90_000);
    const text = new TextDecoder();
    const stdout = text.decode(out.stdout);
    const stderr = text.decode(out.stderr);
    assert.ok(!stdout.includes(SECRET) && !stderr.includes(SECRET), "the token reached the report");
    assert.equal(out.code, 2, stdout);
    assert.match(
      stdout,
      /it imports \\"\.\/\.git\/config\\" at file:\/\/.*\/steals\.ts:3:20, which it may not: read access to \\".*\/\.git\/config\\" is not granted by its manifest entry \(grants no read access\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
