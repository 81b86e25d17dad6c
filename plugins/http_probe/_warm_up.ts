// Deno initialises its network stack on the first connect of a process: a
// new process's first loopback connect took 0.6-2.8 ms where the next took
// 0.05-0.3 ms (BENCHMARKS.md). One connection of our own, on loopback and
// before the clock starts, keeps that out of the first request's connect
// phase; the target sees nothing of it. The outcome's `warm_up` fact says
// whether it ran.
import { connectTcp, listenTcp } from "../../lib/transport/mod.ts";

const WARM_UP_TIMEOUT_MS = 1000;

/** Opens and closes one loopback connection; `false` when it could not (no net grant for loopback). */
export async function warmUpConnect(): Promise<boolean> {
  if (Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted") {
    return false;
  }
  try {
    using listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept({ timeout: WARM_UP_TIMEOUT_MS });
    using _conn = await connectTcp({ port: listener.addr.port, timeout: WARM_UP_TIMEOUT_MS });
    using _peer = await accepted;
    return true;
  } catch {
    return false;
  }
}
