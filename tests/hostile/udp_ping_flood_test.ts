// The udp-ping server (`wiretest serve udp-ping`, a process of its own)
// under a flood of 100,000 datagrams: it keeps answering and its memory
// stays flat (no queue: what it cannot keep up with, the kernel drops).
import assert from "node:assert/strict";
import { record, runClientProcess, serveProcess, startHostile } from "./_support/process.ts";

Deno.test("udp-ping server answers a ping after a flood of 100,000 datagrams, memory flat", async () => {
  await using server = await serveProcess("udp-ping", []);
  const target = `127.0.0.1:${server.port}`;
  // A first ping loads everything a ping needs, so the baseline is steady.
  const warm = await runClientProcess("udp-ping", { target, count: 2, intervalMs: 10 });
  assert.equal(warm.outcome.metrics.received, 2);
  const before = server.memory();
  const started = performance.now();
  await using flood = await startHostile("udp-flood", {
    port: server.port,
    count: 100_000,
    size: 64,
  });
  const { sent } = JSON.parse(await flood.nextLine(60_000));
  const floodMs = performance.now() - started;
  const ping = await runClientProcess("udp-ping", {
    target,
    count: 5,
    intervalMs: 20,
    timeoutMs: 2000,
  });
  const after = server.memory();
  const stats = await server.stop();
  record("load: udp-ping server, 100,000-datagram flood", {
    ms: floodMs,
    sent,
    serverRssBeforeKb: before.rssKb,
    serverHwmAfterKb: after.hwmKb,
    serverRssAfterKb: after.rssKb,
    stats,
  });
  assert.equal(sent, 100_000);
  assert.equal(ping.outcome.ok, true, ping.outcome.error?.message);
  assert.equal(ping.outcome.metrics.received, 5, "a ping after the flood went unanswered");
  assert.ok(stats.datagrams_in >= 7 && stats.datagrams_in <= 100_007, `${stats.datagrams_in} in`);
  assert.ok(
    after.hwmKb - before.rssKb < 16 * 1024,
    `server memory grew by ${after.hwmKb - before.rssKb} KiB`,
  );
});
