import assert from "node:assert/strict";
import { isPlugin } from "../../lib/plugin/define_plugin.ts";
import { runClient, startServer } from "../../lib/plugin/run.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import echo, { summarize } from "./mod.ts";

Deno.test("echo is a plugin with both roles and target as positional", () => {
  assert.ok(isPlugin(echo));
  assert.equal(echo.name, "echo");
  assert.deepEqual(echo.client?.positionals, ["target"]);
  assert.equal(typeof echo.server?.serve, "function");
});

Deno.test("echo runs through the generic runClient and startServer", async () => {
  const server = await startServer(echo, { transport: "udp" });
  try {
    const outcome = await runClient(echo, {
      target: formatAddress(server.address),
      transport: "udp",
      count: 4,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 4);
    assert.equal(server.stats().datagrams, 4);
  } finally {
    await server.close();
  }
});

Deno.test("runClient() reports invalid echo params as a params error naming the field", async () => {
  await assert.rejects(
    runClient(echo, { target: "127.0.0.1:7", payload: "a", payloadSize: 1 }),
    /"payloadSize" cannot be combined with "payload"/,
  );
});

Deno.test("summarize() leaves the error to the caller and omits missing latencies", () => {
  const text = summarize({
    ok: false,
    metrics: { round_trips: 0, connections: 0, mismatches: 0, throughput_mib_s: 0 },
    facts: {},
    error: {
      name: "ConnectionError",
      message: "Cannot connect to 127.0.0.1:9: connection refused",
    },
  });
  assert.equal(text, "0 round trips over 0 connections: 0 mismatches, 0.0 MiB/s");
});

Deno.test("summarize() uses the singular for one mismatch", () => {
  const text = summarize({
    ok: false,
    metrics: { round_trips: 1, connections: 1, mismatches: 1, rtt_p50_ms: 12.34, rtt_p99_ms: 50 },
    facts: {},
  });
  assert.equal(text, "1 round trip over 1 connection: 1 mismatch, rtt p50 12.3 ms p99 50.0 ms");
});
