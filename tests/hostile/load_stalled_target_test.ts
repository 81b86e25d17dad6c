// A target that stops answering mid-run, under the open model: the arrivals
// that find every VU stuck never start ("dropped"), so their latencies are
// never measured, and the stuck iterations are cut by the stop, not counted
// as errors. Judged on the iterations that ended, such a run passed a
// latency threshold; without a threshold on metrics.dropped_iterations,
// dropped arrivals now fail it.
import assert from "node:assert/strict";
import { deno, MAIN } from "../_support/deno_process.ts";
import { freePort, spawnPeer, waitForTcp } from "../_support/peer.ts";

// Echoes the first 40 messages (all connections together), then holds
// every later one for 30 s: the target hangs.
const STALLING_ECHO = `
import socket, sys, threading, time
count = [0]
lock = threading.Lock()
def serve(c):
    with c:
        while True:
            data = c.recv(65536)
            if not data: return
            with lock:
                count[0] += 1
                hang = count[0] > 40
            if hang: time.sleep(30); return
            c.sendall(data)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

Deno.test("load, open model: a target that hangs mid-run fails the run through its dropped arrivals", async () => {
  // One target for the fixture, a fresh one for the CLI.
  const port = freePort();
  await using _peer = spawnPeer("python3", ["-c", STALLING_ECHO, String(port)]);
  await waitForTcp(port);
  const cliPort = freePort();
  await using _cliPeer = spawnPeer("python3", ["-c", STALLING_ECHO, String(cliPort)]);
  await waitForTcp(cliPort);
  const dir = await Deno.makeTempDir();
  try {
    // The fixture: a latency threshold only; the hung iterations are cut by the stop.
    const fixture = `${dir}/stall.wire.yaml`;
    await Deno.writeTextFile(
      fixture,
      `name: hangs mid-run
steps:
  - plugin: echo
    with: { target: "127.0.0.1:${port}", timeoutMs: 60000 }
    load: { rate: 100, duration: 2s, maxVus: 2, preAllocatedVus: 2 }
    expect:
      metrics.rtt_p99_ms: "< 1s"
`,
    );
    const test = await deno(["run", "-A", MAIN, "test", fixture, "--no-isolation"], {
      timeoutMs: 120_000,
    });
    assert.equal(test.code, 1, test.stdout + test.stderr);
    assert.match(test.stdout, /^FAIL\s+hangs mid-run/m);
    assert.match(test.stdout, /metrics\.dropped_iterations: expected 0, actual [1-9]\d*/);

    const load = await deno([
      "run",
      "-A",
      MAIN,
      "load",
      "echo",
      `127.0.0.1:${cliPort}`,
      "--timeout-ms",
      "60000",
      "--rate",
      "100",
      "--duration",
      "2s",
      "--max-vus",
      "2",
      "--pre-allocated-vus",
      "2",
      "--no-isolation",
      "--threshold",
      "metrics.rtt_p99_ms: < 1s",
    ], { timeoutMs: 120_000 });
    assert.equal(load.code, 1, load.stdout + load.stderr);
    assert.match(load.stdout, /, [1-9]\d* dropped in /);
    assert.match(load.stderr, /^dropped: [1-9]\d* arrivals never started \(every VU was busy\)/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load, closed model: iterations a hung target holds past the end and its grace are errors, unfinished", async () => {
  const port = freePort();
  await using _peer = spawnPeer("python3", ["-c", STALLING_ECHO, String(port)]);
  await waitForTcp(port);
  const r = await deno([
    "run",
    "-A",
    MAIN,
    "load",
    "echo",
    `127.0.0.1:${port}`,
    "--timeout-ms",
    "60000",
    "--vus",
    "2",
    "--duration",
    "2s",
    "--no-isolation",
    "--json",
    "--threshold",
    "metrics.rtt_p99_ms: < 1s",
  ], { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const json = JSON.parse(r.stdout);
  // The 40 echoed, then one hung iteration per VU: cut after the 5 s grace, counted.
  assert.equal(json.iterations, 42);
  assert.equal(json.errors, 2);
  assert.equal(json.errorsByType.unfinished, 2);
  assert.equal(json.interruptedIterations, 0);
});
