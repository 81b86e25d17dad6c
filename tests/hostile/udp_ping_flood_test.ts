// The udp-ping server (`wiretest serve udp-ping`, a process of its own)
// under floods of 100,000 datagrams: it keeps answering and its memory
// stays flat (no queue: what it cannot keep up with, the kernel drops).
//
// "Flat" is measured as growth during the last of four equal floods: the
// first three bring the server to its steady state (compiled code, grown
// heaps), the last must add next to nothing. The server runs with each V8 heap capped
// (16 MiB old generation, 1 MiB semi-spaces) so the garbage collector has
// little slack and RSS shows what the server keeps rather than when V8 last
// collected (uncapped, RSS wandered 17-20 MiB up and down under one flood).
import assert from "node:assert/strict";
import { record, runClientProcess, serveProcess, startHostile } from "./_support/process.ts";

const FLOOD = { count: 100_000, size: 64 };
const WARM_FLOODS = 3;

// Both I/O paths of server and client: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  Deno.test(`udp-ping server answers a ping after a flood of 100,000 datagrams, memory flat (io ${io})`, async () => {
    await using server = await serveProcess("udp-ping", ["--io", io], {
      v8Flags: ["--max-old-space-size=16", "--max-semi-space-size=1"],
    });
    const target = `127.0.0.1:${server.port}`;
    const flood = async () => {
      await using peer = await startHostile("udp-flood", { port: server.port, ...FLOOD });
      return JSON.parse(await peer.nextLine(60_000)).sent as number;
    };
    const ping = () =>
      runClientProcess("udp-ping", { target, count: 5, intervalMs: 20, timeoutMs: 2000, io });

    const start = server.memory();
    let warmSent = 0;
    for (let i = 0; i < WARM_FLOODS; i++) warmSent += await flood();
    const warmPing = await ping();
    const steady = server.memory();
    const started = performance.now();
    const sent = await flood();
    const floodMs = performance.now() - started;
    const after = await ping();
    const end = server.memory();
    const stats = await server.stop();
    record(`load: udp-ping server, 100,000-datagram flood (io ${io})`, {
      ms: floodMs,
      sent,
      serverRssStartKb: start.rssKb,
      serverRssSteadyKb: steady.rssKb,
      serverHwmSteadyKb: steady.hwmKb,
      serverHwmAfterKb: end.hwmKb,
      serverRssAfterKb: end.rssKb,
      stats,
    });
    assert.equal(warmSent, WARM_FLOODS * FLOOD.count);
    assert.equal(sent, FLOOD.count);
    for (const { outcome } of [warmPing, after]) {
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(outcome.metrics.received, 5, "a ping after a flood went unanswered");
      assert.equal(outcome.facts.io, io);
    }
    assert.ok(
      stats.datagrams_in >= 10 && stats.datagrams_in <= (WARM_FLOODS + 1) * FLOOD.count + 10,
      `${stats.datagrams_in} in`,
    );
    // Like with like: the peak reached during the measured flood against the
    // peak before it, and what is resident after it against before it.
    const peakGrowthKb = end.hwmKb - steady.hwmKb;
    const rssGrowthKb = end.rssKb - steady.rssKb;
    assert.ok(
      peakGrowthKb < 4 * 1024 && rssGrowthKb < 4 * 1024,
      `server memory grew during the last flood: peak +${peakGrowthKb} KiB, resident +${rssGrowthKb} KiB`,
    );
  });
}
