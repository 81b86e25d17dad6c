// udp-ping against UDP echo peers we did not write: Python's recvfrom/sendto
// loop (the seeds' shape) and socat. Also prints (does not assert) round-trip
// times for 20,000 pings of 64 bytes against our server and Python's.
import assert from "node:assert/strict";
import { runUdpPingClient, startUdpPingServer } from "../../plugins/udp_ping/mod.ts";
import type { Outcome } from "../../lib/plugin/types.ts";
import { freePort, ignoreWithout, spawnPeer, waitForUdp } from "../_support/peer.ts";

// The seeds' UDP echo server: recvfrom(bufsize), sendto(data, addr). A bufsize
// of 1024 is theirs: longer datagrams come back cut to 1024 bytes. With
// drop_every N, every Nth datagram gets no reply.
const PYTHON_ECHO = `
import socket, sys
port, bufsize, drop_every = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
n = 0
while True:
    data, addr = s.recvfrom(bufsize)
    n += 1
    if drop_every and n % drop_every == 0:
        continue
    s.sendto(data, addr)
`;

async function pythonEcho(bufsize: number, dropEvery = 0) {
  const port = freePort("udp");
  const peer = spawnPeer("python3", [
    "-c",
    PYTHON_ECHO,
    String(port),
    String(bufsize),
    String(dropEvery),
  ]);
  await waitForUdp(port);
  return { peer, port };
}

function pingOn(
  io: "auto" | "deno" | "libc",
  port: number,
  options: Record<string, unknown> = {},
): Promise<Outcome> {
  return runUdpPingClient({
    io,
    target: `127.0.0.1:${port}`,
    count: 50,
    intervalMs: 2,
    // Far beyond any stall of a loaded machine: an answered run never waits
    // for it, and no echo here may come late.
    timeoutMs: 10_000,
    ...options,
  });
}

// These run on both I/O paths: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  const ping = (port: number, options: Record<string, unknown> = {}) => pingOn(io, port, options);

  Deno.test({
    name: `udp-ping gets every ping back from a Python recvfrom(1024) echo server (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const { peer, port } = await pythonEcho(1024);
      await using _ = peer;
      for (const size of [64, 1024]) {
        const { ok, metrics } = await ping(port, { size });
        assert.equal(ok, true);
        assert.equal(metrics.received, 50, `size ${size}`);
        assert.equal(metrics.malformed, 0);
        assert.equal(metrics.foreign, 0);
      }
    },
  });

  Deno.test({
    name:
      `udp-ping reports pings a Python recvfrom(1024) server cuts short as malformed (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const { peer, port } = await pythonEcho(1024);
      await using _ = peer;
      // Every cut echo must arrive before the run ends, the last one at most
      // the timeout after its ping: 2 s, beyond a loaded machine's stalls.
      const { ok, error, metrics } = await ping(port, { count: 5, size: 1500, timeoutMs: 2000 });
      // Nothing measured: a failure, which names what came back instead.
      assert.equal(ok, false);
      assert.equal(error?.code, "no-reply");
      assert.match(error!.message, /none of 5 pings was answered within 2000 ms \(5 malformed\)$/);
      assert.equal(metrics.malformed, 5);
      assert.equal(metrics.received, 0);
      assert.equal(metrics.loss_pct, 100);
    },
  });

  Deno.test({
    name:
      `udp-ping carries 65,507-byte pings through a Python recvfrom(65535) echo server (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const { peer, port } = await pythonEcho(65535);
      await using _ = peer;
      // One ping outstanding: five 64 KiB datagrams 2 ms apart overflow the
      // peer's default receive buffer whenever the loaded machine delays it.
      const { metrics } = await ping(port, { count: 5, size: 65_507, intervalMs: 0 });
      assert.equal(metrics.received, 5);
      assert.equal(metrics.malformed, 0);
    },
  });

  Deno.test({
    name:
      `udp-ping measures exactly 20% loss against a Python peer dropping every 5th datagram (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const { peer, port } = await pythonEcho(65535, 5);
      await using _ = peer;
      // An echo later than the timeout would count as lost (and late).
      const { ok, metrics } = await ping(port, { count: 100, timeoutMs: 2000 });
      assert.equal(ok, true);
      assert.equal(metrics.sent, 100);
      assert.equal(metrics.lost, 20);
      assert.equal(metrics.loss_pct, 20);
      assert.equal(metrics.late, 0);
    },
  });
}

// A UDP peer that reads every datagram and answers none.
const PYTHON_SILENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recvfrom(65535)
`;

const MAIN = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

/** Runs the wiretest CLI, killed after 20 s so a hang fails instead of stalling CI. */
async function wiretest(...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

for (const io of ["deno", "libc"] as const) {
  Deno.test({
    name: `wiretest ping exits 1 with the outcome when a Python peer answers nothing (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const port = freePort("udp");
      await using _ = spawnPeer("python3", ["-c", PYTHON_SILENT, String(port)]);
      await waitForUdp(port);
      const flags = ["--count", "3", "--interval-ms", "10", "--timeout-ms", "200", "--io", io];
      const text = await wiretest("ping", `127.0.0.1:${port}`, ...flags);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^3 pings to 127\.0\.0\.1:\d+: 0 received, 100\.0% lost/);
      assert.equal(
        text.stderr.trim(),
        `error: Cannot ping "127.0.0.1:${port}": none of 3 pings was answered within 200 ms`,
      );
      const json = await wiretest("ping", `127.0.0.1:${port}`, ...flags, "--json");
      assert.equal(json.code, 1, json.stderr);
      const outcome = JSON.parse(json.stdout);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error.name, "NoReplyError");
      assert.equal(outcome.metrics.sent, 3);
      assert.equal(outcome.metrics.loss_pct, 100);
      assert.equal(outcome.facts.io, io);
    },
  });

  Deno.test({
    name: `udp-ping gets every ping back from socat UDP4-RECVFROM,fork EXEC:cat (io ${io})`,
    ignore: ignoreWithout("socat"),
    async fn() {
      // One child per datagram; each answers from the listening port, so the
      // replies are not foreign.
      const port = freePort("udp");
      await using _ = spawnPeer("socat", [`UDP4-RECVFROM:${port},fork,bind=127.0.0.1`, "EXEC:cat"]);
      await waitForUdp(port);
      const { ok, metrics, facts } = await pingOn(io, port, {
        count: 20,
        intervalMs: 20,
        timeoutMs: 2000,
      });
      assert.equal(ok, true);
      assert.equal(facts.io, io);
      assert.equal(metrics.received, 20);
      assert.equal(metrics.foreign, 0);
      assert.equal(metrics.malformed, 0);
    },
  });
}

Deno.test({
  name:
    "udp-ping prints rtt of 20,000 pings of 64 B against our server and Python's (both I/O paths)",
  ignore: ignoreWithout("python3"),
  async fn() {
    const options = { count: 20_000, intervalMs: 0, size: 64, timeoutMs: 1000 };
    const report = (peer: string, { metrics }: Outcome) =>
      console.log(
        `udp-ping ${peer}: ${metrics.received}/${metrics.sent} received, rtt p50 ${
          metrics.rtt_p50_ms?.toFixed(3)
        } ms p99 ${metrics.rtt_p99_ms?.toFixed(3)} ms, ${
          (metrics.sent / metrics.duration_ms * 1000).toFixed(0)
        } pings/s`,
      );

    const { peer, port } = await pythonEcho(65535);
    await using _python = peer;
    for (const io of ["deno", "libc"] as const) {
      const server = await startUdpPingServer({ io });
      try {
        const outcome = await pingOn(io, (server.address as Deno.NetAddr).port, options);
        report(`our server, same process (io ${io})`, outcome);
        assert.equal(outcome.facts.io, io);
        assert.ok(outcome.metrics.received > 0);
      } finally {
        await server.close();
      }

      const denoPort = freePort("udp");
      const script = `import { startUdpPingServer } from "${
        new URL("../../plugins/udp_ping/mod.ts", import.meta.url).href
      }"; await startUdpPingServer({ port: ${denoPort}, io: "${io}" });`;
      const config = new URL("../../deno.json", import.meta.url).pathname;
      {
        await using _ = spawnPeer(Deno.execPath(), ["eval", "--config", config, script]);
        await waitForUdp(denoPort);
        const outcome = await pingOn(io, denoPort, options);
        report(`our server, own process (io ${io})`, outcome);
        assert.ok(outcome.metrics.received > 0);
      }

      const outcome = await pingOn(io, port, options);
      report(`Python recvfrom/sendto echo (io ${io})`, outcome);
      assert.ok(outcome.metrics.received > 0);
    }
  },
});
