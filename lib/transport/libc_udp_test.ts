import assert from "node:assert/strict";
import { openLibcUdp } from "./libc_udp.ts";

// Sends one datagram to 127.0.0.1:`port` after `delayMs`, from a process of
// its own: a blocking receive holds this thread, so no timer here could.
function sendLater(port: number, delayMs: number): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: [
      "-c",
      `import socket, time
time.sleep(${delayMs / 1000})
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"late", ("127.0.0.1", ${port}))`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test({
  name:
    "LibcUdpSocket.receive() and LibcUdp.poll() wait under a second for a datagram that comes during the wait",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const opened = openLibcUdp();
    assert.ok(opened.libc, "libc opens with -A on Linux");
    using libc = opened.libc;
    using socket = libc.bind("127.0.0.1", 0);
    const first = sendLater(socket.port, 300);
    try {
      // Under a second: the wait is in the timespec's nanoseconds word.
      const got = socket.receive(900);
      assert.equal(got?.length, 4);
      assert.equal(got?.fromHostname, "127.0.0.1");
    } finally {
      await first.status;
    }
    const second = sendLater(socket.port, 300);
    try {
      const ready = new Uint8Array(1);
      assert.equal(libc.poll([socket], 900, ready), 1);
      assert.deepEqual(ready, new Uint8Array([1]));
    } finally {
      await second.status;
    }
  },
});
