// The isolated executor: params checked in the plugin's process at prepare,
// roles run there, closed prepared roles refuse to run, a denied permission
// is an outcome. Real plugin processes over loopback.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { IsolationPool } from "../plugin/isolation.ts";
import { ParamsError } from "../plugin/params_schema.ts";
import { Registry } from "../plugin/registry.ts";
import { formatAddress } from "../transport/address.ts";
import { isolatedExecutor } from "./isolated_executor.ts";

Deno.test("isolatedExecutor().prepare() refuses bad params with their paths, before any run", async () => {
  await using pool = new IsolationPool();
  const executor = isolatedExecutor(builtinRegistry(), { pool });
  await assert.rejects(
    executor.prepare("echo", "client", { count: 3 }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "target",
  );
  await assert.rejects(
    executor.prepare("udp-ping", "server", { port: -1 }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "port",
  );
});

Deno.test("isolatedExecutor() runs a prepared client as often as asked, and summarises", async () => {
  await using pool = new IsolationPool();
  const executor = isolatedExecutor(builtinRegistry(), { pool });
  await using server = await executor.prepare("udp-ping", "server", {});
  const service = await server.serve();
  try {
    await using client = await executor.prepare("udp-ping", "client", {
      target: formatAddress(service.address),
      count: 2,
      intervalMs: 0,
    });
    const outcomes = [await client.run(), await client.run()];
    assert.deepEqual(outcomes.map((o) => o.ok), [true, true]);
    assert.equal(service.stats().datagrams_in, 4);
    assert.match((await client.summary(outcomes[0]))!, /^2 pings to 127\.0\.0\.1:\d+: 2 received/);
  } finally {
    await service.close();
  }
});

Deno.test("isolatedExecutor(): a closed prepared role refuses to run or serve", async () => {
  await using pool = new IsolationPool();
  const executor = isolatedExecutor(builtinRegistry(), { pool });
  const client = await executor.prepare("echo", "client", { target: "127.0.0.1:9" });
  const server = await executor.prepare("echo", "server", {});
  await client.close();
  await server.close();
  await assert.rejects(
    client.run(),
    /^TypeError: Cannot run plugin "echo" \(client\): the prepared role is closed$/,
  );
  await assert.rejects(
    server.serve(),
    /^TypeError: Cannot run plugin "echo" \(server\): the prepared role is closed$/,
  );
});

Deno.test("isolatedExecutor(): a plugin confined to 127.0.0.1 cannot reach 127.0.0.2", async () => {
  const builtin = builtinRegistry();
  const echo = { ...builtin.get("echo"), permissions: { net: ["127.0.0.1"] } };
  const registry = new Registry([{ source: echo.source, plugins: [echo] }], {
    modules: { [echo.module]: () => import("../../plugins/echo/mod.ts") },
  });
  const executor = isolatedExecutor(registry);
  const client = await executor.prepare("echo", "client", { target: "127.0.0.2:9" });
  const outcome = await client.run({ timeout: 10_000 });
  assert.equal(outcome.ok, false);
  assert.match(
    outcome.error!.message,
    /^Cannot run plugin "echo": permission denied: net access to "127\.0\.0\.2:9"/,
  );
});

Deno.test("isolatedExecutor().describe() reads the plugin from its process", async () => {
  const described = await isolatedExecutor(builtinRegistry()).describe("udp-ping");
  assert.equal(described.name, "udp-ping");
  assert.deepEqual(described.client?.positionals, ["target"]);
});

Deno.test("isolatedExecutor().prepare({ lazy: true }) leaves the params check to the run", async () => {
  await using pool = new IsolationPool();
  const executor = isolatedExecutor(builtinRegistry(), { pool });
  const client = await executor.prepare("echo", "client", { count: 3 }, { lazy: true });
  assert.equal(pool.size, 0);
  await assert.rejects(
    client.run({ timeout: 10_000 }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "target",
  );
  await assert.rejects(
    executor.prepare("echo", "peer" as "client", {}, { lazy: true }),
    /^TypeError: Cannot use plugin "echo": it has no peer role$/,
  );
});
