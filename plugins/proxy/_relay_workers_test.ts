// Proxies on libc sockets share relay Workers (PROXIES_PER_WORKER each):
// many proxies on one Worker, one removed or given a toxic while a sibling
// on the same Worker streams, every byte verified over real loopback sockets
// through our echo server.
import assert from "node:assert/strict";
import { connectTcp, formatAddress, listenTcp } from "../../lib/transport/mod.ts";
import { bindUdp, libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import type { Service } from "../../lib/plugin/mod.ts";
import { startEchoServer } from "../echo/mod.ts";
import { startProxyServer } from "./mod.ts";
import { PROXIES_PER_WORKER, tcpRelayWorkers } from "./_tcp_libc_relay.ts";
import { udpRelayWorkers } from "./_udp_libc_relay.ts";

const IO = { timeout: 5000 };
const NO_LIBC = libcUdpRefusal([{ hostname: "127.0.0.1", port: 0 }]) !== undefined;

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://${base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    // A bound, not a pace: creating a proxy on libc sockets waits for its
    // relay Worker to start, seconds on a loaded machine (5 s ran out).
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: () => JSON.parse(text) };
}

/** A proxy server on libc sockets in front of our echo server, closed after `fn`. */
async function withProxies(fn: (base: string, echo: string) => Promise<void>): Promise<void> {
  const echo = await startEchoServer({ transport: "tcp" });
  const service: Service = await startProxyServer({ seed: 7, io: "libc" });
  try {
    await fn(formatAddress(service.address), formatAddress(echo.address));
  } finally {
    await service.close();
    await echo.close();
  }
}

async function create(
  base: string,
  name: string,
  upstream: string,
  protocol: "tcp" | "udp" = "tcp",
): Promise<number> {
  const created = await api(base, "POST", "/proxies", { name, upstream, protocol });
  assert.equal(created.status, 201);
  const json = created.json();
  assert.equal(json.io, "libc");
  return Number(json.listen.slice(json.listen.lastIndexOf(":") + 1));
}

/** The byte at `i` of stream `seed`: every stream differs, every byte is checked. */
const pattern = (seed: number, i: number) => (i * 31 + (i >> 11) + seed) & 255;

/**
 * Sends `total` bytes through `port` and reads them back, comparing each;
 * `onProgress` hears how many came back so far. The bytes verified.
 */
async function stream(
  port: number,
  total: number,
  seed: number,
  onProgress: (verified: number) => Promise<void> | void = () => {},
): Promise<number> {
  using conn = await connectTcp({ hostname: "127.0.0.1", port, ...IO });
  const writing = (async () => {
    const chunk = new Uint8Array(65_536);
    for (let at = 0; at < total; at += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - at));
      for (let i = 0; i < part.length; i++) part[i] = pattern(seed, at + i);
      await conn.write(part, IO);
    }
  })();
  const buffer = new Uint8Array(65_536);
  let verified = 0;
  let mark = 0;
  while (verified < total) {
    const n = await conn.read(buffer, IO);
    if (n === null) break;
    for (let i = 0; i < n; i++) {
      if (buffer[i] !== pattern(seed, verified + i)) {
        throw new Error(`Byte ${verified + i} of stream ${seed} is ${buffer[i]}`);
      }
    }
    verified += n;
    if (verified - mark >= 1 << 20) {
      mark = verified;
      await onProgress(verified);
    }
  }
  await writing;
  return verified;
}

/** One 64-byte round trip on an open connection; whether it came back whole. */
async function roundTrip(conn: Deno.Conn | Awaited<ReturnType<typeof connectTcp>>, seed: number) {
  const data = new Uint8Array(64).map((_, i) => pattern(seed, i));
  await conn.write(data, IO);
  const back = new Uint8Array(64);
  let got = 0;
  while (got < 64) {
    const n = await conn.read(back.subarray(got), IO);
    if (n === null) break;
    got += n;
  }
  return got === 64 && back.every((b, i) => b === data[i]);
}

/**
 * Proxies `a` and `b` on one Worker, with a live connection to `b` that has
 * made one round trip (`seed`).
 */
async function siblings(base: string, echo: string, seed: number) {
  const portA = await create(base, "a", echo);
  const portB = await create(base, "b", echo);
  assert.equal(tcpRelayWorkers(), 1);
  const connB = await connectTcp({ hostname: "127.0.0.1", port: portB, ...IO });
  assert.ok(await roundTrip(connB, seed));
  return { portA, connB };
}

/** This process's threads (each relay Worker is one). */
function threads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/^Threads:\s+(\d+)/m.exec(status)![1]);
}

Deno.test({
  name: "TCP proxies on libc share relay Workers: one thread for up to PROXIES_PER_WORKER proxies",
  ignore: NO_LIBC,
  fn: () =>
    withProxies(async (base, echo) => {
      const before = threads();
      const count = PROXIES_PER_WORKER + 1;
      const ports: number[] = [];
      for (let i = 0; i < count; i++) ports.push(await create(base, `p${i}`, echo));
      // Two Workers, not one a proxy: a thread each (a few more may come and
      // go in the runtime's own pools).
      assert.equal(tcpRelayWorkers(), 2);
      const grown = threads() - before;
      assert.ok(grown <= 8, `${grown} threads more for ${count} proxies`);
      // Every proxy relays, all at once.
      const conns = await Promise.all(
        ports.map((port) => connectTcp({ hostname: "127.0.0.1", port, ...IO })),
      );
      try {
        const ok = await Promise.all(conns.map((conn, i) => roundTrip(conn, i)));
        assert.deepEqual(ok, ports.map(() => true));
      } finally {
        for (const conn of conns) conn.close();
      }
      const stats = (await api(base, "GET", `/proxies/p${count - 1}/stats`)).json();
      assert.equal(stats.bytes_upstream, 64);
      assert.equal(stats.bytes_downstream, 64);
      // Their Workers end with their last proxy.
      for (let i = 0; i < count; i++) {
        assert.equal((await api(base, "DELETE", `/proxies/p${i}`)).status, 204);
      }
      assert.equal(tcpRelayWorkers(), 0);
    }),
});

Deno.test({
  name:
    "Removing a TCP proxy closes its connections and leaves a sibling's stream on the same Worker whole",
  ignore: NO_LIBC,
  fn: () =>
    withProxies(async (base, echo) => {
      const { portA, connB } = await siblings(base, echo, 1);
      using _b = connB;
      const total = 16 << 20;
      let removed = false;
      const verified = await stream(portA, total, 2, async (sofar) => {
        if (removed || sofar < 4 << 20) return;
        removed = true;
        assert.equal((await api(base, "DELETE", "/proxies/b")).status, 204);
      });
      assert.ok(removed);
      assert.equal(verified, total);
      // B's connection was closed with its proxy; A's Worker goes on.
      const ended = await connB.read(new Uint8Array(64), IO).then((n) => n, () => null);
      assert.equal(ended, null);
      assert.equal(tcpRelayWorkers(), 1);
      const stats = (await api(base, "GET", "/proxies/a/stats")).json();
      assert.equal(stats.bytes_upstream, total);
      assert.equal(stats.bytes_downstream, total);
      assert.equal(stats.aborted, 0);
      // A still takes new connections.
      assert.equal(await stream(portA, 1 << 20, 3), 1 << 20);
    }),
});

Deno.test({
  name:
    "A toxic added to one TCP proxy hands over its live connection while a sibling on the same Worker streams",
  ignore: NO_LIBC,
  fn: () =>
    withProxies(async (base, echo) => {
      const { portA, connB } = await siblings(base, echo, 4);
      using _b = connB;
      const total = 16 << 20;
      let toxic = false;
      const verified = await stream(portA, total, 5, async (sofar) => {
        if (toxic || sofar < 4 << 20) return;
        toxic = true;
        const added = await api(base, "POST", "/proxies/b/toxics", {
          type: "latency",
          attributes: { latency: 5 },
        });
        assert.equal(added.status, 200);
        // B's live connection goes on through the toxic, while A streams.
        assert.ok(await roundTrip(connB, 6));
      });
      assert.ok(toxic);
      assert.equal(verified, total);
      const statsA = (await api(base, "GET", "/proxies/a/stats")).json();
      assert.equal(statsA.bytes_upstream, total);
      assert.equal(statsA.bytes_downstream, total);
      assert.equal(statsA.latency_delayed ?? 0, 0);
      // B's connection moved to node:net and went through the toxic.
      const statsB = (await api(base, "GET", "/proxies/b/stats")).json();
      assert.ok(statsB.latency_delayed >= 1, JSON.stringify(statsB));
      assert.equal(statsB.bytes_upstream, 128);
      assert.equal(statsB.bytes_downstream, 128);
      assert.equal(statsB.connections, 1);
    }),
});

Deno.test({
  name:
    "UDP proxies on libc share relay Workers: a latency toxic on one, none on its sibling, one removed, every datagram back",
  ignore: NO_LIBC,
  fn: async () => {
    const echo = await startEchoServer({ transport: "udp" });
    try {
      await withProxies(async (base) => {
        const upstream = formatAddress(echo.address);
        const count = PROXIES_PER_WORKER + 1;
        const ports: number[] = [];
        for (let i = 0; i < count; i++) ports.push(await create(base, `u${i}`, upstream, "udp"));
        assert.equal(udpRelayWorkers(), 2);
        // u0 (plain), u1 (latency) and u2 (removed midway) share the first Worker.
        const added = await api(base, "POST", "/proxies/u1/toxics", {
          type: "latency",
          attributes: { latency: 10 },
        });
        assert.equal(added.status, 200);
        using socket = bindUdp();
        const once = async (port: number, i: number) => {
          const data = new Uint8Array(32).map((_, k) => pattern(i, k));
          await socket.send(data, { hostname: "127.0.0.1", port }, IO);
          const { data: back } = await socket.receive(IO);
          assert.deepEqual(back, data);
        };
        const rounds = 20;
        for (let i = 0; i < rounds; i++) {
          await once(ports[0], i);
          await once(ports[1], i);
          if (i < rounds / 2) await once(ports[2], i);
          if (i === rounds / 2) {
            assert.equal((await api(base, "DELETE", "/proxies/u2")).status, 204);
          }
        }
        // The last proxy, alone on the second Worker, relays too.
        await once(ports[count - 1], 99);
        const plain = (await api(base, "GET", "/proxies/u0/stats")).json();
        const slow = (await api(base, "GET", "/proxies/u1/stats")).json();
        assert.equal(plain.datagrams_upstream, rounds);
        assert.equal(plain.datagrams_downstream, rounds);
        assert.equal(plain.latency_delayed ?? 0, 0);
        assert.equal(slow.datagrams_downstream, rounds);
        assert.equal(slow.latency_delayed, rounds);
        for (let i = 0; i < count; i++) {
          if (i !== 2) assert.equal((await api(base, "DELETE", `/proxies/u${i}`)).status, 204);
        }
        assert.equal(udpRelayWorkers(), 0);
      });
    } finally {
      await echo.close();
    }
  },
});

Deno.test({
  name:
    "A TCP proxy whose port is taken fails with the bind's error, and leaves its Worker's other proxy relaying",
  ignore: NO_LIBC,
  fn: () =>
    withProxies(async (base, echo) => {
      const port = await create(base, "kept", echo);
      assert.equal(tcpRelayWorkers(), 1);
      using held = listenTcp({ hostname: "127.0.0.1", port: 0 });
      const res = await api(base, "POST", "/proxies", {
        name: "taken",
        upstream: echo,
        listen: `127.0.0.1:${held.addr.port}`,
      });
      const body = JSON.stringify(res.json());
      assert.notEqual(res.status, 201, body);
      assert.match(body, /in use/, body);
      assert.equal(tcpRelayWorkers(), 1);
      assert.equal(await stream(port, 1 << 20, 8), 1 << 20);
      // The failed proxy holds no place: the Worker ends with the other one.
      assert.equal((await api(base, "DELETE", "/proxies/kept")).status, 204);
      assert.equal(tcpRelayWorkers(), 0);
    }),
});
