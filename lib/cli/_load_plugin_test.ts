import assert from "node:assert/strict";
import { IsolationPool } from "../plugin/isolation.ts";
import { openPlugin } from "./_load_plugin.ts";
import { builtinDescription } from "../../plugins/descriptions.ts";

const FIXTURES = new URL("../../tests/fixtures/isolation/manifest.json", import.meta.url).pathname;

Deno.test("openPlugin() describes a built-in plugin without its process, which then runs the role", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of server) {
      await conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })();
  const pool = new IsolationPool({ maxIdlePerPlugin: 1 });
  try {
    await using plugin = await openPlugin("echo", [], pool);
    // No process was started to describe it: the description is the package's own data.
    assert.equal(pool.size, 0);
    assert.deepEqual(plugin.described, await builtinDescription("echo"));
    // Params are still validated, and the role run, in the plugin's process.
    await assert.rejects(
      plugin.executor.prepare("echo", "client", { target: "127.0.0.1:1", count: -1 }),
      { name: "ParamsError" },
    );
    const target = `127.0.0.1:${server.addr.port}`;
    await using prepared = await plugin.executor.prepare("echo", "client", { target, count: 2 });
    const outcome = await prepared.run({ timeout: 10_000 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 2);
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
    server.close();
    await serving;
  }
});

Deno.test("openPlugin() describes a third-party plugin from its own process", async () => {
  const pool = new IsolationPool({ maxIdlePerPlugin: 1 });
  try {
    await using plugin = await openPlugin("chatty", ["--plugins", FIXTURES], pool);
    assert.equal(plugin.described.name, "chatty");
    assert.equal(pool.size, 1, "its process described it");
  } finally {
    await pool.close();
  }
});
