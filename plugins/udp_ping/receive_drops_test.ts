// receive_drops: datagrams the client's own socket dropped (its receive
// buffer full) are told apart from network loss, on both I/O paths. The
// overflow is made deterministic: a Python peer stops the client's process
// (SIGSTOP), answers its one 60 KiB ping with COPIES copies, then lets it go
// on (SIGCONT). Nothing reads meanwhile, so 24 MB meet a receive buffer of
// 8 MiB at most; on loopback nothing else drops a datagram, so every copy is
// counted exactly once: received, late, duplicate or dropped here.
import assert from "node:assert/strict";
import { bindUdp } from "../../lib/transport/udp.ts";
import { runUdpPingClient } from "./mod.ts";

const COPIES = 400;
const SIZE = 60 * 1024;

// Echoes every datagram once, except the first `burst`-sized ping, answered
// `copies` times with the pinger stopped. Prints its port, then reads the
// pinger's pid (or 0: never stop anyone) from stdin.
const PEER = `
import glob, os, signal, socket, sys, time
copies = int(sys.argv[1])
# SIGSTOP takes effect thread by thread: wait until every thread is stopped.
def stop(pid):
    os.kill(pid, signal.SIGSTOP)
    until = time.monotonic() + 10
    while time.monotonic() < until:
        states = []
        for path in glob.glob(f"/proc/{pid}/task/*/stat"):
            try:
                states.append(open(path).read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
        if states and all(state in "Tt" for state in states): return
        time.sleep(0.001)
    raise SystemExit("the pinger did not stop")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(30)
print(s.getsockname()[1], flush=True)
pid = int(sys.stdin.readline())
burst = True
while True:
    data, peer = s.recvfrom(65536)
    if burst and len(data) > 1024:
        burst = False
        if pid: stop(pid)
        try:
            for _ in range(copies): s.sendto(data, peer)
        finally:
            if pid: os.kill(pid, signal.SIGCONT)
    else:
        s.sendto(data, peer)
`;

interface Peer extends AsyncDisposable {
  port: number;
  /** Tells the peer whom to stop (0: nobody). */
  stop(pid: number): Promise<void>;
}

async function startPeer(copies: number): Promise<Peer> {
  const child = new Deno.Command("python3", {
    args: ["-c", PEER, String(copies)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the Python peer: it exited");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const writer = child.stdin.getWriter();
  return {
    port: Number(text.trim()),
    async stop(pid: number) {
      await writer.write(new TextEncoder().encode(`${pid}\n`));
    },
    async [Symbol.asyncDispose]() {
      clearTimeout(killer);
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await writer.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      await child.status;
    },
  };
}

// Two pings of SIZE bytes from a process of its own (the peer stops it at
// the first), the outcome printed as JSON. The second one's echo comes after
// every copy of the first still queued (a socket's queue is first in, first
// out), so the run ends with no copy in flight in the runtime.
async function pingFromChild(
  io: "deno" | "libc",
  peer: Peer,
  permissions: string[] = ["-A"],
): Promise<Record<string, Record<string, unknown>>> {
  const client = new URL("./client.ts", import.meta.url).href;
  const context = new URL("../../lib/plugin/context.ts", import.meta.url).href;
  const script = `
    import { pingUdp } from "${client}";
    import { createContext } from "${context}";
    using ctx = createContext({ timeout: 30_000 });
    const outcome = await pingUdp({ target: "127.0.0.1:${peer.port}", count: 2, intervalMs: 300,
      size: ${SIZE}, timeoutMs: 10_000, warmUp: 0, io: "${io}" }, ctx);
    console.log(JSON.stringify({ metrics: outcome.metrics, facts: { ...outcome.facts, rtt_by_seq: 0 } }));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "--ext=ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // SIGKILL: a stopped process would not act on SIGTERM.
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(script));
    await writer.close();
    await peer.stop(permissions.includes("-A") ? child.pid : 0);
    const { stdout, stderr, code } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout));
  } finally {
    clearTimeout(killer);
  }
}

for (const io of ["libc", "deno"] as const) {
  Deno.test(`udp-ping (${io}): a burst that overflows the client's own receive buffer is counted in receive_drops`, async () => {
    await using peer = await startPeer(COPIES);
    const { metrics, facts } = await pingFromChild(io, peer);
    assert.equal(facts.io, io);
    assert.equal(facts.receive_drops_unknown, undefined);
    const drops = metrics.receive_drops as number;
    assert.ok(drops > 0, JSON.stringify({ metrics, facts }));
    // Every datagram counted once: what the socket kept, or what it dropped
    // (the copies of the first ping, and the echo of the second).
    const kept = (metrics.received as number) + (metrics.late as number) +
      (metrics.duplicates as number);
    assert.equal(kept + drops, COPIES + 1);
  });

  Deno.test(`udp-ping (${io}): a run without overflow reports receive_drops 0`, async () => {
    await using peer = await startPeer(1);
    await peer.stop(0);
    const outcome = await runUdpPingClient(
      { target: `127.0.0.1:${peer.port}`, count: 20, intervalMs: 1, size: 64, io },
      { timeout: 20_000 },
    );
    assert.equal(outcome.facts.io, io);
    assert.equal(outcome.metrics.received, 20);
    assert.equal(outcome.metrics.receive_drops, 0);
    assert.equal(outcome.facts.receive_drops_unknown, undefined);
  });
}

Deno.test("udp-ping (deno): without --allow-all the drops are not counted, and the fact says why", async () => {
  await using peer = await startPeer(1);
  const root = new URL("../../", import.meta.url).pathname;
  const { metrics, facts } = await pingFromChild("deno", peer, [
    "--allow-net=127.0.0.1",
    `--allow-read=${root},/proc/net/udp`,
  ]);
  assert.equal(metrics.received, 2);
  assert.equal(metrics.receive_drops, undefined);
  assert.match(String(facts.receive_drops_unknown), /\/proc\/net\/udp unreadable: .*--allow-all/);
});

// The libc server counts what its socket dropped too. Made deterministic as
// above: the server runs in a process of its own, stopped while a burst of
// COPIES datagrams of 60 KiB arrives.
Deno.test("udp-ping server (libc): a burst that overflows its receive buffer is counted in receive_drops", async () => {
  const mod = new URL("./mod.ts", import.meta.url).href;
  const script = `
    import { startUdpPingServer } from "${mod}";
    const server = await startUdpPingServer({ io: "libc" });
    console.log(server.address.port);
    for await (const _ of Deno.stdin.readable) break;
    console.log(JSON.stringify(server.stats()));
    await server.close();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // SIGKILL: a stopped process would not act on SIGTERM.
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("Cannot start the server: it exited");
      text += value;
    }
    const to = { hostname: "127.0.0.1", port: Number(text.trim()) };
    using socket = bindUdp();
    const big = new Uint8Array(SIZE);
    stopped(child.pid);
    try {
      for (let i = 0; i < COPIES; i++) await socket.send(big, to);
    } finally {
      Deno.kill(child.pid, "SIGCONT");
    }
    // Its echo comes after every datagram the server kept (first in, first
    // out), to a socket of its own: the burst's echoes fill the other one.
    using marker = bindUdp();
    await marker.send(new Uint8Array([1]), to);
    assert.equal((await marker.receive({ timeout: 20_000 })).data.length, 1);
    await writer.write(new TextEncoder().encode("stats\n"));
    text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const stats = JSON.parse(text);
    assert.ok(stats.receive_drops > 0, text);
    assert.equal(stats.datagrams_in + stats.receive_drops, COPIES + 1, text);
  } finally {
    clearTimeout(killer);
    await writer.close().catch(() => {});
    await lines.cancel().catch(() => {});
    const { code } = await child.status;
    await child.stderr.cancel().catch(() => {});
    assert.equal(code, 0);
  }
});

// Stops a process and waits until every thread of it is stopped (SIGSTOP
// takes effect thread by thread), at most 10 s.
function stopped(pid: number): void {
  Deno.kill(pid, "SIGSTOP");
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const states = [...Deno.readDirSync(`/proc/${pid}/task`)].map(({ name }) => {
      try {
        return Deno.readTextFileSync(`/proc/${pid}/task/${name}/stat`).split(")").at(-1)!
          .trim()[0];
      } catch {
        return "T";
      }
    });
    if (states.every((state) => state === "T" || state === "t")) return;
  }
  throw new Error(`Cannot stop process ${pid} within 10 s`);
}
