import assert from "node:assert/strict";
import { isPlugin } from "../../lib/plugin/define_plugin.ts";
import { runClient, startServer } from "../../lib/plugin/run.ts";
import udpPing, { summarizeUdpPing } from "./mod.ts";

Deno.test("udp-ping meets the plugin contract with both roles and a positional target", () => {
  assert.ok(isPlugin(udpPing));
  assert.equal(udpPing.name, "udp-ping");
  assert.deepEqual(udpPing.client?.positionals, ["target"]);
  assert.ok(udpPing.server);
});

for (const io of ["deno", "libc"] as const) {
  Deno.test(`udp-ping runs through runClient() and startServer() and summarises in 2 lines (io ${io})`, async () => {
    const server = await startServer(udpPing, { io });
    try {
      const { port } = server.address as Deno.NetAddr;
      const outcome = await runClient(udpPing, {
        target: `127.0.0.1:${port}`,
        count: 4,
        intervalMs: 5,
        io,
      });
      assert.equal(outcome.facts.io, io);
      const lines = udpPing.client!.summary!(outcome).split("\n");
      assert.equal(lines.length, 2);
      const clock = io === "libc" ? "kernel-rx" : "performance.now";
      assert.equal(
        lines[0],
        `4 pings to 127.0.0.1:${port}: 4 received, 0.0% lost (0 late); io ${io}, clock ${clock}`,
      );
      assert.match(lines[1], /^rtt p50 \d+\.\d+ ms p99 \d+\.\d+ ms, jitter \d+\.\d+ ms$/);
    } finally {
      await server.close();
    }
  });
}

Deno.test("summarizeUdpPing() lists duplicates, reordering, foreign and malformed when seen", () => {
  const text = summarizeUdpPing({
    ok: true,
    metrics: {
      sent: 5,
      received: 5,
      lost: 0,
      loss_pct: 0,
      late: 0,
      duplicates: 2,
      reordered: 1,
      foreign: 0,
      malformed: 3,
    },
    facts: { peer: "127.0.0.1:9" },
  });
  assert.equal(text.split("\n")[1], "2 duplicates, 1 reordered, 3 malformed");
});

Deno.test("summarizeUdpPing() gives the error of a run that could not start", () => {
  const text = summarizeUdpPing({
    ok: false,
    metrics: {},
    facts: {},
    error: {
      name: "ConnectionError",
      message: "Cannot listen on 127.0.0.1:1: address already in use",
    },
  });
  assert.equal(text, "Cannot listen on 127.0.0.1:1: address already in use");
});

Deno.test("runClient() rejects a udp-ping target that is not host:port, naming the field", async () => {
  await assert.rejects(
    runClient(udpPing, { target: "127.0.0.1" }),
    /"target" Cannot parse address: "127\.0\.0\.1" is not host:port/,
  );
});

Deno.test("summarizeUdpPing() says why a run stopped early instead of listing odd counts", () => {
  const text = summarizeUdpPing({
    ok: false,
    metrics: { sent: 3, received: 3, lost: 0, loss_pct: 0, late: 0, duplicates: 1 },
    facts: { peer: "127.0.0.1:9" },
    error: { name: "TimeoutError", message: "Deadline of 200 ms passed" },
  });
  assert.deepEqual(text.split("\n"), [
    "3 pings to 127.0.0.1:9: 3 received, 0.0% lost (0 late)",
    "Deadline of 200 ms passed",
  ]);
});

Deno.test("summarizeUdpPing() keeps a tenth of a microsecond below 0.1 ms (loopback and datacenter RTTs on libc)", () => {
  const text = summarizeUdpPing({
    ok: true,
    metrics: {
      sent: 3,
      received: 3,
      loss_pct: 0,
      rtt_p50_ms: 0.00303,
      rtt_p99_ms: 0.0234,
      jitter_ms: 0.00016,
    },
    facts: { peer: "127.0.0.1:7" },
  });
  // 3 decimals rounded 3.03 µs to "0.003 ms" (±17%) and a 0.16 µs jitter to "0.000 ms".
  assert.equal(text.split("\n")[1], "rtt p50 0.0030 ms p99 0.0234 ms, jitter 0.0002 ms");
  const slow = summarizeUdpPing({
    ok: true,
    metrics: { sent: 1, received: 1, rtt_p50_ms: 0.361, rtt_p99_ms: 15.73, jitter_ms: 0.1 },
    facts: { peer: "127.0.0.1:7" },
  });
  assert.equal(slow.split("\n")[1], "rtt p50 0.361 ms p99 15.7 ms, jitter 0.100 ms");
});
