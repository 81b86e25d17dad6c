import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/context.ts";
import { ParamsError } from "../../lib/plugin/run.ts";
import { bindUdp, type Datagram, type UdpSocket } from "../../lib/transport/udp.ts";
import { pingUdp } from "./client.ts";
import { runUdpPingClient, startUdpPingServer } from "./mod.ts";

/** A UDP peer written for a test: `reply` decides what each datagram gets back. */
interface Peer extends AsyncDisposable {
  port: number;
  /** Datagrams received so far. */
  readonly seen: number;
}

type Reply = (datagram: Datagram, index: number, socket: UdpSocket) => Promise<void> | void;

function startPeer(reply: Reply): Peer {
  const socket = bindUdp();
  let seen = 0;
  const loop = (async () => {
    for await (const datagram of socket) await reply(datagram, seen++, socket);
  })();
  return {
    port: socket.addr.port,
    get seen() {
      return seen;
    },
    async [Symbol.asyncDispose]() {
      socket.close();
      await loop;
    },
  };
}

const echo: Reply = (d, _i, socket) => socket.send(d.data, d.from);

/**
 * A peer that holds the echo of ping 0 until a ping reaches it more than
 * `ms` after ping 0 did, then sends it `copies` times before that ping's
 * echo. Ping 0 left before the peer had it, so its echo arrives more than
 * `ms` after it left, however loaded the machine: a count of pings would not
 * do, since pings due during a stall leave together after it.
 */
function holdFirstPast(ms: number, copies = 1): Peer & { readonly released: boolean } {
  let held: Datagram | undefined;
  let heldAt = 0;
  let released = false;
  const peer = startPeer(async (d, i, s) => {
    if (i === 0) {
      held = d;
      heldAt = performance.now();
      return;
    }
    if (!released && performance.now() - heldAt > ms) {
      released = true;
      for (let n = 0; n < copies; n++) await s.send(held!.data, held!.from);
    }
    await s.send(d.data, d.from);
  });
  return Object.defineProperty(peer, "released", { get: () => released }) as Peer & {
    readonly released: boolean;
  };
}

/** How many datagrams `peer` received before a probe sent now, once the probe's echo is back. */
async function seenBefore(peer: Peer): Promise<number> {
  using probe = bindUdp();
  await probe.send(new Uint8Array(1), { hostname: "127.0.0.1", port: peer.port });
  await probe.receive({ timeout: 2000 });
  return peer.seen - 1;
}

// Without a warm-up unless a test asks for one: the peers below count
// datagrams by their index (tests of the warm-up are in warm_up_test.ts).
function pingWith(
  io: "auto" | "deno" | "libc",
  port: number,
  options: Record<string, unknown> = {},
) {
  return runUdpPingClient({
    io,
    target: `127.0.0.1:${port}`,
    count: 20,
    intervalMs: 5,
    // Far beyond any stall of a loaded machine: tests that want a ping to
    // time out say so; an answered run never waits for it.
    timeoutMs: 10_000,
    warmUp: 0,
    ...options,
  });
}

// Every test runs on both I/O paths: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  const ping = (port: number, options: Record<string, unknown> = {}) => pingWith(io, port, options);

  Deno.test(`pingUdp() gets every ping back from the udp-ping server with rtt and no loss (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const { metrics, ok, facts } = await ping((server.address as Deno.NetAddr).port);
      assert.equal(ok, true);
      assert.equal(metrics.sent, 20);
      assert.equal(metrics.received, 20);
      assert.equal(metrics.lost, 0);
      assert.equal(metrics.loss_pct, 0);
      for (const name of ["duplicates", "reordered", "late", "foreign", "malformed"]) {
        assert.equal(metrics[name], 0, name);
      }
      assert.ok(metrics.rtt_min_ms > 0);
      assert.ok(metrics.rtt_p50_ms <= metrics.rtt_p99_ms);
      assert.ok(metrics.rtt_p99_ms <= metrics.rtt_max_ms);
      assert.ok(metrics.jitter_ms >= 0);
      assert.ok(metrics.duration_ms > 0);
      assert.match(String(facts.identifier), /^[0-9a-f]{8}$/);
      assert.equal(server.stats().datagrams_in, 20);
    } finally {
      await server.close();
    }
  });

  Deno.test(`pingUdp() carries the largest UDP payload, 65,507 bytes (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const { metrics } = await ping((server.address as Deno.NetAddr).port, {
        count: 3,
        size: 65_507,
        // One at a time: three 64 KiB datagrams unread at once may not fit
        // the runtime's default receive buffer on a loaded machine.
        intervalMs: 0,
      });
      assert.equal(metrics.received, 3);
      assert.equal(metrics.malformed, 0);
      assert.equal(server.stats().bytes_in, 3 * 65_507);
    } finally {
      await server.close();
    }
  });

  Deno.test(`pingUdp() resolves a host name and matches replies from its address (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const port = (server.address as Deno.NetAddr).port;
      const { metrics, facts } = await ping(port, { target: `localhost:${port}`, count: 3 });
      assert.equal(metrics.received, 3);
      assert.equal(metrics.foreign, 0);
      assert.equal(facts.peer, `127.0.0.1:${port}`);
    } finally {
      await server.close();
    }
  });

  Deno.test(`pingUdp() counts exactly the pings a peer drops as lost (io ${io})`, async () => {
    // Drops every 4th datagram: 10 of 40.
    await using peer = startPeer((d, i, s) =>
      (i + 1) % 4 === 0 ? undefined : s.send(d.data, d.from)
    );
    // A timeout no stall of a loaded machine reaches: an echo counted late
    // instead would change every count below.
    const { metrics, facts, ok } = await ping(peer.port, { count: 40, timeoutMs: 3000 });
    assert.equal(ok, true);
    assert.equal(metrics.sent, 40);
    assert.equal(metrics.received, 30);
    assert.equal(metrics.lost, 10);
    assert.equal(metrics.loss_pct, 25);
    assert.equal(metrics.late, 0);
    // One point per ping: the dropped ones have no time and one loss.
    const series = facts.rtt_by_seq as [number, number | null, number][];
    assert.deepEqual(series.map(([seq]) => seq), Array.from({ length: 40 }, (_, i) => i));
    assert.deepEqual(
      series.filter(([, rtt, lost]) => rtt === null && lost === 1).map(([seq]) => seq),
      [3, 7, 11, 15, 19, 23, 27, 31, 35, 39],
    );
    assert.ok(series.every(([, rtt, lost]) => lost === 1 || (rtt! >= 0 && lost === 0)));
  });

  Deno.test(`pingUdp() reports rtt by sequence in at most 500 points over equal runs of pings (io ${io})`, async () => {
    await using peer = startPeer((d, _i, s) => s.send(d.data, d.from));
    const { facts, metrics } = await ping(peer.port, { count: 1200, intervalMs: 0 });
    assert.equal(metrics.received, 1200);
    const series = facts.rtt_by_seq as [number, number | null, number][];
    assert.equal(series.length, 400);
    assert.deepEqual(series.slice(0, 3).map(([seq]) => seq), [0, 3, 6]);
    // Times are kept to the microsecond.
    const max = metrics.rtt_max_ms;
    assert.ok(series.every(([, rtt, lost]) => lost === 0 && rtt! >= 0 && rtt! <= max + 0.001));
    assert.ok(series.some(([, rtt]) => Math.abs(rtt! - max) <= 0.001), "the largest is a point");
  });

  Deno.test(`pingUdp() fails with NoReplyError and reports 100% loss when nobody answers (io ${io})`, async () => {
    await using peer = startPeer(() => {});
    const { metrics, ok, error } = await ping(peer.port, { count: 3, timeoutMs: 100 });
    assert.equal(ok, false);
    assert.deepEqual(error, {
      name: "NoReplyError",
      code: "no-reply",
      message: `Cannot ping "127.0.0.1:${peer.port}": none of 3 pings was answered within 100 ms`,
    });
    assert.equal(peer.seen, 3);
    assert.equal(metrics.received, 0);
    assert.equal(metrics.loss_pct, 100);
    assert.equal(metrics.rtt_p50_ms, undefined);
    assert.equal(metrics.jitter_ms, undefined);
  });

  Deno.test(`pingUdp() to a port nobody listens on: refused on libc (ICMP seen), no-reply on deno (io ${io})`, async () => {
    // A port that was just free: bound, then closed.
    const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const { metrics, ok, error, facts } = await ping(port, { count: 3, timeoutMs: 300 });
    assert.equal(ok, false);
    assert.equal(metrics.received, 0);
    assert.equal(facts.io, io);
    if (io === "libc") {
      assert.deepEqual(error, {
        name: "ConnectionError",
        code: "refused",
        message: `Cannot ping "127.0.0.1:${port}": port unreachable (ICMP) for 3 of 3 pings`,
      });
      assert.equal(metrics.unreachable, 3);
    } else {
      assert.deepEqual(error, {
        name: "NoReplyError",
        code: "no-reply",
        message: `Cannot ping "127.0.0.1:${port}": none of 3 pings was answered within 300 ms`,
      });
      assert.equal(metrics.unreachable, undefined);
    }
  });

  Deno.test(`pingUdp() that gets replies counts no unreachable (io ${io})`, async () => {
    await using peer = startPeer(async (d, _i, s) => void await s.send(d.data, d.from));
    const { metrics, ok } = await ping(peer.port, { count: 5, intervalMs: 0 });
    assert.equal(ok, true);
    assert.equal(metrics.received, 5);
    assert.equal(metrics.unreachable, io === "libc" ? 0 : undefined);
  });

  Deno.test(`pingUdp() counts a second echo of a ping as a duplicate, not a reply (io ${io})`, async () => {
    // Each echo is preceded by a second copy of the previous one, so every
    // duplicate arrives before the run ends (later ones are not counted).
    let previous: Uint8Array | undefined;
    await using peer = startPeer(async (d, _i, s) => {
      if (previous) await s.send(previous, d.from);
      await s.send(d.data, d.from);
      previous = d.data;
    });
    const { metrics } = await ping(peer.port, { count: 10 });
    assert.equal(metrics.received, 10);
    assert.equal(metrics.duplicates, 9);
    assert.equal(metrics.lost, 0);
  });

  Deno.test(`pingUdp() counts an echo that arrives after a newer one as reordered (io ${io})`, async () => {
    let held: Datagram | undefined;
    await using peer = startPeer(async (d, i, s) => {
      if (i === 1) {
        held = d; // Answered after the echo of the next ping.
        return;
      }
      await s.send(d.data, d.from);
      if (i === 2) await s.send(held!.data, held!.from);
    });
    const { metrics } = await ping(peer.port, { count: 6 });
    assert.equal(metrics.received, 6);
    assert.equal(metrics.reordered, 1);
    assert.equal(metrics.lost, 0);
  });

  Deno.test(`pingUdp() counts an echo past its timeout as late and lost, not received (io ${io})`, async () => {
    // The echo of ping 0 leaves more than its 1 s timeout after ping 0 did,
    // among 3 s of pings: the others' echoes are in time even if a loaded
    // machine stalls the run for most of a second.
    await using peer = holdFirstPast(1100);
    const { metrics } = await ping(peer.port, { count: 60, intervalMs: 50, timeoutMs: 1000 });
    assert.ok(peer.released, "the held echo left before the last ping arrived");
    assert.equal(metrics.late, 1);
    assert.equal(metrics.received, 59);
    assert.equal(metrics.lost, 1);
    assert.equal(metrics.duplicates, 0);
    assert.ok(metrics.rtt_max_ms <= 1000);
  });

  Deno.test(`pingUdp() counts a second copy of a late echo as a duplicate, not late again (io ${io})`, async () => {
    // The echo of ping 0 comes back twice, past its 1 s timeout.
    await using peer = holdFirstPast(1100, 2);
    const { metrics } = await ping(peer.port, { count: 60, intervalMs: 50, timeoutMs: 1000 });
    assert.ok(peer.released, "the held echo left before the last ping arrived");
    assert.equal(metrics.late, 1);
    assert.equal(metrics.duplicates, 1);
    assert.equal(metrics.received, 59);
    assert.equal(metrics.lost, 1);
  });

  Deno.test(`pingUdp() counts truncated and garbled echoes as malformed (io ${io})`, async () => {
    await using peer = startPeer((d, i, s) => {
      if (i === 1) return s.send(d.data.subarray(0, 32), d.from);
      if (i === 3) d.data[40] ^= 0xff; // A flipped padding byte.
      if (i === 4) d.data[15] ^= 0x01; // A changed send time.
      return s.send(d.data, d.from);
    });
    const { metrics } = await ping(peer.port, { count: 8, timeoutMs: 2000 });
    assert.equal(metrics.malformed, 3);
    assert.equal(metrics.received, 5);
    assert.equal(metrics.lost, 3);
  });

  Deno.test(`pingUdp() counts echoes from another port as foreign, not received (io ${io})`, async () => {
    using other = bindUdp();
    await using peer = startPeer((d, i, s) => (i === 2 ? other : s).send(d.data, d.from));
    const { metrics } = await ping(peer.port, { count: 6, timeoutMs: 2000 });
    assert.equal(metrics.foreign, 1);
    assert.equal(metrics.received, 5);
    assert.equal(metrics.lost, 1);
  });

  Deno.test(`pingUdp() counts echoes from the right port of another address as foreign (io ${io})`, async () => {
    // 127.0.0.2 is loopback too: same port, other address, still not the target.
    await using peer = startPeer((d, i, s) => (i === 2 ? other : s).send(d.data, d.from));
    using other = bindUdp({ hostname: "127.0.0.2", port: peer.port });
    const { metrics } = await ping(peer.port, { count: 6, timeoutMs: 2000 });
    assert.equal(metrics.foreign, 1);
    assert.equal(metrics.received, 5);
    assert.equal(metrics.lost, 1);
  });

  Deno.test(`pingUdp() counts datagrams without its magic or identifier as foreign (io ${io})`, async () => {
    await using peer = startPeer((d, i, s) => {
      if (i === 1) return s.send(new TextEncoder().encode("hello"), d.from);
      if (i === 2) d.data[5] ^= 0xff; // Another run's identifier.
      return s.send(d.data, d.from);
    });
    const { metrics } = await ping(peer.port, { count: 6, timeoutMs: 2000 });
    assert.equal(metrics.foreign, 2);
    assert.equal(metrics.malformed, 0);
    assert.equal(metrics.received, 4);
  });

  Deno.test(`pingUdp() in flood mode keeps exactly one ping outstanding (io ${io})`, async () => {
    let pending = 0;
    let most = 0;
    await using peer = startPeer((d, _i, s) => {
      most = Math.max(most, ++pending);
      // Answer later without blocking the peer's receive loop.
      setTimeout(() => {
        pending--;
        s.send(d.data, d.from).catch(() => {});
      }, 5);
    });
    // A ping timed out would let the next one leave while it is pending:
    // the 5 ms answer must not be taken for one by a stalled machine.
    const { metrics } = await ping(peer.port, { count: 10, intervalMs: 0, timeoutMs: 10_000 });
    assert.equal(metrics.received, 10);
    assert.equal(most, 1);
  });

  Deno.test(`pingUdp() sends on schedule whatever the replies when intervalMs is set (io ${io})`, async () => {
    // Ping 0 is answered only once ping 1 arrives (not after a delay, which a
    // stalled machine may let pass before ping 1 leaves): a client waiting
    // for the answer before sending on would time ping 0 out.
    let held: Datagram | undefined;
    await using peer = startPeer(async (d, i, s) => {
      if (i === 0) {
        held = d;
        return;
      }
      if (i === 1) await s.send(held!.data, held!.from);
      await s.send(d.data, d.from);
    });
    const { metrics } = await ping(peer.port, { count: 10, intervalMs: 5, timeoutMs: 5000 });
    assert.equal(metrics.received, 10);
    assert.equal(metrics.lost, 0);
  });

  Deno.test(`pingUdp() in flood mode sends the next ping as soon as the previous is answered (io ${io})`, async () => {
    await using peer = startPeer(echo);
    // A 10-minute ping timeout inside a 20 s run deadline: waiting out any
    // timeout instead of the reply would leave the run cut after one ping.
    const outcome = await runUdpPingClient(
      { io, target: `127.0.0.1:${peer.port}`, count: 20, intervalMs: 0, timeoutMs: 600_000 },
      { timeout: 20_000 },
    );
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.metrics.received, 20);
  });

  Deno.test(`pingUdp() in flood mode sends the next ping once the previous one timed out (io ${io})`, async () => {
    await using peer = startPeer((d, i, s) => i === 1 ? undefined : s.send(d.data, d.from));
    const { metrics } = await ping(peer.port, { count: 4, intervalMs: 0, timeoutMs: 1500 });
    assert.equal(peer.seen, 4);
    assert.equal(metrics.received, 3);
    assert.equal(metrics.lost, 1);
  });

  Deno.test(`runUdpPingClient() rejects a size beyond 65,507 bytes before sending anything (io ${io})`, async () => {
    await using peer = startPeer(echo);
    await assert.rejects(ping(peer.port, { size: 65_508 }), (error: unknown) => {
      assert.ok(error instanceof ParamsError);
      assert.deepEqual(error.issues.map((i) => i.path), [["size"]]);
      return true;
    });
    assert.equal(await seenBefore(peer), 0);
  });

  Deno.test(`pingUdp() throws a RangeError for an oversized ping before sending anything (io ${io})`, async () => {
    await using peer = startPeer(echo);
    using ctx = createContext();
    await assert.rejects(
      pingUdp(
        {
          target: `127.0.0.1:${peer.port}`,
          count: 1,
          intervalMs: 0,
          size: 70_000,
          timeoutMs: 100,
          warmUp: 5,
          io,
        },
        ctx,
      ),
      RangeError,
    );
    assert.equal(await seenBefore(peer), 0);
  });

  Deno.test(`pingUdp() stops at the deadline with ok false and the metrics so far (io ${io})`, async () => {
    await using peer = startPeer(echo);
    const cut = await runUdpPingClient(
      // Cut mid-run (20 s of pings): the libc path's Worker may take a second
      // or more to start on a loaded machine.
      { io, target: `127.0.0.1:${peer.port}`, count: 1000, intervalMs: 20 },
      { timeout: 3000 },
    );
    assert.equal(cut.ok, false);
    assert.equal(cut.error?.name, "TimeoutError");
    assert.ok(cut.metrics.sent > 0 && cut.metrics.sent < 1000, `sent ${cut.metrics.sent}`);
    assert.equal(cut.metrics.received + cut.metrics.lost, cut.metrics.sent);
  });
}

Deno.test("pingUdp() says which I/O path and clock measured (facts io, clock)", async () => {
  const server = await startUdpPingServer({ io: "deno" });
  try {
    const port = (server.address as Deno.NetAddr).port;
    const libc = await pingWith("libc", port, { count: 3 });
    assert.equal(libc.facts.io, "libc");
    assert.match(String(libc.facts.clock), /^(kernel-rx|realtime)$/);
    const deno = await pingWith("deno", port, { count: 3 });
    assert.deepEqual([deno.facts.io, deno.facts.clock], ["deno", "performance.now"]);
    const auto = await pingWith("auto", port, { count: 3 });
    assert.equal(auto.facts.io, "libc");
  } finally {
    await server.close();
  }
});

Deno.test({
  name: "pingUdp() without FFI: auto uses the runtime's sockets, libc is refused before sending",
  permissions: { net: true, read: true },
  async fn() {
    await using peer = startPeer(echo);
    const auto = await pingWith("auto", peer.port, { count: 2 });
    assert.equal(auto.facts.io, "deno");
    assert.equal(auto.metrics.received, 2);
    const libc = await pingWith("libc", peer.port, { count: 2 });
    assert.equal(libc.ok, false);
    assert.equal(libc.error?.name, "RangeError");
    assert.match(libc.error!.message, /io "libc" is not available: ffi is not granted/);
    assert.equal(await seenBefore(peer), 2);
  },
});

Deno.test({
  name: "pingUdp() with FFI but no net for the target: libc is refused (FFI would bypass net)",
  permissions: { net: ["127.0.0.1:0", "127.0.0.1"], ffi: true, read: true },
  async fn() {
    const libc = await pingWith("libc", 9, { target: "127.0.0.2:9", count: 1 });
    assert.equal(libc.error?.name, "RangeError");
    assert.match(libc.error!.message, /net is not granted for "127\.0\.0\.2:9"/);
    // auto falls back to the runtime's sockets, which the net permission stops.
    const auto = await pingWith("auto", 9, { target: "127.0.0.2:9", count: 1 });
    assert.equal(auto.error?.name, "PermissionDeniedError");
  },
});

Deno.test({
  name:
    "pingUdp() with FFI but its Worker unreadable: auto uses the runtime's sockets, libc is refused",
  permissions: { net: true, ffi: true, read: false },
  async fn() {
    await using peer = startPeer(echo);
    const auto = await pingWith("auto", peer.port, { count: 2 });
    assert.equal(auto.error, undefined);
    assert.equal(auto.facts.io, "deno");
    assert.equal(auto.metrics.received, 2);
    const libc = await pingWith("libc", peer.port, { count: 2 });
    assert.equal(libc.error?.name, "RangeError");
    assert.match(
      libc.error!.message,
      /io "libc" is not available: read is not granted for ".*_native_ping_worker\.ts"/,
    );
  },
});
