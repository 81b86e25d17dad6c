// The HTTP responder (`wiretest serve http-probe`, a process of its own)
// under 300 concurrent keep-alive clients and, at the same time, clients
// that connect and say nothing, trickle a head a byte at a time, or reset.
import assert from "node:assert/strict";
import {
  eventually,
  record,
  runClientProcess,
  serveProcess,
  startHostile,
} from "./_support/process.ts";

const IDLE_MS = 4000;
const HEADERS_MS = 2000;

Deno.test("http responder: 300 concurrent clients answered, idle and slowloris ones closed, fds back", async () => {
  await using server = await serveProcess("http-probe", [
    "--body",
    "hello",
    "--idle-timeout-ms",
    String(IDLE_MS),
    "--headers-timeout-ms",
    String(HEADERS_MS),
  ]);
  const url = `http://127.0.0.1:${server.port}/`;
  // The baseline is taken after a first client: start-up files are closed by then.
  assert.equal((await runClientProcess("http-probe", { url })).outcome.ok, true);
  const baseFds = server.fds();
  const baseMem = server.memory();
  const started = performance.now();
  await using abusers = await startHostile("abusive-clients", {
    port: server.port,
    idle: 50,
    slow: 50,
    interval: 0.3,
    reset: 50,
  });
  await using clients = await startHostile("http-clients", {
    port: server.port,
    clients: 300,
    requests: 10,
    body: "hello",
  });
  const good = JSON.parse(await clients.nextLine(90_000));
  const abuse = JSON.parse(await abusers.nextLine(90_000));
  const back = await eventually(() => server.fds() <= baseFds, 10_000);
  const elapsed = performance.now() - started;
  const peak = server.memory();
  const stats = await server.stop();
  record("load: http responder, 300 clients + 150 abusive", {
    ms: elapsed,
    serverBaseRssKb: baseMem.rssKb,
    serverHwmKb: peak.hwmKb,
    idleClosedMs: [Math.min(...abuse.idle_closed_ms), Math.max(...abuse.idle_closed_ms)],
    slowClosedMs: [Math.min(...abuse.slow_closed_ms), Math.max(...abuse.slow_closed_ms)],
    stats,
  });
  assert.deepEqual(good, { ok: 3000, bad: 0, errors: [] });
  // Each abusive client was closed, and the server says by which timeout: a
  // slowloris client is never idle (a byte every 0.3 s) but its head never ends.
  assert.equal(abuse.idle_closed_ms.length, 50);
  assert.equal(abuse.slow_closed_ms.length, 50);
  assert.ok(back, `fds: more than the ${baseFds} open at start`);
  assert.equal(stats.requests, 3001);
  assert.deepEqual([stats.timed_out, stats.idle_timeouts, stats.headers_timeouts], [100, 50, 50]);
  assert.equal(stats.active, 0);
  assert.ok(peak.hwmKb - baseMem.rssKb < 128 * 1024, `grew by ${peak.hwmKb - baseMem.rssKb} KiB`);
});
