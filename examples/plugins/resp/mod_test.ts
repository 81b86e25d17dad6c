import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { outcomeProblems, runClient } from "@wiretest/wiretest/plugin";
import { startRedis, withoutRedis } from "./_test_utils.ts";
import resp, { RespConnection } from "./mod.ts";
import { commandOutput } from "../../../tests/_support/command.ts";
import { builtinRegistry } from "../../../plugins/manifest.ts";

const MANIFEST = new URL("./manifest.json", import.meta.url);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

Deno.test({
  name: "resp client verifies SET/GET round trips against redis-server over 4 connections",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis();
    const outcome = await runClient(resp, {
      target: redis.target,
      count: 50,
      connections: 4,
      valueSize: 300,
      ttlMs: 600_000,
    }, { timeout: 30_000 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.connections, 4);
    assert.equal(outcome.metrics.ops, 200);
    assert.equal(outcome.metrics.mismatches, 0);
    // PING and 50 SET + 50 GET per connection, and INFO on the first.
    assert.equal(outcome.metrics.commands, 4 * 101 + 1);
    assert.ok(outcome.metrics.bytes_sent > 200 * 300);
    assert.ok(outcome.metrics.bytes_received > 200 * 300);
    assert.ok(outcome.metrics.get_p99_ms >= outcome.metrics.get_p50_ms);
    assert.ok(outcome.metrics.set_p50_ms > 0);
    assert.equal(typeof outcome.metrics.ping_max_ms, "number");
    assert.match(String(outcome.facts.redis_version), /^\d+\.\d+/);
    assert.equal(outcome.facts.peer, redis.target);
    // What it reports is what it declares.
    assert.deepEqual(outcomeProblems(resp.client!.outcome!, outcome), []);

    // The keys are really there, and expire.
    using check = await RespConnection.connect({ port: redis.port, timeout: 5000 });
    assert.equal(await check.command(["DBSIZE"]), 200);
    const ttl = await check.command(["PTTL", `${outcome.facts.key_prefix}3:49`]);
    assert.ok(typeof ttl === "number" && ttl > 0 && ttl <= 600_000);
  },
});

Deno.test({
  name: "resp client reports NOAUTH from a server that requires a password, and AUTH fixes it",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis("--requirepass", "s3cret");
    const refused = await runClient(resp, { target: redis.target, count: 5 }, { timeout: 10_000 });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.name, "RespError");
    assert.equal(refused.error?.code, "NOAUTH");
    assert.equal(refused.metrics.ops, 0);

    const outcome = await runClient(resp, { target: redis.target, count: 5, password: "s3cret" }, {
      timeout: 10_000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.ops, 5);
  },
});

Deno.test("resp client reports a refused connection as ok: false with code refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const outcome = await runClient(resp, { target: `127.0.0.1:${port}` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "refused");
  assert.equal(outcome.metrics.connections, 0);
  assert.match(resp.client!.summary!(outcome), /^0 SET\/GET round trips over 0 connections/);
});

Deno.test({
  name: "resp loads from its own manifest through the registry and runs against redis-server",
  ignore: withoutRedis(),
  async fn() {
    const registry = await builtinRegistry().withManifests(MANIFEST);
    assert.deepEqual(registry.get("resp").roles, ["client"]);
    assert.deepEqual(registry.get("resp").permissions, { net: true });
    const plugin = await registry.load("resp");
    assert.equal(plugin.name, "resp");
    await using redis = await startRedis();
    const outcome = await runClient(plugin, { target: redis.target, count: 10 }, {
      timeout: 10_000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.ops, 10);
  },
});

async function wiretest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

Deno.test({
  name: "wiretest run resp --plugins <its manifest> --json prints an ok outcome and exits 0",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis();
    const { code, stdout, stderr } = await wiretest([
      "run",
      "resp",
      redis.target,
      "--plugins",
      "examples/plugins/resp/manifest.json",
      "--count",
      "25",
      "--json",
    ]);
    assert.equal(code, 0, stderr);
    const outcome = JSON.parse(stdout);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.ops, 25);
    assert.equal(outcome.metrics.mismatches, 0);
    assert.equal(outcome.facts.peer, redis.target);
  },
});

Deno.test({
  name: "wiretest run resp with a wrong password exits 1 and names the error reply",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis("--requirepass", "s3cret");
    const { code, stdout, stderr } = await wiretest([
      "run",
      "resp",
      redis.target,
      "--plugins",
      "examples/plugins/resp/manifest.json",
      "--password",
      "wrong",
    ]);
    assert.equal(code, 1);
    // A third-party plugin's summary lines carry its name.
    assert.match(stdout, /^resp: 0 SET\/GET round trips over 1 connection to 127\.0\.0\.1:\d+/);
    assert.match(stderr, /error: Cannot run AUTH on 127\.0\.0\.1:\d+: WRONGPASS/);
  },
});

Deno.test("resp client refuses invalid options before connecting", async () => {
  await assert.rejects(runClient(resp, { target: "127.0.0.1:6379", count: 0 }), /"count"/);
});
