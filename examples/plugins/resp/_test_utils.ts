// A real redis-server on a free loopback port for the RESP plugin's tests:
// no persistence, killed and awaited on dispose.
import { freePort, ignoreWithout, spawnPeer, waitForTcp } from "../../../tests/_support/peer.ts";

/** The `ignore` option of a test that needs redis-server. */
export function withoutRedis(): boolean {
  return ignoreWithout("redis-server");
}

/** A running redis-server. */
export interface Redis extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
  /** `127.0.0.1:<port>`. */
  target: string;
}

/** Starts redis-server with extra arguments (e.g. `--requirepass x`) and waits until it accepts. */
export async function startRedis(...args: string[]): Promise<Redis> {
  const port = freePort();
  const peer = spawnPeer("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    ...args,
  ]);
  try {
    await waitForTcp(port, 10_000);
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return {
    port,
    target: `127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
  };
}
