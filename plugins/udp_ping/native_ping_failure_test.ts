// The libc path's Worker when its run throws after the socket is bound
// (here a peer that is not an IP literal, which the client never passes:
// the one failure that can be made on purpose): the socket is closed before
// the Worker is terminated, and the run rejects with what was thrown.
import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/context.ts";
import { libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import { runNativePing } from "./_native_ping.ts";

// An address of the loopback block no other test binds: the test files run
// in parallel in one process, so counting this process's sockets would
// count theirs too.
const BIND = "127.0.0.77";
const BIND_HEX = "4D00007F"; // /proc/net/udp writes it little-endian

/** UDP sockets bound to {@linkcode BIND}, from /proc/net/udp. */
function sockets(): number {
  return Deno.readTextFileSync("/proc/net/udp").split("\n")
    .filter((line) => line.trim().split(/\s+/)[1]?.startsWith(`${BIND_HEX}:`)).length;
}

Deno.test({
  name:
    "a libc ping whose run throws after binding closes its socket and rejects, typed by what threw",
  ignore: Deno.build.os !== "linux" ||
    libcUdpRefusal([{ hostname: "127.0.0.1", port: 9 }]) !== undefined,
  async fn() {
    using ctx = createContext();
    const start = {
      bindHostname: BIND,
      peer: { hostname: "not-an-ip", port: 9 },
      id: 1,
      size: 64,
      count: 2,
      warmUp: 0,
      intervalMs: 0,
      timeoutMs: 100,
    };
    const failing = () =>
      assert.rejects(runNativePing(start, ctx), {
        message:
          /^Cannot run the libc UDP ping: (Uncaught )?TypeError: Cannot encode address: "not-an-ip" is not an IP literal$/,
      });
    // Once first: what the first Worker of a process opens for good is not the run's.
    await failing();
    const before = sockets();
    for (let run = 0; run < 3; run++) {
      await failing();
    }
    assert.equal(sockets(), before);
  },
});
