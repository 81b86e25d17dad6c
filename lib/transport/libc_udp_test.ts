import assert from "node:assert/strict";
import { encodeSockaddr, openLibcUdp } from "./libc_udp.ts";

// Sends one datagram to 127.0.0.1:`port`, from a process of its own (a
// blocking receive holds this thread, so no timer here could), `delayMs`
// after it is told to go. It is started, and has said so, before: the wait
// then covers the delay alone, not a loaded machine's start of Python.
async function sendLater(port: number, delayMs: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      `import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("ready", flush=True)
sys.stdin.readline()
time.sleep(${delayMs / 1000})
s.sendto(b"late", ("127.0.0.1", ${port}))`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const bound = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    assert.equal(new TextDecoder().decode((await reader.read()).value).trim(), "ready");
  } finally {
    clearTimeout(bound);
    reader.releaseLock();
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  return child;
}

/** Waits for a sender to end, its output drained. */
async function ended(child: Deno.ChildProcess): Promise<void> {
  await child.stdout.cancel();
  await child.status;
}

Deno.test({
  name:
    "LibcUdpSocket.receive(), receiveBlocking() and LibcUdp.poll() wait for a datagram that comes during the wait",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const opened = openLibcUdp();
    assert.ok(opened.libc, "libc opens with -A on Linux");
    using libc = opened.libc;
    using socket = libc.bind("127.0.0.1", 0);
    const first = await sendLater(socket.port, 100);
    try {
      // Under a second: the wait is in the timespec's nanoseconds word.
      const got = socket.receive(900);
      assert.equal(got?.length, 4);
      assert.equal(got?.fromHostname, "127.0.0.1");
    } finally {
      await ended(first);
    }
    const second = await sendLater(socket.port, 100);
    try {
      const ready = new Uint8Array(1);
      assert.equal(libc.poll([socket], 900, ready), 1);
      assert.deepEqual(ready, new Uint8Array([1]));
      // poll() leaves it queued.
      assert.equal(socket.receive(0)?.length, 4);
    } finally {
      await ended(second);
    }
    // Blocked in recvmsg (SO_RCVTIMEO, a timeval: 1 s and 500,000 µs).
    const third = await sendLater(socket.port, 100);
    try {
      assert.equal(socket.receiveBlocking(1500)?.length, 4);
    } finally {
      await ended(third);
    }
  },
});

Deno.test({
  name: "LibcUdpSocket.receiveBlocking() returns null once its wait passes with nothing sent",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // In a Worker, so a wait that never ends fails this test instead of
    // blocking it: the Worker is given 30 s to answer (5 s were too few for
    // a loaded machine to start it).
    const module = new URL("./libc_udp.ts", import.meta.url).href;
    const code = `import { openLibcUdp } from "${module}";
      const { libc } = openLibcUdp();
      const socket = libc.bind("127.0.0.1", 0);
      const got = [socket.receiveBlocking(50), socket.receiveBlocking(1200)];
      socket.close();
      libc.close();
      postMessage(got.map((d) => d === null));`;
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const answer = await new Promise<unknown>((resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message));
        };
        timer = setTimeout(() => reject(new Error("receiveBlocking() never returned")), 30_000);
      });
      assert.deepEqual(answer, [true, true]);
    } finally {
      clearTimeout(timer);
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  },
});

Deno.test("LibcUdpSocket: each datagram carries the drop count when it was queued, drops() the latest", () => {
  const opened = openLibcUdp();
  if (!opened.libc) return;
  using libc = opened.libc;
  using a = libc.bind("127.0.0.1", 0);
  using b = libc.bind("127.0.0.1", 0);
  a.sendTo(new Uint8Array([1]), 1, "127.0.0.1", b.port);
  assert.equal(b.receive(1000)?.drops, 0);
  // 600 datagrams of 60 KiB overflow a receive buffer of 8 MiB at most; b
  // reads none meanwhile (this thread sends).
  const big = new Uint8Array(60 * 1024);
  for (let i = 0; i < 600; i++) a.sendTo(big, big.length, "127.0.0.1", b.port);
  let queued = 0;
  while (b.receive(0)) queued++;
  const dropped = b.drops()!;
  assert.ok(dropped > 0 && queued + dropped === 600, `${queued} queued, ${dropped} dropped`);
  // Queued after the drops: it says how many there were.
  a.sendTo(new Uint8Array([2]), 1, "127.0.0.1", b.port);
  assert.equal(b.receive(1000)?.drops, dropped);
});

Deno.test("encodeSockaddr() refuses a zone id and what is no IP literal with a TypeError quoting it", () => {
  assert.throws(() => encodeSockaddr("fe80::1%lo", 7), {
    name: "TypeError",
    message:
      'Cannot encode address: "fe80::1%lo" has an IPv6 zone id, which wiretest does not support',
  });
  for (const text of ["1..2.3", "1.2.3.999", "::1::2", "localhost", "[::1]", "a\u001bb"]) {
    assert.throws(() => encodeSockaddr(text, 7), {
      name: "TypeError",
      message: `Cannot encode address: ${JSON.stringify(text)} is not an IP literal`,
    }, text);
  }
  assert.deepEqual([...encodeSockaddr("::ffff:127.0.0.1", 7).subarray(8, 24)], [
    ...Array(10).fill(0),
    0xff,
    0xff,
    127,
    0,
    0,
    1,
  ]);
});
