// Hostile tests of the TCP proxy's libc relay and its hand-over to node:net:
// real sockets on loopback, every byte checked.
import assert from "node:assert/strict";
import { connectTcp, formatAddress } from "../../lib/transport/mod.ts";
import { libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import { startProxyServer } from "../../plugins/proxy/mod.ts";

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

/** Creates a proxy through the control API; its JSON and the port it listens on. */
async function createProxy(base: string, name: string, upstream: string) {
  const created = (await api(base, "POST", "/proxies", { name, upstream })).json();
  return { created, port: Number(created.listen.slice(created.listen.lastIndexOf(":") + 1)) };
}

// Python upstream: reads a request to its end, answers `size` bytes, closes.
const BIG_REPLY = `
import socket, sys
n = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
data = bytes((i * 7 + (i >> 8)) % 251 for i in range(n))
while True:
    c, _ = s.accept()
    while c.recv(65536): pass
    c.sendall(data)
    c.close()
`;

function expected(size: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 7 + (i >> 8)) % 251);
}

async function startBigReply(size: number): Promise<{ port: number; close(): Promise<void> }> {
  const child = new Deno.Command("python3", {
    args: ["-c", BIG_REPLY, String(size)],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const { value } = await reader.read();
  clearTimeout(timer);
  reader.releaseLock();
  const port = Number(new TextDecoder().decode(value).trim());
  return {
    port,
    close: async () => {
      child.kill("SIGKILL");
      await child.stdout.cancel();
      await child.status;
    },
  };
}

Deno.test({
  name:
    "proxy on libc sockets: a reply bigger than one read, after the client's half-close, arrives whole",
  ignore: NO_LIBC,
  fn: async () => {
    const size = 4_000_000;
    const upstream = await startBigReply(size);
    const service = await startProxyServer({ seed: 1, io: "libc" });
    try {
      const base = formatAddress(service.address);
      const { created, port } = await createProxy(base, "big", `127.0.0.1:${upstream.port}`);
      assert.equal(created.io, "libc");
      const want = expected(size);
      for (let round = 0; round < 5; round++) {
        using conn = await connectTcp({
          hostname: "127.0.0.1",
          port: port,
          ...IO,
        });
        await conn.write(new TextEncoder().encode("GET\n"), IO);
        await conn.closeWrite();
        // Waits until the upstream has answered and closed, so the proxy sees its hang-up with bytes unread.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const out = new Uint8Array(size + 1);
        let got = 0;
        for (;;) {
          const n = await conn.read(out.subarray(got), IO);
          if (n === null) break;
          got += n;
        }
        assert.equal(got, size, `round ${round}: ${got} of ${size} bytes`);
        assert.deepEqual(out.subarray(0, got), want);
      }
    } finally {
      await service.close();
      await upstream.close();
    }
  },
});

function fdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test({
  name:
    "proxy on libc sockets: 100 streaming connections through toxics added and removed, every byte, counters true, no fd left",
  ignore: NO_LIBC,
  fn: async () => {
    const { startEchoServer } = await import("../../plugins/echo/mod.ts");
    const echo = await startEchoServer({ transport: "tcp", maxConnections: 1000 });
    const service = await startProxyServer({ seed: 1, io: "libc" });
    try {
      const base = formatAddress(service.address);
      // A proxy made and removed first: the control API's keep-alive socket and a
      // Worker's runtime are counted before, and only relayed sockets differ after.
      await api(base, "POST", "/proxies", { name: "warm", upstream: formatAddress(echo.address) });
      assert.equal((await api(base, "DELETE", "/proxies/warm")).status, 204);
      const fdsBefore = fdCount();
      const { port } = await createProxy(base, "hand", formatAddress(echo.address));
      const count = 100;
      const size = 200_000;
      const chunk = 4_000;
      let streaming = true;
      const toggling = (async () => {
        for (let i = 0; i < 40 && streaming; i++) {
          const toxic = i % 2 === 0
            ? { type: "latency", attributes: { latency: 0 } }
            : { type: "slicer", attributes: { average_size: 500, delay: 0 } };
          assert.equal(
            (await api(base, "POST", "/proxies/hand/toxics", { name: "t", ...toxic })).status,
            200,
          );
          await new Promise((resolve) => setTimeout(resolve, 10));
          assert.equal((await api(base, "DELETE", "/proxies/hand/toxics/t")).status, 204);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const results = await Promise.all(Array.from({ length: count }, async (_, k) => {
        using conn = await connectTcp({ hostname: "127.0.0.1", port, ...IO });
        const data = new Uint8Array(size).map((_, i) => (i * 31 + k) % 253);
        const writing = (async () => {
          for (let at = 0; at < size; at += chunk) {
            await conn.write(data.subarray(at, at + chunk), IO);
            if (at % (chunk * 10) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          }
          await conn.closeWrite();
        })();
        const back = new Uint8Array(size + 1);
        let got = 0;
        for (;;) {
          const n = await conn.read(back.subarray(got), IO);
          if (n === null) break;
          got += n;
        }
        await writing;
        return got === size && back.subarray(0, size).every((b, i) => b === data[i])
          ? "ok"
          : `connection ${k}: ${got} bytes, first wrong at ${
            back.subarray(0, size).findIndex((b, i) => b !== data[i])
          }`;
      }));
      streaming = false;
      await toggling;
      assert.deepEqual(results.filter((r) => r !== "ok"), []);
      let s = (await api(base, "GET", "/proxies/hand/stats")).json();
      for (let i = 0; i < 100 && s.active !== 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        s = (await api(base, "GET", "/proxies/hand/stats")).json();
      }
      assert.equal(s.active, 0);
      assert.equal(s.connections, count);
      assert.equal(s.aborted, 0);
      assert.equal(s.bytes_upstream, count * size);
      assert.equal(s.bytes_downstream, count * size);
      assert.equal((await api(base, "DELETE", "/proxies/hand")).status, 204);
      // Every relayed socket closed: the descriptors are back where they were (the
      // proxy listener, closed too, less than the proxy's own HTTP sockets may hold).
      for (let i = 0; i < 200 && fdCount() > fdsBefore; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(fdCount() <= fdsBefore, `${fdCount()} descriptors open, ${fdsBefore} before`);
    } finally {
      await service.close();
      await echo.close();
    }
  },
});

// CPU seconds (user + system) of each thread of this process, by thread
// id, from /proc/self/task: other test files run in parallel in this
// process, so its total would count their work too.
function threadCpuSeconds(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const task of Deno.readDirSync("/proc/self/task")) {
    try {
      const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu.set(task.name, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Ended while read.
    }
  }
  return cpu;
}

Deno.test({
  name:
    "proxy on libc sockets: an upstream hung up with bytes the client has not read yet does not spin the relay",
  ignore: NO_LIBC,
  fn: async () => {
    const size = 1_000_000;
    const upstream = await startBigReply(size);
    const service = await startProxyServer({ seed: 1, io: "libc" });
    try {
      const base = formatAddress(service.address);
      const { port } = await createProxy(base, "slow", `127.0.0.1:${upstream.port}`);
      using conn = await connectTcp({
        hostname: "127.0.0.1",
        port: port,
        ...IO,
      });
      await conn.write(new TextEncoder().encode("GET\n"), IO);
      await conn.closeWrite();
      // The client reads nothing for 2 s: the proxy waits for it to drain.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const cpuBefore = threadCpuSeconds();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      // The busiest thread's CPU: a relay woken by every ppoll burns the 2 s
      // on its Worker's thread (one core); a blocked one next to nothing.
      const cpu = Math.max(
        0,
        ...[...threadCpuSeconds()].map(([tid, seconds]) => seconds - (cpuBefore.get(tid) ?? 0)),
      );
      assert.ok(cpu < 0.5, `${cpu} s of CPU in 2 s waiting for the client`);
      const out = new Uint8Array(size + 1);
      let got = 0;
      for (;;) {
        const n = await conn.read(out.subarray(got), IO);
        if (n === null) break;
        got += n;
      }
      assert.equal(got, size);
      assert.deepEqual(out.subarray(0, got), expected(size));
    } finally {
      await service.close();
      await upstream.close();
    }
  },
});

Deno.test({
  name:
    "proxy on libc sockets: maxConnections holds while connections are being handed to the host",
  ignore: NO_LIBC,
  fn: async () => {
    const { startEchoServer } = await import("../../plugins/echo/mod.ts");
    const echo = await startEchoServer({ transport: "tcp", maxConnections: 1000 });
    const service = await startProxyServer({ seed: 1, io: "libc", maxConnections: 20 });
    const held: Awaited<ReturnType<typeof connectTcp>>[] = [];
    let late: Deno.ChildProcess | undefined;
    try {
      const base = formatAddress(service.address);
      const { port } = await createProxy(base, "cap", formatAddress(echo.address));
      for (let i = 0; i < 20; i++) {
        const conn = await connectTcp({ hostname: "127.0.0.1", port, ...IO });
        held.push(conn);
        await conn.write(new Uint8Array([1]), IO);
        assert.equal(await conn.read(new Uint8Array(1), IO), 1);
      }
      // 20 more clients connect 0.5 s from now, from another process.
      late = new Deno.Command("python3", {
        args: [
          "-c",
          `import socket, time
time.sleep(0.5)
socks = [socket.create_connection(("127.0.0.1", ${port}), timeout=3) for _ in range(20)]
time.sleep(30)`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      assert.equal(
        (await api(base, "POST", "/proxies/cap/toxics", {
          type: "latency",
          attributes: { latency: 0 },
        })).status,
        200,
      );
      // The host is busy (as under load) while the Worker has handed its
      // connections over and the late clients arrive.
      const until = performance.now() + 1500;
      while (performance.now() < until) { /* busy */ }
      // Up to 10 s more: a loaded machine may start Python late (its clients
      // stay connected until killed below).
      let s = (await api(base, "GET", "/proxies/cap/stats")).json();
      for (let i = 0; i < 200 && s.rejected + s.connections < 40; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        s = (await api(base, "GET", "/proxies/cap/stats")).json();
      }
      assert.equal(s.connections, 20);
      assert.equal(s.rejected, 20);
    } finally {
      late?.kill("SIGKILL");
      await late?.status;
      for (const conn of held) conn.close();
      await service.close();
      await echo.close();
    }
  },
});

// CPU ticks (1/100 s) process `pid` has used, from /proc/<pid>/stat.
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

Deno.test({
  name:
    "proxy on libc sockets: out of descriptors, clients waiting to be accepted do not spin the relay",
  ignore: NO_LIBC || !hasPrlimit(),
  fn: async () => {
    // Upstream: a listener that never accepts (connections finish in its backlog).
    const peer = new Deno.Command("python3", {
      args: [
        "-c",
        `import socket, sys, time
up = socket.socket(); up.bind(("127.0.0.1", 0)); up.listen(1024)
print(up.getsockname()[1], flush=True)
port = int(sys.stdin.readline())
socks = []
for i in range(400):
    s = socket.socket(); s.setblocking(False)
    try: s.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    socks.append(s)
print("connected", flush=True)
time.sleep(10)`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const peerOut = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const child = new Deno.Command("prlimit", {
      args: [
        "--nofile=300",
        Deno.execPath(),
        "run",
        "-A",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        new URL("./_support/proxy_child.ts", import.meta.url).pathname,
        "libc",
        `127.0.0.1:${await line(peerOut)}`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const childOut = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const kill = setTimeout(() => {
      child.kill("SIGKILL");
      peer.kill("SIGKILL");
    }, 20_000);
    try {
      const port = await line(childOut);
      const writer = peer.stdin.getWriter();
      await writer.write(new TextEncoder().encode(`${port}\n`));
      await writer.close();
      assert.equal(await line(peerOut), "connected");
      // 400 clients, 300 descriptors: the relay runs out and the rest wait in the backlog.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let before = 0;
      try {
        before = cpuTicks(child.pid);
      } catch (e) {
        const { stderr } = await child.output();
        throw new Error(
          new TextDecoder().decode(stderr).split("\n").filter((l) =>
            l.includes("panicked") || l.includes("Err")
          ).join(" / "),
          { cause: e },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const used = cpuTicks(child.pid) - before;
      // A spinning relay takes the whole 3 s (300 ticks); a waiting one next to none.
      assert.ok(used < 100, `${used} ticks of CPU in 3 s`);
      assert.ok(Deno.readDirSync(`/proc/${child.pid}/fd`).toArray().length > 250);
    } finally {
      clearTimeout(kill);
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
      await childOut.cancel();
      await child.stderr.cancel().catch(() => {});
      try {
        peer.kill("SIGKILL");
      } catch { /* ended */ }
      await peer.status;
      await peerOut.cancel();
    }
  },
});

// The next line a child printed (chunks may split or be empty).
async function line(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text.trim();
}

function hasPrlimit(): boolean {
  try {
    return new Deno.Command("prlimit", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
