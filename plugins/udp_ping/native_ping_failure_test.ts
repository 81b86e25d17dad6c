// The libc path's Worker when its run throws after the socket is bound
// (here a peer that is not an IP literal, which the client never passes:
// the one failure that can be made on purpose): the socket is closed before
// the Worker is terminated, and the run rejects with what was thrown.
import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/context.ts";
import { libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import { runNativePing } from "./_native_ping.ts";

/** Sockets this process has open. */
function sockets(): number {
  let n = 0;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith("socket:")) n++;
    } catch {
      // Closed since it was listed (the directory's own descriptor).
    }
  }
  return n;
}

Deno.test({
  name:
    "a libc ping whose run throws after binding closes its socket and rejects, typed by what threw",
  ignore: Deno.build.os !== "linux" ||
    libcUdpRefusal([{ hostname: "127.0.0.1", port: 9 }]) !== undefined,
  async fn() {
    using ctx = createContext();
    const start = {
      bindHostname: "127.0.0.1",
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
