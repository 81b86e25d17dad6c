import assert from "node:assert/strict";
import { within } from "../../tests/_support/command.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { listenTcp } from "../../lib/transport/tcp.ts";
import type { Conn } from "../../lib/transport/types.ts";
import type { Service } from "../../lib/plugin/types.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { runEchoClient, startEchoServer } from "./mod.ts";
import { PERIOD } from "./_payload.ts";

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A one-connection TCP peer that answers each chunk it reads with
 * `reply(chunk, offset)`; a reply shorter than the chunk is written and then
 * the peer closes.
 */
function startPeer(
  reply: (chunk: Uint8Array, offset: number) => Uint8Array,
): { port: number; done: Promise<void> } {
  const listener = listenTcp();
  const done = (async () => {
    let conn: Conn | undefined;
    try {
      conn = await listener.accept({ timeout: 5000 });
      const buf = new Uint8Array(64 * 1024);
      let offset = 0;
      while (true) {
        const n = await conn.read(buf, { timeout: 5000 });
        if (n === null) break;
        const out = reply(buf.subarray(0, n), offset);
        offset += n;
        if (out.length > 0) await conn.write(out);
        if (out.length < n) break;
      }
    } catch {
      // The client closing first ends the peer too.
    } finally {
      conn?.close();
      listener.close();
    }
  })();
  return { port: listener.addr.port, done };
}

async function withServer(
  options: Parameters<typeof startEchoServer>[0],
  run: (server: Service, target: string) => Promise<void>,
): Promise<void> {
  const server = await startEchoServer(options);
  try {
    await run(server, formatAddress(server.address));
  } finally {
    await server.close();
  }
}

Deno.test("runEchoClient() round trips over tcp", async () => {
  await withServer({}, async (_server, target) => {
    const outcome = await runEchoClient({ target, count: 3 });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.round_trips, 3);
    assert.equal(outcome.metrics.bytes_sent, 15);
    assert.equal(outcome.metrics.bytes_received, 15);
    assert.equal(outcome.metrics.mismatches, 0);
    assert.equal(outcome.metrics.connections, 1);
    assert.ok(outcome.metrics.connect_ms >= 0);
    assert.ok(outcome.metrics.rtt_p99_ms >= outcome.metrics.rtt_p50_ms);
    const { rtt_percentiles: curve, ...facts } = outcome.facts;
    assert.deepEqual(facts, { transport: "tcp", target, payload_bytes: 5 });
    // 3 samples resolve the median, no finer level: min, median, max.
    assert.deepEqual((curve as number[][]).map(([p]) => p), [0, 50, 100]);
    assert.deepEqual((curve as number[][]).map(([, ms]) => ms), [
      outcome.metrics.rtt_min_ms,
      outcome.metrics.rtt_p50_ms,
      outcome.metrics.rtt_max_ms,
    ]);
  });
});

Deno.test("runEchoClient() round trips over unix, inferring the transport", async () => {
  await withServer({ transport: "unix" }, async (_server, target) => {
    assert.match(target, /^unix:\//);
    const outcome = await runEchoClient({ target, count: 4, payload: "über" });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.facts.transport, "unix");
    assert.equal(outcome.metrics.bytes_received, 4 * 5);
  });
});

// The UDP server runs on both I/O paths (the client uses the runtime's sockets).
for (const io of ["deno", "libc"] as const) {
  Deno.test(`runEchoClient() round trips over udp (server io ${io})`, async () => {
    await withServer({ transport: "udp", io }, async (_server, target) => {
      const outcome = await runEchoClient({
        target,
        transport: "udp",
        count: 5,
        connections: 3,
        payloadSize: 1200,
      });
      assert.equal(outcome.ok, true);
      assert.equal(outcome.metrics.round_trips, 15);
      assert.equal(outcome.metrics.bytes_received, 15 * 1200);
      assert.equal(outcome.metrics.mismatches, 0);
      assert.equal(outcome.metrics.connect_ms, undefined);
    });
  });
}

Deno.test("runEchoClient() round trips over tls, verifying the server with caFile", async () => {
  await using certs = await makeCertificates();
  await withServer(
    { transport: "tls", cert: certs.certFile, key: certs.keyFile },
    async (server, target) => {
      const outcome = await runEchoClient({
        target,
        transport: "tls",
        caFile: certs.caCertFile,
        count: 5,
        connections: 2,
        payloadSize: 100_000,
      });
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(outcome.metrics.bytes_received, 10 * 100_000);
      assert.ok(outcome.metrics.connect_ms > 0);
      await waitFor(() => server.stats().active === 0);
      assert.equal(server.stats().aborted, 0);
    },
  );
});

Deno.test("runEchoClient() fails on an untrusted tls server unless insecure", async () => {
  await using certs = await makeCertificates();
  await withServer(
    { transport: "tls", cert: certs.certFile, key: certs.keyFile },
    async (_server, target) => {
      const refused = await runEchoClient({ target, transport: "tls" });
      assert.equal(refused.ok, false);
      assert.equal(refused.error?.code, "tls");
      assert.equal(refused.metrics.connections, 0);
      const insecure = await runEchoClient({ target, transport: "tls", insecure: true });
      assert.equal(insecure.ok, true, insecure.error?.message);
    },
  );
});

Deno.test("runEchoClient() runs 200 connections x 20 round trips with matching server stats", async () => {
  await withServer({}, async (server, target) => {
    const outcome = await runEchoClient({ target, connections: 200, count: 20, timeoutMs: 20_000 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 4000);
    assert.equal(outcome.metrics.mismatches, 0);
    assert.equal(outcome.metrics.connections, 200);
    await waitFor(() => server.stats().active === 0);
    const stats = server.stats();
    assert.equal(stats.connections, 200);
    assert.equal(stats.bytes_in, 200 * 20 * 5);
    assert.equal(stats.bytes_out, 200 * 20 * 5);
    assert.equal(stats.errors, 0);
  });
});

Deno.test("runEchoClient() counts wrong bytes as mismatches and keeps later round trips in step", async () => {
  // Flips every byte at a stream offset of 3 mod 10: offsets 3 and 13 of 20.
  const peer = startPeer((chunk, offset) => {
    const out = chunk.slice();
    for (let i = 0; i < out.length; i++) if ((offset + i) % 10 === 3) out[i] ^= 0xff;
    return out;
  });
  const outcome = await runEchoClient({ target: `127.0.0.1:${peer.port}`, count: 4 });
  await peer.done;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "mismatch");
  assert.equal(
    outcome.error?.message,
    `Cannot verify echo from 127.0.0.1:${peer.port}: 2 of 20 bytes received differ from those sent`,
  );
  assert.equal(outcome.metrics.mismatches, 2);
  assert.equal(outcome.metrics.round_trips, 4);
  assert.equal(outcome.metrics.bytes_received, 20);
});

Deno.test("runEchoClient() counts mismatches in a large payload compared chunk by chunk", async () => {
  const size = 1 << 20;
  const peer = startPeer((chunk, offset) => {
    const out = chunk.slice();
    for (let i = 0; i < out.length; i++) if ((offset + i) % 65_536 === 0) out[i] ^= 1;
    return out;
  });
  const outcome = await runEchoClient({ target: `127.0.0.1:${peer.port}`, payloadSize: size });
  await peer.done;
  assert.equal(outcome.metrics.bytes_received, size);
  assert.equal(outcome.metrics.mismatches, size / 65_536);
});

Deno.test("runEchoClient() verifies a generated payload beyond one period, byte for byte", async () => {
  // Past one period the payload repeats a random block: a flipped byte in
  // the third period, and a 64 KiB block echoed in place of the next one,
  // must both count.
  const size = 3 * PERIOD + 12_345;
  const seen = new Uint8Array(65_536);
  const peer = startPeer((chunk, offset) => {
    const out = chunk.slice();
    for (let i = 0; i < out.length; i++) {
      const at = offset + i;
      if (at < 65_536) seen[at] = out[at];
      else if (at < 2 * 65_536) out[i] = seen[at - 65_536];
      if (at === 2 * PERIOD + 7) out[i] ^= 0x80;
    }
    return out;
  });
  const outcome = await runEchoClient({
    target: `127.0.0.1:${peer.port}`,
    payloadSize: size,
    timeoutMs: 30_000,
  });
  await peer.done;
  assert.equal(outcome.metrics.bytes_sent, size);
  assert.equal(outcome.metrics.bytes_received, size);
  // The replayed block differs from the one it replaced in about 255 of 256 bytes.
  assert.ok(outcome.metrics.mismatches > 1 + 60_000, String(outcome.metrics.mismatches));
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "mismatch");
});

Deno.test("runEchoClient() counts a single flipped byte far into a generated payload", async () => {
  const size = 5 * PERIOD;
  const peer = startPeer((chunk, offset) => {
    const out = chunk.slice();
    const at = 4 * PERIOD + 3 - offset;
    if (at >= 0 && at < out.length) out[at] ^= 1;
    return out;
  });
  const outcome = await runEchoClient({
    target: `127.0.0.1:${peer.port}`,
    payloadSize: size,
    chunkSize: 3 * PERIOD,
    timeoutMs: 30_000,
  });
  await peer.done;
  assert.equal(outcome.metrics.bytes_received, size);
  assert.equal(outcome.metrics.mismatches, 1);
});

Deno.test("runEchoClient() returns a typed error and partial metrics when the peer closes half way", async () => {
  // Echoes 12 bytes, then closes: two round trips of "hello", 2 bytes of the third.
  const peer = startPeer((chunk, offset) => chunk.subarray(0, Math.max(0, 12 - offset)));
  const outcome = await runEchoClient({ target: `127.0.0.1:${peer.port}`, count: 5 });
  await peer.done;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "closed");
  assert.match(outcome.error!.message, /after 2 of 5 bytes/);
  assert.equal(outcome.metrics.round_trips, 2);
  assert.equal(outcome.metrics.bytes_received, 12);
  assert.equal(outcome.metrics.errors, 1);
});

Deno.test("runEchoClient() reports a TimeoutError when the peer never answers", async () => {
  const listener = listenTcp();
  const silent = listener.accept({ timeout: 5000 });
  const outcome = await within(
    runEchoClient({ target: `127.0.0.1:${listener.addr.port}`, timeoutMs: 100 }),
    10_000,
    "the echo client to time out",
  );
  (await silent).close();
  listener.close();
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "TimeoutError");
  assert.equal(outcome.metrics.round_trips, 0);
  assert.equal(outcome.metrics.bytes_sent, 5);
});

Deno.test("runEchoClient() reports a refused connection as an outcome", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  const outcome = await runEchoClient({ target: `127.0.0.1:${port}`, connections: 3 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "refused");
  assert.equal(outcome.metrics.errors, 3);
  assert.equal(outcome.metrics.connections, 0);
});

Deno.test("runEchoClient() runs round trips until durationMs passes", async () => {
  await withServer({}, async (_server, target) => {
    // 2 s: a loaded machine may spend a few hundred ms on the connects and
    // first round trips, and more than one a connection is the point.
    const outcome = await runEchoClient({ target, durationMs: 2000, connections: 2 });
    assert.equal(outcome.ok, true);
    assert.ok(outcome.metrics.round_trips > 2);
    assert.equal(outcome.metrics.bytes_received, outcome.metrics.round_trips * 5);
    assert.ok(outcome.metrics.duration_ms >= 2000);
  });
});

Deno.test("runEchoClient() stops at the run's deadline", async () => {
  await withServer({}, async (_server, target) => {
    // A minute's run: only the run's deadline ends it within the bound; 2 s
    // of it leaves a loaded machine time for the first round trip.
    const outcome = await within(
      runEchoClient({ target, durationMs: 60_000 }, { timeout: 2000 }),
      20_000,
      "the run's deadline",
    );
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "TimeoutError");
    assert.ok(outcome.metrics.round_trips > 0);
  });
});

Deno.test("runEchoClient() sends a payloadHex payload", async () => {
  const received: number[] = [];
  const peer = startPeer((chunk) => {
    received.push(...chunk);
    return chunk.slice();
  });
  const outcome = await runEchoClient({
    target: `127.0.0.1:${peer.port}`,
    payloadHex: "00ff 7f80",
  });
  await peer.done;
  assert.equal(outcome.ok, true);
  assert.deepEqual(received, [0x00, 0xff, 0x7f, 0x80]);
  assert.equal(outcome.facts.payload_bytes, 4);
});

Deno.test("runEchoClient() writes the payload in chunkSize pieces", async () => {
  await withServer({}, async (_server, target) => {
    const outcome = await runEchoClient({
      target,
      payload: "a".repeat(1000),
      chunkSize: 7,
      count: 3,
    });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.bytes_sent, 3000);
    assert.equal(outcome.metrics.bytes_received, 3000);
  });
});

Deno.test("runEchoClient() echoes and verifies a 32 MiB payload over one connection", async () => {
  await withServer({}, async (server, target) => {
    const size = 32 * 1024 * 1024;
    const outcome = await runEchoClient({ target, payloadSize: size, timeoutMs: 60_000 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.bytes_sent, size);
    assert.equal(outcome.metrics.bytes_received, size);
    assert.equal(outcome.metrics.mismatches, 0);
    assert.ok(outcome.metrics.throughput_mib_s > 0);
    await waitFor(() => server.stats().active === 0);
    assert.equal(server.stats().bytes_out, size);
  });
});

Deno.test("runEchoClient() prints throughput for 256 MiB over tcp loopback", async () => {
  await withServer({}, async (_server, target) => {
    const size = 256 * 1024 * 1024;
    const outcome = await runEchoClient({ target, payloadSize: size, timeoutMs: 120_000 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    console.log(
      `256 MiB echo over tcp loopback (client and server in one process): ` +
        `${outcome.metrics.throughput_mib_s.toFixed(1)} MiB/s in ${
          outcome.metrics.duration_ms.toFixed(0)
        } ms`,
    );
  });
});
