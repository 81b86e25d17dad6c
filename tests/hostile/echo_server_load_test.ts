// The echo server (`wiretest serve echo`, a process of its own) under 1,000
// well-behaved concurrent clients and, at the same time, clients that
// half-close or reset; and, on a second server with a short idle timeout,
// clients that connect and say nothing while others keep talking.
import assert from "node:assert/strict";
import {
  eventually,
  record,
  runClientProcess,
  serveProcess,
  startHostile,
} from "./_support/process.ts";

// On a loaded 2-core machine one process driving 1,000 connections can leave
// one of them silent for seconds: the load runs with the default idle timeout,
// the idle clients on a server of their own.
const IDLE_MS = 4000;

Deno.test("echo server: 1,000 clients echoed exactly beside abusers, idle ones closed, fds back", async () => {
  await using server = await serveProcess("echo", []);
  await using idleServer = await serveProcess("echo", ["--idle-timeout-ms", String(IDLE_MS)]);
  // Baselines after a first client: start-up files are closed by then.
  await runClientProcess("echo", { target: `127.0.0.1:${server.port}` });
  await runClientProcess("echo", { target: `127.0.0.1:${idleServer.port}` });
  const baseFds = [server.fds(), idleServer.fds()];
  const baseMem = server.memory();
  const started = performance.now();
  await using abusers = await startHostile("abusive-clients", {
    port: server.port,
    half: 100,
    reset: 100,
    payload: 4096,
  });
  await using idlers = await startHostile("abusive-clients", { port: idleServer.port, idle: 100 });
  // Meanwhile clients that keep talking are never idle, however long they run.
  const talking = runClientProcess("echo", {
    target: `127.0.0.1:${idleServer.port}`,
    connections: 10,
    durationMs: IDLE_MS * 2,
  });
  const good = await runClientProcess("echo", {
    target: `127.0.0.1:${server.port}`,
    connections: 1000,
    count: 20,
    payloadSize: 512,
    timeoutMs: 30_000,
  }, 120_000);
  const abuse = JSON.parse(await abusers.nextLine(60_000));
  const idle = JSON.parse(await idlers.nextLine(60_000));
  const talked = await talking;
  const back = await eventually(
    () => server.fds() <= baseFds[0] && idleServer.fds() <= baseFds[1],
    10_000,
  );
  const elapsed = performance.now() - started;
  const peak = server.memory();
  const stats = await server.stop();
  const idleStats = await idleServer.stop();
  record("load: echo server, 1000 clients + 200 half-closing or resetting; 100 idle", {
    ms: elapsed,
    clientMs: good.ms,
    serverBaseRssKb: baseMem.rssKb,
    serverHwmKb: peak.hwmKb,
    idleClosedMs: [Math.min(...idle.idle_closed_ms), Math.max(...idle.idle_closed_ms)],
    stats,
    idleStats,
  });

  const m = good.outcome.metrics;
  assert.equal(good.outcome.ok, true, `${good.outcome.error?.message} ${JSON.stringify(m)}`);
  assert.deepEqual(
    {
      round_trips: m.round_trips,
      mismatches: m.mismatches,
      errors: m.errors,
      connections: m.connections,
    },
    { round_trips: 20_000, mismatches: 0, errors: 0, connections: 1000 },
  );
  assert.equal(abuse.half_ok, 100, JSON.stringify(abuse));
  assert.equal(abuse.half_bad, 0);
  assert.equal(abuse.reset, 100);
  // Every idle client was closed, and the server counts each as closed for idleness.
  assert.equal(idle.idle_closed_ms.length, 100);
  assert.equal(talked.outcome.ok, true, talked.outcome.error?.message);
  assert.equal(talked.outcome.metrics.errors, 0);
  assert.ok(back, `fds: more than the ${baseFds} open at start`);
  assert.equal(idleStats.idle_closed, 100);
  // A client that resets before it is accepted is never counted.
  assert.ok(stats.connections >= 1101 && stats.connections <= 1201, `${stats.connections}`);
  assert.equal(stats.idle_closed, 0);
  assert.equal(stats.active, 0);
  assert.equal(stats.errors, 0);
  // 1,200 connections with a 64 KiB buffer each at most; nothing kept after them.
  assert.ok(
    peak.hwmKb - baseMem.rssKb < 256 * 1024,
    `server grew by ${peak.hwmKb - baseMem.rssKb} KiB`,
  );
});
