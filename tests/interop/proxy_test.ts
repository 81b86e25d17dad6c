// The proxy's remaining toxics against real peers (socat's TCP echo, a
// Python UDP echo), and 1,000 concurrent connections verified byte for byte.
import assert from "node:assert/strict";
import { formatAddress } from "../../lib/transport/address.ts";
import { connectTcp } from "../../lib/transport/tcp.ts";
import { bindUdp, libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import type { Service } from "../../lib/plugin/types.ts";
import { runProxyClient, startProxyServer } from "../../plugins/proxy/mod.ts";
import { runEchoClient, startEchoServer } from "../../plugins/echo/mod.ts";
import { runFileSender, startFileReceiver } from "../../plugins/file_send/mod.ts";
import { makeCertificates } from "../_support/certs.ts";
import {
  freePort,
  ignoreWithout,
  pythonUdpEcho,
  spawnPeer,
  waitFor,
  waitForTcp,
} from "../_support/peer.ts";

const IO = { timeout: 10_000 };

async function socatEcho(): Promise<{ addr: string } & AsyncDisposable> {
  const port = freePort();
  const peer = spawnPeer("socat", [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, "EXEC:cat"]);
  await waitForTcp(port);
  return { addr: `127.0.0.1:${port}`, [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose]() };
}

async function withProxy(
  options: Record<string, unknown>,
  fn: (
    listen: { hostname: string; port: number },
    counters: () => Promise<Record<string, number>>,
  ) => Promise<void>,
): Promise<void> {
  const service: Service = await startProxyServer({ seed: 11, ...options });
  try {
    const api = formatAddress(service.address);
    const step = await runProxyClient({ api });
    assert.equal(step.ok, true, step.error?.message);
    const [hostname, port] = String(step.facts.listen).split(":");
    await fn(
      { hostname, port: Number(port) },
      async () => (await runProxyClient({ api })).metrics,
    );
  } finally {
    await service.close();
  }
}

async function exchange(
  target: { hostname: string; port: number },
  data: Uint8Array,
): Promise<{ back: Uint8Array; endedAt: number }> {
  using conn = await connectTcp({ ...target, ...IO });
  const writing = conn.write(data, IO).then(() => conn.closeWrite());
  const back = new Uint8Array(data.length + 1);
  let got = 0;
  while (got < back.length) {
    const n = await conn.read(back.subarray(got), IO);
    if (n === null) break;
    got += n;
  }
  await writing;
  return { back: back.subarray(0, got), endedAt: performance.now() };
}

Deno.test({
  name: "proxy slicer toxic: socat echoes every byte, cut into slices of average_size",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using echo = await socatEcho();
    await withProxy({
      upstream: echo.addr,
      toxics: [{
        type: "slicer",
        stream: "upstream",
        attributes: { average_size: 100, size_variation: 20, delay: 10 },
      }],
    }, async (listen, counters) => {
      const data = crypto.getRandomValues(new Uint8Array(20_000));
      const { back } = await exchange(listen, data);
      assert.deepEqual(back, data);
      const c = await counters();
      // Halving stops within size_variation of average_size: slices of 80-120 bytes at most
      // 200 bytes, so at least 100 and at most 20000 / 60 of them.
      assert.ok(c.slicer_slices >= 100 && c.slicer_slices <= 334, `${c.slicer_slices} slices`);
      assert.equal(c.bytes_upstream, 20_000);
    });
  },
});

Deno.test({
  name: "proxy slow_close toxic holds the close back; timeout toxic closes after its timeout",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using echo = await socatEcho();
    await withProxy({
      upstream: echo.addr,
      toxics: [{ type: "slow_close", attributes: { delay: 300 } }],
    }, async (listen, counters) => {
      const start = performance.now();
      const { back, endedAt } = await exchange(listen, new Uint8Array(10).fill(3));
      assert.equal(back.length, 10);
      assert.ok(endedAt - start >= 300, `closed after ${endedAt - start} ms`);
      assert.equal((await counters()).slow_close_delayed, 1);
    });
    await withProxy({
      upstream: echo.addr,
      toxics: [{ type: "timeout", attributes: { timeout: 200 } }],
    }, async (listen, counters) => {
      using conn = await connectTcp({ ...listen, ...IO });
      await conn.write(new Uint8Array(5), IO);
      // Nothing comes back; the proxy closes the connection instead.
      assert.equal(await conn.read(new Uint8Array(5), IO).catch(() => null), null);
      const c = await counters();
      assert.equal(c.timeout_closed, 1);
      assert.equal(c.timeout_dropped_bytes, 5);
    });
  },
});

Deno.test({
  name: "proxy carries 1,000 concurrent TCP connections, every byte verified",
  async fn() {
    // Our echo server upstream: socat would fork 1,000 processes.
    const echo = await startEchoServer({ transport: "tcp" });
    await withProxy({ upstream: formatAddress(echo.address) }, async (listen, counters) => {
      // Opened in waves of 250 (the listen backlog), all 1,000 open together at the end.
      const conns = [];
      for (let wave = 0; wave < 4; wave++) {
        conns.push(
          ...await Promise.all(
            Array.from({ length: 250 }, () => connectTcp({ ...listen, ...IO })),
          ),
        );
      }
      try {
        await Promise.all(conns.map(async (conn, i) => {
          const data = new Uint8Array(4096);
          for (let k = 0; k < data.length; k++) data[k] = (i * 7 + k) & 0xff;
          await conn.write(data, IO);
          const back = new Uint8Array(4096);
          let got = 0;
          while (got < back.length) {
            const n = await conn.read(back.subarray(got), IO);
            assert.notEqual(n, null);
            got += n!;
          }
          assert.deepEqual(back, data);
        }));
        const c = await counters();
        assert.equal(c.connections, 1000);
        assert.equal(c.active, 1000);
        assert.equal(c.bytes_downstream, 1000 * 4096);
      } finally {
        for (const conn of conns) conn.close();
      }
    });
    await echo.close();
  },
});

const LOOPBACK = [{ hostname: "127.0.0.1", port: 0 }];

// Both relays: libc sockets in a Worker (what isolated built-ins get) and the runtime's.
for (const io of ["libc", "deno"] as const) {
  Deno.test({
    name:
      `UDP proxy (${io} sockets): corrupt flips bits, truncate cuts, rate paces, latency delays, flows expire`,
    ignore: ignoreWithout("python3") || (io === "libc" && libcUdpRefusal(LOOPBACK) !== undefined),
    async fn() {
      await using echo = await pythonUdpEcho();
      const send = async (
        options: Record<string, unknown>,
        count: number,
        size: number,
      ) => {
        const got: { data: Uint8Array; at: number }[] = [];
        let counters!: Record<string, number>;
        let sentAt = 0;
        await withProxy(
          { upstream: echo.addr, protocol: "udp", io, ...options },
          async (listen, read) => {
            using socket = bindUdp();
            sentAt = performance.now();
            for (let i = 0; i < count; i++) {
              const data = new Uint8Array(size).fill(0xaa);
              data[0] = i;
              await socket.send(data, listen);
              if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
            }
            // Every datagram is answered here: replies until `count` came,
            // each waited for 5 s at most (1 s of silence ended the run early
            // when a loaded machine stalled the relay).
            while (got.length < count) {
              try {
                const { data } = await socket.receive({ timeout: 5000 });
                got.push({ data, at: performance.now() });
              } catch {
                break;
              }
            }
            counters = await read();
            // A flow that expires does so once idle after the last reply: waited for (10 s at most).
            for (let t = 0; t < 400 && "udpFlowIdleMs" in options && counters.active !== 0; t++) {
              await new Promise((r) => setTimeout(r, 25));
              counters = await read();
            }
          },
        );
        return { got, counters, sentAt };
      };

      const corrupt = await send(
        {
          toxics: [{
            type: "corrupt",
            stream: "upstream",
            attributes: { probability: 1, bits: 3 },
          }],
        },
        50,
        64,
      );
      assert.equal(corrupt.counters.corrupt_corrupted, 50);
      for (const { data } of corrupt.got) {
        let flipped = 0;
        const sent = new Uint8Array(64).fill(0xaa);
        sent[0] = data[0]; // the index byte may itself be flipped: compare the rest
        for (let k = 1; k < 64; k++) {
          for (let x = data[k] ^ sent[k]; x; x &= x - 1) flipped++;
        }
        assert.ok(flipped <= 3, `${flipped} bits flipped`);
      }

      const truncate = await send(
        { toxics: [{ type: "truncate", stream: "downstream", attributes: { size: 10 } }] },
        20,
        100,
      );
      assert.equal(truncate.counters.truncate_truncated, 20);
      assert.deepEqual(truncate.got.map((g) => g.data.length), Array(20).fill(10));

      const rate = await send(
        { toxics: [{ type: "rate", stream: "upstream", attributes: { datagrams: 100 } }] },
        50,
        8,
      );
      assert.equal(rate.got.length, 50);
      // 50 datagrams at 100 per second: the last leaves 490 ms after the first, which
      // left after it was sent (measured from the send: a late first reply on a loaded
      // machine cannot shorten it).
      const span = rate.got[49].at - rate.sentAt;
      assert.ok(span >= 489, `spread over ${span} ms`);
      assert.ok(rate.counters.rate_delayed >= 45);

      const latency = await send(
        { toxics: [{ type: "latency", stream: "upstream", attributes: { latency: 100 } }] },
        5,
        8,
      );
      assert.equal(latency.got.length, 5);
      assert.ok(latency.got[0].at - latency.sentAt >= 100);
      assert.equal(latency.counters.latency_delayed, 5);

      // Idle 1 s: the three datagrams share one flow even if a loaded machine
      // stalls the sender between them (50 ms could see a second flow).
      const expiring = await send({ udpFlowIdleMs: 1000 }, 3, 8);
      assert.equal(expiring.counters.flows, 1);
      assert.equal(expiring.counters.flows_expired, 1);
      assert.equal(expiring.counters.active, 0);
    },
  });

  Deno.test({
    name: `UDP loss with burst (${io} sockets): the mean loss holds and losses come in runs`,
    ignore: ignoreWithout("python3") || (io === "libc" && libcUdpRefusal(LOOPBACK) !== undefined),
    async fn() {
      await using echo = await pythonUdpEcho();
      await withProxy({
        upstream: echo.addr,
        protocol: "udp",
        io,
        toxics: [{ type: "loss", stream: "upstream", attributes: { probability: 0.2, burst: 5 } }],
      }, async (listen, counters) => {
        using socket = bindUdp();
        const n = 5000;
        // The proxy's counters once they account for `sent` datagrams (10 s at most).
        const accounted = async (sent: number) => {
          let c = await counters();
          for (let t = 0; t < 400 && c.datagrams_upstream + c.loss_dropped < sent; t++) {
            await new Promise((r) => setTimeout(r, 25));
            c = await counters();
          }
          return c;
        };
        for (let i = 0; i < n; i++) {
          const data = new Uint8Array(4);
          new DataView(data.buffer).setUint32(0, i);
          await socket.send(data, listen);
          // At most 100 datagrams ahead of the proxy: on a loaded machine its
          // relay fell behind by more than its receive buffer holds, and what
          // the kernel drops there is in no counter (4,980 of 5,000 counted).
          if (i % 100 === 99) await accounted(i + 1);
        }
        const c = await accounted(n);
        assert.equal(c.datagrams_upstream + c.loss_dropped, n);
        // The proxy's own count of runs: what the network after it does cannot blur it.
        const meanRun = c.loss_dropped / c.loss_runs;
        assert.ok(
          c.loss_dropped / n > 0.12 && c.loss_dropped / n < 0.28,
          `${c.loss_dropped} of ${n}`,
        );
        // burst 5: runs of 5 on average (independent losses at 0.2 would give 1.25).
        assert.ok(meanRun > 3.5 && meanRun < 7, `mean run ${meanRun.toFixed(2)}`);
      });
    },
  });
}

Deno.test("proxy passes TLS through: the echo client verifies the server's certificate and every byte", async () => {
  await using certs = await makeCertificates();
  const echo = await startEchoServer({
    transport: "tls",
    cert: certs.certFile,
    key: certs.keyFile,
  });
  try {
    await withProxy({ upstream: formatAddress(echo.address) }, async (listen, counters) => {
      const outcome = await runEchoClient({
        target: `${listen.hostname}:${listen.port}`,
        transport: "tls",
        caFile: certs.caCertFile,
        servername: "localhost",
        count: 20,
        payloadSize: 1000,
      });
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(outcome.metrics.mismatches, 0);
      assert.equal(outcome.metrics.bytes_received, 20_000);
      // The handshake and records crossed the proxy as bytes.
      assert.ok((await counters()).bytes_downstream > 20_000);
    });
  } finally {
    await echo.close();
  }
});

Deno.test({
  name: "proxy close() ends a client whose upstream connect is still pending",
  ignore: ignoreWithout("python3"),
  async fn() {
    // A listener with a full accept queue: further connects wait for a SYN-ACK that never comes.
    const port = freePort();
    await using _peer = spawnPeer("python3", [
      "-c",
      `import socket,time
s=socket.socket(); s.bind(("127.0.0.1",${port})); s.listen(0)
time.sleep(60)`,
    ]);
    await waitForTcp(port); // its connection, never accepted, fills the queue
    const service = await startProxyServer({ seed: 1, upstream: `127.0.0.1:${port}` });
    let closed = false;
    try {
      const step = await runProxyClient({ api: formatAddress(service.address) });
      const [hostname, p] = String(step.facts.listen).split(":");
      using client = await connectTcp({ hostname, port: Number(p), ...IO });
      await new Promise((r) => setTimeout(r, 200)); // the proxy is dialling now
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        service.close().then(() => "closed"),
        new Promise((r) => timer = setTimeout(() => r("still closing after 5 s"), 5000)),
      ]);
      clearTimeout(timer);
      closed = outcome === "closed";
      assert.equal(outcome, "closed");
      assert.equal(await client.read(new Uint8Array(1), IO).catch(() => null), null);
    } finally {
      if (!closed) await service.close();
    }
  },
});

Deno.test("file-send through a limit_data toxic reports truncated, whether the cut comes after its last write or mid-file", async () => {
  const dir = await Deno.makeTempDir();
  const receiver = await startFileReceiver({ dir: `${dir}` });
  try {
    const small = `${dir}/small.bin`;
    const big = `${dir}/big.bin`;
    await Deno.writeFile(small, new Uint8Array(68).fill(7));
    const data = new Uint8Array(8 * 1024 * 1024);
    for (let at = 0; at < data.length; at += 65536) {
      crypto.getRandomValues(data.subarray(at, at + 65536));
    }
    await Deno.writeFile(big, data);
    const cases: [string, number, number][] = [
      // The whole file is written before the proxy cuts: the cut arrives before the sender's FIN.
      [small, 68, 20],
      // The proxy cuts after 64 KiB of 8 MiB: the sender's writes fail mid-file.
      [big, data.length, 65536],
    ];
    let rejected = 0;
    for (const [file, size, bytes] of cases) {
      await withProxy({
        upstream: formatAddress(receiver.address),
        toxics: [{ type: "limit_data", stream: "upstream", attributes: { bytes } }],
      }, async (listen, counters) => {
        const outcome = await runFileSender({
          file,
          target: formatAddress({ transport: "tcp", ...listen }),
          name: `cut-${bytes}.bin`,
          idleTimeoutMs: 10_000,
        });
        assert.equal(outcome.ok, false);
        assert.equal(outcome.error?.name, "FileSendError", outcome.error?.message);
        assert.equal(outcome.error?.code, "truncated", outcome.error?.message);
        assert.match(
          outcome.error!.message,
          new RegExp(`: the connection was cut after \\d+ of ${size} bytes were sent, `),
        );
        assert.equal((await counters()).limit_data_closed, 1);
      });
      // The sender's outcome can come first: wait for the receiver's own, which
      // it counts only once the transfer's temporary file is removed.
      rejected++;
      await waitFor(
        () => receiver.stats().rejected === rejected,
        "the receiver's rejection",
        10_000,
      );
    }
    assert.equal(receiver.stats().files_received, 0);
    // Nothing was stored, nothing left: the receiver saw a cut transfer too.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "big.bin",
      "small.bin",
    ]);
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});
