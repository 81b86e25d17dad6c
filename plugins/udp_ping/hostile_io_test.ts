// udp-ping's two I/O paths (the runtime's sockets and libc through FFI)
// against a hostile peer and a cut run, on real loopback sockets: empty and
// unsolicited datagrams count the same on both, and a run stopped while its
// socket waits closes that socket.
import assert from "node:assert/strict";
import { bindUdp, type Datagram, type UdpSocket } from "../../lib/transport/udp.ts";
import { freePort, ignoreWithout, spawnPeer, waitForUdp } from "../../tests/_support/peer.ts";
import { runUdpPingClient } from "./mod.ts";

type Reply = (datagram: Datagram, index: number, socket: UdpSocket) => Promise<void>;

function startPeer(reply: Reply) {
  const socket = bindUdp();
  let seen = 0;
  const loop = (async () => {
    for await (const datagram of socket) await reply(datagram, seen++, socket);
  })();
  return {
    port: socket.addr.port,
    async [Symbol.asyncDispose]() {
      socket.close();
      await loop;
    },
  };
}

// Echoes five datagrams, then goes away: it connects its socket elsewhere (at
// once, the kernel answers later pings to the port with ICMP port
// unreachable), reads what had arrived before (lost, without an ICMP error),
// prints how many, and exits. A peer closing its socket instead dropped what
// had arrived unread, a count that depends on how loaded the machine is.
const GOES_AWAY = `
import signal, socket, sys
signal.alarm(60)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
for _ in range(5):
    data, addr = s.recvfrom(65535)
    s.sendto(data, addr)
s.connect(("127.0.0.1", 9))
s.setblocking(False)
queued = 0
while True:
    try:
        s.recv(65535)
        queued += 1
    except BlockingIOError:
        break
print(queued, flush=True)
`;

const ping = (io: "deno" | "libc", port: number, options: Record<string, unknown> = {}) =>
  runUdpPingClient({
    io,
    target: `127.0.0.1:${port}`,
    count: 10,
    intervalMs: 5,
    // Far beyond any stall of a loaded machine: no echo here may come late.
    timeoutMs: 10_000,
    warmUp: 0,
    ...options,
  });

for (const io of ["deno", "libc"] as const) {
  Deno.test(`udp-ping: an empty datagram from the peer before each echo is foreign, not a reply (io ${io})`, async () => {
    await using peer = startPeer(async (d, _i, s) => {
      await s.send(new Uint8Array(0), d.from);
      await s.send(d.data, d.from);
    });
    const { ok, metrics } = await ping(io, peer.port);
    assert.equal(ok, true);
    assert.equal(metrics.received, 10);
    // No magic, no identifier: not an echo of ours.
    assert.equal(metrics.foreign, 10);
    assert.equal(metrics.malformed, 0);
    assert.equal(metrics.lost, 0);
  });

  Deno.test(`udp-ping: unsolicited datagrams during a run, from the peer and from another port, count apart (io ${io})`, async () => {
    using stranger = bindUdp();
    await using peer = startPeer(async (d, i, s) => {
      if (i === 2) {
        // 50 of garbage from the peer's own address and port, 50 of a
        // real-looking echo (the ping itself) from another port.
        for (let n = 0; n < 50; n++) await s.send(new Uint8Array(64).fill(n), d.from);
        for (let n = 0; n < 50; n++) await stranger.send(d.data, d.from);
      }
      await s.send(d.data, d.from);
    });
    const { ok, metrics } = await ping(io, peer.port);
    assert.equal(ok, true);
    assert.equal(metrics.received, 10);
    // Garbage from the peer has no identifier; echoes from another port are not the peer's.
    assert.equal(metrics.foreign, 100);
    assert.equal(metrics.malformed, 0);
    assert.equal(metrics.duplicates, 0);
  });

  Deno.test(`udp-ping: the largest datagram as garbage from the peer is foreign, the echo still counts (io ${io})`, async () => {
    await using peer = startPeer(async (d, _i, s) => {
      await s.send(new Uint8Array(65_507).fill(0xee), d.from);
      await s.send(d.data, d.from);
    });
    // One ping at a time: the runtime's socket has the kernel's default
    // receive buffer (212,992 bytes here), and pings 5 ms apart left up to
    // six of these 64 KiB datagrams unread on a loaded machine, one dropped.
    const { metrics } = await ping(io, peer.port, { count: 3, size: 65_507, intervalMs: 0 });
    assert.equal(metrics.received, 3);
    assert.equal(metrics.foreign, 3);
    assert.equal(metrics.lost, 0);
  });

  Deno.test({
    name:
      `udp-ping: a peer that goes away mid-run: the same received and lost on both paths, libc counting the ICMP errors (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const port = freePort("udp");
      await using peer = spawnPeer("python3", ["-c", GOES_AWAY, String(port)]);
      await waitForUdp(port);
      const { ok, metrics } = await ping(io, port, { count: 20, timeoutMs: 2000 });
      // Pings that reached the peer before it went: lost, but no ICMP error.
      const queued = Number((await peer.output()).trim());
      // Some pings were answered: the run is not a failure, as on the event-loop path.
      assert.equal(ok, true);
      assert.equal(metrics.received, 5);
      assert.equal(metrics.lost, 15);
      assert.equal(metrics.unreachable, io === "libc" ? 15 - queued : undefined);
    },
  });

  Deno.test(`udp-ping: a run aborted while its socket waits for an echo that never comes ends, typed, and closes its socket (io ${io})`, async () => {
    // A peer that never answers and stops the run 50 ms after the ping
    // reached it: the run is then in its receive wait. A timer started with
    // the run instead stopped it before its first ping on a loaded machine,
    // where the libc path's Worker took longer than that to start.
    let controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await using peer = startPeer(() => {
      const stopping = controller;
      timer = setTimeout(() => stopping.abort(new DOMException("stop", "AbortError")), 50);
      return Promise.resolve();
    });
    for (let run = 0; run < 3; run++) {
      controller = new AbortController();
      const outcome = await runUdpPingClient(
        {
          io,
          target: `127.0.0.1:${peer.port}`,
          count: 5,
          intervalMs: 0,
          timeoutMs: 60_000,
          warmUp: 0,
        },
        { signal: controller.signal },
      );
      clearTimeout(timer);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.name, "AbortError");
      assert.equal(outcome.metrics.sent, 1);
      assert.equal(outcome.metrics.received, 0);
      // The run's socket is closed once it has ended: its port binds again.
      const port = Number(String(outcome.facts.local).split(":").pop());
      assert.ok(port > 0, String(outcome.facts.local));
      using again = bindUdp({ port });
      assert.equal(again.addr.port, port);
    }
  });
}
