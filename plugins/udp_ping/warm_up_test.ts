// The client's warm-up (_warm_up.ts) on both I/O paths, against a Python
// UDP echo that logs every datagram and can drop, hold back or double its
// first answers: warm-up pings go first, from the timed pings' socket, and
// neither they nor their echoes, lost, late or doubled, touch a metric.
import assert from "node:assert/strict";
import { bindUdp } from "../../lib/transport/udp.ts";
import { freePort, ignoreWithout, spawnPeer, waitForUdp } from "../../tests/_support/peer.ts";
import { runUdpPingClient, startUdpPingServer } from "./mod.ts";

// Logs "<first 4 bytes hex> <source port> <length>" per datagram, and
// "late" when a held-back echo leaves. Drops the first `drop` datagrams,
// holds the echo of the next one until `hold` more datagrams came (then
// sends it before theirs: the order is fixed, not left to timers under a
// loaded machine), sends every echo `copies`
// times, and before each of the first `junk` echoes sends the same bytes
// from another port and 8 random bytes from its own.
const PYTHON_ECHO = `
import os, socket, sys
port, drop, hold, copies, junk = map(int, sys.argv[1:6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
held = None
n = 0
while True:
    data, addr = s.recvfrom(65535)
    n += 1
    print(data[:4].hex(), addr[1], len(data), flush=True)
    if n <= drop:
        continue
    if held and n == drop + 1 + hold:
        s.sendto(*held)
        print("late", flush=True)
    if n <= junk:
        other.sendto(data, addr)
        s.sendto(os.urandom(8), addr)
    if n == drop + 1 and hold:
        held = (data, addr)
        continue
    for _ in range(copies):
        s.sendto(data, addr)
`;

const WARM_UP_HEX = "57545557";
const TIMED_HEX = "57545550";

async function pythonEcho(
  o: { drop?: number; hold?: number; copies?: number; junk?: number } = {},
) {
  const port = freePort("udp");
  const peer = spawnPeer("python3", [
    "-c",
    PYTHON_ECHO,
    String(port),
    String(o.drop ?? 0),
    String(o.hold ?? 0),
    String(o.copies ?? 1),
    String(o.junk ?? 0),
  ]);
  await waitForUdp(port);
  return {
    port,
    // What the peer logged, once it is stopped.
    async log(): Promise<string[]> {
      await peer[Symbol.asyncDispose]();
      return (await peer.output()).trim().split("\n").filter(Boolean);
    },
    [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
  };
}

const METRICS_UNTOUCHED = ["lost", "late", "duplicates", "reordered", "foreign", "malformed"];

for (const io of ["deno", "libc"] as const) {
  const ping = (port: number, options: Record<string, unknown>, run = {}) =>
    // A timeout far beyond any stall of a loaded machine, so no timed echo
    // comes late; the warm-up waits at most 1 s whatever it is.
    runUdpPingClient({ io, target: `127.0.0.1:${port}`, timeoutMs: 10_000, ...options }, run);

  Deno.test({
    name: `udp-ping warm-up: pings go first, same size, from the timed pings' socket (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      await using peer = await pythonEcho();
      const { ok, metrics, facts } = await ping(peer.port, { count: 10, intervalMs: 0, warmUp: 3 });
      assert.equal(ok, true);
      assert.deepEqual(facts.warm_up, { sent: 3, answered: 3 });
      assert.equal(metrics.sent, 10);
      assert.equal(metrics.received, 10);
      for (const name of METRICS_UNTOUCHED) assert.equal(metrics[name], 0, name);
      const localPort = String(facts.local).split(":").at(-1);
      assert.deepEqual(await peer.log(), [
        ...Array(3).fill(`${WARM_UP_HEX} ${localPort} 64`),
        ...Array(10).fill(`${TIMED_HEX} ${localPort} 64`),
      ]);
    },
  });

  Deno.test({
    name: `udp-ping warm-up: the default sends 5; warmUp 0 sends none (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      await using peer = await pythonEcho();
      const byDefault = await ping(peer.port, { count: 2, intervalMs: 0 });
      assert.deepEqual(byDefault.facts.warm_up, { sent: 5, answered: 5 });
      const none = await ping(peer.port, { count: 2, intervalMs: 0, warmUp: 0 });
      assert.deepEqual(none.facts.warm_up, { sent: 0, answered: 0 });
      assert.equal(none.metrics.received, 2);
      const magics = (await peer.log()).map((line) => line.split(" ")[0]);
      assert.deepEqual(magics, [
        ...Array(5).fill(WARM_UP_HEX),
        ...Array(2).fill(TIMED_HEX),
        ...Array(2).fill(TIMED_HEX),
      ]);
    },
  });

  Deno.test({
    name: `udp-ping warm-up: a dropped warm-up ping ends the warm-up, the run goes on (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      await using peer = await pythonEcho({ drop: 1 });
      const { ok, metrics, facts } = await ping(peer.port, {
        count: 10,
        intervalMs: 0,
        warmUp: 5,
      });
      assert.equal(ok, true);
      assert.deepEqual(facts.warm_up, { sent: 1, answered: 0 });
      assert.equal(metrics.sent, 10);
      assert.equal(metrics.received, 10);
      for (const name of METRICS_UNTOUCHED) assert.equal(metrics[name], 0, name);
      assert.equal((await peer.log()).length, 11);
    },
  });

  Deno.test({
    name:
      `udp-ping warm-up: an echo arriving late, among the timed pings, counts nowhere (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      // The warm-up ping's echo is waited for 1 s (the warm-up's cap), then
      // held back until the 8th of the 20 timed pings arrives at the peer.
      await using peer = await pythonEcho({ hold: 8 });
      const { ok, metrics, facts } = await ping(peer.port, {
        count: 20,
        intervalMs: 25,
        warmUp: 3,
      });
      assert.equal(ok, true);
      assert.deepEqual(facts.warm_up, { sent: 1, answered: 0 });
      assert.equal(metrics.received, 20);
      for (const name of METRICS_UNTOUCHED) assert.equal(metrics[name], 0, name);
      // The late echo really left while timed pings were arriving.
      const log = await peer.log();
      const late = log.indexOf("late");
      const timed = log.flatMap((line, i) => line.startsWith(TIMED_HEX) ? [i] : []);
      assert.ok(late > timed[0] && late < timed.at(-1)!, log.join("\n"));
    },
  });

  Deno.test({
    name: `udp-ping warm-up: datagrams from elsewhere during the warm-up count nowhere (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      // Foreign datagrams (another port, no magic) before each warm-up echo
      // and before the first timed one: only that one's are counted.
      await using peer = await pythonEcho({ junk: 4 });
      const { metrics, facts } = await ping(peer.port, { count: 10, intervalMs: 0, warmUp: 3 });
      assert.deepEqual(facts.warm_up, { sent: 3, answered: 3 });
      assert.equal(metrics.received, 10);
      assert.equal(metrics.foreign, 2);
      assert.equal(metrics.malformed + metrics.lost + metrics.duplicates, 0);
    },
  });

  Deno.test({
    name: `udp-ping warm-up: doubled warm-up echoes are no duplicates (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      await using peer = await pythonEcho({ copies: 2 });
      const { metrics, facts } = await ping(peer.port, { count: 10, intervalMs: 10, warmUp: 4 });
      assert.deepEqual(facts.warm_up, { sent: 4, answered: 4 });
      assert.equal(metrics.received, 10);
      // Each timed echo's second copy (the last one's may come after the
      // run ended), and none of the four warm-up echoes' copies.
      assert.ok(metrics.duplicates >= 9 && metrics.duplicates <= 10, `${metrics.duplicates}`);
      assert.equal(metrics.foreign + metrics.malformed + metrics.lost, 0);
    },
  });

  Deno.test(`udp-ping warm-up: nothing listening costs the warm-up one ping, not a count (io ${io})`, async () => {
    // A port that was just free: bound, then closed.
    const probe = bindUdp();
    const port = probe.addr.port;
    probe.close();
    const { ok, metrics, facts, error } = await ping(port, {
      count: 3,
      intervalMs: 0,
      warmUp: 5,
      timeoutMs: 200,
    });
    assert.equal(ok, false);
    assert.deepEqual(facts.warm_up, { sent: 1, answered: 0 });
    assert.equal(metrics.sent, 3);
    if (io === "libc") {
      // The warm-up ping's ICMP error ended the warm-up and is not counted.
      assert.equal(error?.code, "refused");
      assert.equal(metrics.unreachable, 3);
    } else {
      assert.equal(error?.code, "no-reply");
    }
  });

  Deno.test(`udp-ping warm-up: an abort during the warm-up ends the run, nothing timed (io ${io})`, async () => {
    // A peer that answers nothing and aborts the run when the first warm-up
    // ping reaches it: the warm-up is then waiting (1 s at most) for its
    // echo. A timer instead aborted before the first ping on a loaded
    // machine, where the libc path's Worker took longer than it to start.
    using peer = bindUdp();
    const controller = new AbortController();
    const arrived = peer.receive({ timeout: 30_000 }).then(
      (d) => (controller.abort(new Error("stop")), d.data.length),
      (e: unknown) => e,
    );
    const { ok, metrics, facts, error } = await ping(
      peer.addr.port,
      { count: 5, intervalMs: 0, warmUp: 5, timeoutMs: 60_000 },
      { signal: controller.signal },
    );
    assert.equal(await arrived, 64);
    assert.equal(ok, false);
    assert.equal(error?.message, "stop");
    assert.equal(metrics.sent, 0);
    assert.deepEqual(facts.warm_up, { sent: 1, answered: 0 });
  });

  Deno.test(`udp-ping server counts warm-up pings apart, so datagrams_in is what was timed (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const to = server.address as Deno.NetAddr;
      const outcome = await ping(to.port, { count: 7, intervalMs: 0, warmUp: 4 });
      assert.deepEqual(outcome.facts.warm_up, { sent: 4, answered: 4 });
      assert.equal(outcome.metrics.received, 7);
      const stats = server.stats();
      assert.deepEqual([stats.datagrams_in, stats.datagrams_out, stats.warm_up_in], [7, 7, 4]);
      assert.equal(stats.bytes_in, 7 * 64);
      // Only 20 bytes or more starting "WTUW" are warm-up pings; all are echoed.
      using socket = bindUdp();
      const warm = new Uint8Array(20);
      new DataView(warm.buffer).setUint32(0, 0x57545557);
      for (const data of [warm, warm.subarray(0, 19), new Uint8Array(20)]) {
        await socket.send(data, to);
        assert.equal((await socket.receive({ timeout: 2000 })).data.length, data.length);
      }
      const after = server.stats();
      assert.deepEqual([after.datagrams_in, after.warm_up_in], [9, 5]);
      assert.equal(after.bytes_in, 7 * 64 + 39);
    } finally {
      await server.close();
    }
  });
}
