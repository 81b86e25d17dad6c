// The RESP example plugin as load against a real redis-server: one
// connection per VU, one command per iteration, in this process and isolated
// through its manifest, as a third-party plugin runs.
import assert from "node:assert/strict";
import { checkLoadPlan, pluginSessions, runLoad } from "../../../lib/load/mod.ts";
import { deno, MAIN } from "../../../tests/_support/deno_process.ts";
import { startRedis, withoutRedis } from "./_test_utils.ts";
import resp, { RespConnection } from "./mod.ts";

const MANIFEST = new URL("./manifest.json", import.meta.url).pathname;

/** Redis's own counters (`INFO stats`), read over a connection of our own. */
async function stats(redis: RespConnection): Promise<Record<string, number>> {
  const text = new TextDecoder().decode(await redis.command(["INFO", "stats"]) as Uint8Array);
  const out: Record<string, number> = {};
  for (const [, k, v] of text.matchAll(/^(\w+):(\d+)\r?$/gm)) out[k] = Number(v);
  return out;
}

Deno.test({
  name: "resp load: PING per iteration, one connection per VU (redis counts them)",
  ignore: withoutRedis(),
  async fn() {
    await using server = await startRedis();
    using info = await RespConnection.connect({ port: server.port, timeout: 5000 });
    const before = await stats(info);
    const report = await runLoad(
      pluginSessions(resp, { target: server.target }),
      checkLoadPlan({ vus: 4, iterations: 400 }),
    );
    const after = await stats(info);
    assert.equal(report.errors, 0, JSON.stringify(report.errorsByType));
    assert.equal(report.iterations, 400);
    assert.equal(after.total_connections_received - before.total_connections_received, 4);
    // 400 PINGs, and the INFO that read `before`.
    assert.equal(after.total_commands_processed - before.total_commands_processed, 401);
  },
});

Deno.test({
  name: "resp load: GET verifies the VU's value; SET writes it",
  ignore: withoutRedis(),
  async fn() {
    await using server = await startRedis();
    for (const loadCommand of ["GET", "SET"]) {
      const report = await runLoad(
        pluginSessions(resp, { target: server.target, loadCommand, valueSize: 100 }),
        checkLoadPlan({ vus: 2, iterations: 50 }),
      );
      assert.equal(report.errors, 0, `${loadCommand} ${JSON.stringify(report.errorsByType)}`);
      assert.equal(report.iterations, 50);
    }
  },
});

Deno.test({
  name: "resp load isolated through its manifest: the VU loop runs in the plugin's process",
  ignore: withoutRedis(),
  async fn() {
    await using server = await startRedis();
    using info = await RespConnection.connect({ port: server.port, timeout: 5000 });
    const before = await stats(info);
    const r = await deno([
      "run",
      "-A",
      MAIN,
      "load",
      "resp",
      server.target,
      "--plugins",
      MANIFEST,
      "--vus",
      "2",
      "--iterations",
      "300",
      "--json",
    ], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.iterations, 300);
    const after = await stats(info);
    // Whatever the CLI checks beforehand, the load itself: 2 connections for 300 PINGs.
    assert.equal(after.total_commands_processed - before.total_commands_processed, 301);
    assert.equal(after.total_connections_received - before.total_connections_received, 2);
  },
});

Deno.test("resp load: a server answering PING with anything but PONG fails each iteration", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      void (async () => {
        const buffer = new Uint8Array(1024);
        try {
          while ((await conn.read(buffer)) !== null) {
            await conn.write(new TextEncoder().encode("+PANG\r\n"));
          }
        } catch {
          // Closed by the client.
        }
      })();
    }
  })();
  try {
    const report = await runLoad(
      pluginSessions(resp, { target: `127.0.0.1:${listener.addr.port}` }),
      checkLoadPlan({ vus: 1, iterations: 3 }),
    );
    assert.equal(report.iterations, 3);
    assert.equal(report.errors, 3);
    assert.deepEqual(Object.keys(report.errorsByType), ["protocol"]);
  } finally {
    listener.close();
    await serving.catch(() => {});
    for (const conn of conns) conn.close();
  }
});
