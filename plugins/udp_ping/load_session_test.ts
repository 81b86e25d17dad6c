// udp-ping as load: a socket per VU, one round trip per iteration, and
// loss counted exactly against a peer that drops every Nth datagram.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkLoadPlan, pluginSessions, runLoad } from "../../lib/load/mod.ts";
import { freePort, spawnPeer, waitForUdp } from "../../tests/_support/peer.ts";
import udpPing, { startUdpPingServer } from "./mod.ts";

const DROP_EVERY = fileURLToPath(
  new URL("../../tests/data/load/udp_drop_every.py", import.meta.url),
);

// The session uses the runtime's sockets (one round trip at a time needs no
// libc loop); the server it loads runs on both I/O paths.
for (const io of ["deno", "libc"] as const) {
  Deno.test(`udp-ping load: one socket per VU, one verified round trip per iteration (server io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const { port } = server.address as Deno.NetAddr;
      const report = await runLoad(
        pluginSessions(udpPing, { target: `127.0.0.1:${port}`, size: 100 }),
        checkLoadPlan({ vus: 2, iterations: 200 }),
      );
      assert.equal(report.errors, 0, JSON.stringify(report.errorsByType));
      assert.equal(report.iterations, 200);
      assert.equal(report.bytes, 200 * 100 * 2);
      assert.equal(server.stats().datagrams_in, 200);
    } finally {
      await server.close();
    }
  });
}

Deno.test("udp-ping load: open model against a peer dropping every 10th datagram, the loss counted exactly", async () => {
  const port = freePort("udp");
  const peer = spawnPeer("python3", [DROP_EVERY, String(port), "10", "60"]);
  let report;
  try {
    // Bound: no datagram of ours is counted before the peer listens.
    await waitForUdp(port, 10_000);
    report = await runLoad(
      // An echo later than the timeout would count as a drop: 2 s, beyond
      // any stall of a loaded machine, and within the 5 s graceful stop.
      pluginSessions(udpPing, { target: `127.0.0.1:${port}`, timeoutMs: 2000 }),
      checkLoadPlan({ rate: 500, duration: "2s" }),
    );
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  const line = (await peer.output()).trim().split("\n").at(-1)!;
  const m = /^received (\d+) dropped (\d+) echoed (\d+)$/.exec(line);
  assert.ok(m, line);
  const [received, dropped, echoed] = m.slice(1).map(Number);
  assert.equal(received, report.iterations);
  assert.equal(dropped, Math.floor(received / 10));
  assert.equal(report.errorsByType["no-reply"], dropped);
  assert.equal(report.errors, dropped);
  assert.equal(report.iterations - report.errors, echoed);
  assert.equal(report.iterations, 1000);
});

Deno.test("udp-ping load: a duplicated echo of the last ping never stands in for a lost one", async () => {
  const port = freePort("udp");
  // Every datagram echoed twice, every 5th dropped: the copy of ping k-1
  // arrives while ping k (dropped) waits, and must not count as its echo.
  const peer = spawnPeer("python3", [DROP_EVERY, String(port), "5", "60", "dup"]);
  let report;
  try {
    await waitForUdp(port, 10_000);
    report = await runLoad(
      // Each dropped ping costs the timeout; a shorter one let a stalled
      // machine's echo count as a fifth drop.
      pluginSessions(udpPing, { target: `127.0.0.1:${port}`, timeoutMs: 1500 }),
      checkLoadPlan({ vus: 1, iterations: 20 }),
    );
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  assert.equal(report.iterations, 20);
  assert.deepEqual({ ...report.errorsByType }, { "no-reply": 4 });
});
