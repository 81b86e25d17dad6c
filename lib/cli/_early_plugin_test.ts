import assert from "node:assert/strict";
import { earlyPool } from "./_early_plugin.ts";
import { runIsolatedClient } from "../plugin/isolation.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

Deno.test("earlyPool() starts nothing when the command may not run the built-in isolated", async () => {
  for (
    const [name, args] of [
      [undefined, []],
      ["no-such-plugin", []],
      ["http-probe", ["--no-isolation", "http://127.0.0.1/"]],
      ["http-probe", ["--plugins", "extra.json", "http://127.0.0.1/"]],
      ["http-probe", ["--plugins=extra.json", "http://127.0.0.1/"]],
      ["http-probe", ["--help"]],
      ["http-probe", ["-h"]],
      ["http-probe", ["http://127.0.0.1/", "-h"]],
      ["http-probe", ["--plugin-memory-mib", "1"]],
    ] as const
  ) {
    const pool = earlyPool(name, [...args]);
    assert.equal(pool, undefined, `${name} ${args.join(" ")}`);
  }
  // After "--" the flags are the plugin's, not wiretest's.
  const pool = await earlyPool("echo", ["127.0.0.1:7", "--", "--no-isolation"]);
  assert.ok(pool);
  await pool.close();
});

Deno.test("earlyPool() starts the built-in's process at once, a valid memory ceiling given", async () => {
  const pool = await earlyPool("http-probe", ["--plugin-memory-mib", "128", "http://127.0.0.1/"]);
  assert.ok(pool);
  try {
    // Its process is starting before any role asks for it.
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
  assert.equal(pool.size, 0);
});

Deno.test("the role runs in the process earlyPool() started, not in a second one", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of server) await conn.readable.pipeTo(conn.writable).catch(() => {});
  })();
  const target = `127.0.0.1:${server.addr.port}`;
  const pool = await earlyPool("echo", [target]);
  assert.ok(pool);
  try {
    assert.equal(pool.size, 1);
    const echo = builtinRegistry().get("echo");
    const outcome = await runIsolatedClient(echo, { target, count: 2 }, { pool });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 2);
    // The early process took the role: the pool started no other.
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
    server.close();
    await serving;
  }
});
