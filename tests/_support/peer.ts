// Starting real peer programs (socat, nc, python3, nginx…) for
// interoperability tests: bounded waits, and always killed and awaited.
import { bindUdp } from "../../lib/transport/unstable_udp.ts";

/** A running peer process. */
export interface Peer extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Everything the peer printed on stdout, once it has exited. */
  output(): Promise<string>;
}

const onPath = new Map<string, boolean>();

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  let found = onPath.get(name);
  if (found === undefined) {
    found = new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
    onPath.set(name, found);
  }
  return found;
}

/** Whether this run is CI (`CI=true`, as CI services set it): missing peers fail there. */
export const IN_CI: boolean = Deno.env.get("CI") === "true";

const reported = new Set<string>();

/**
 * The `ignore` option of a test that needs the programs `names` on PATH.
 *
 * Outside CI a missing program makes the test ignored (Deno counts it in its
 * summary) and is named once on stderr. Under CI (`CI=true`) a missing peer
 * must not turn into a green run: the test is not ignored (it fails when it
 * spawns the program) and a test named after the program fails with the reason.
 */
export function ignoreWithout(...names: string[]): boolean {
  const missing = names.filter((name) => !hasProgram(name));
  for (const name of missing) {
    if (reported.has(name)) continue;
    reported.add(name);
    if (IN_CI) {
      Deno.test(`peer program "${name}" is on PATH (CI=true)`, () => {
        throw new Error(
          `Cannot run the tests that need "${name}": it is not on PATH and CI=true requires every peer`,
        );
      });
    } else {
      console.error(`"${name}" is not on PATH: the tests that need it are ignored`);
    }
  }
  return missing.length > 0 && !IN_CI;
}

/** A free loopback port (bound and released). */
export function freePort(transport: "tcp" | "udp" = "tcp"): number {
  if (transport === "udp") {
    const s = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    const port = (s.addr as Deno.NetAddr).port;
    s.close();
    return port;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/**
 * How long the waits below allow by default: a bound, not a pace (they end
 * as soon as the peer is there), long enough for a loaded machine to start
 * a Python or nginx peer, which can take seconds there.
 */
const PEER_START_MS = 15_000;

/** Waits until something accepts TCP connections on `hostname:port` (bounded). */
export async function waitForTcp(
  port: number,
  timeoutMs = PEER_START_MS,
  hostname = "127.0.0.1",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname, port });
      c.close();
      return;
    } catch (error) {
      if (Date.now() > until) {
        throw new Error(`Cannot reach peer on ${hostname}:${port} within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await new Promise((ok) => setTimeout(ok, 25));
    }
  }
}

/** Spawns a peer; disposing it kills it (SIGTERM, then SIGKILL) and waits for its exit. */
export function spawnPeer(
  cmd: string,
  args: string[],
  options: { stdin?: "piped" | "null"; cwd?: string } = {},
): Peer {
  const process = new Deno.Command(cmd, {
    args,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    cwd: options.cwd,
  }).spawn();
  const done = process.output();
  let exited = false;
  done.finally(() => exited = true);
  return {
    process,
    output: async () => new TextDecoder().decode((await done).stdout),
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          process.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            process.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 2000);
        await done.catch(() => {});
        clearTimeout(timer);
      } else {
        await done.catch(() => {});
      }
    },
  };
}

/** Polls `check` every 10 ms until it holds (at most `timeoutMs`). */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = PEER_START_MS,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

/**
 * Waits for a TCP LISTEN socket on `port` by reading /proc/net/tcp, without
 * connecting: for peers that accept exactly one connection.
 */
export async function waitForListen(port: number, timeoutMs = PEER_START_MS): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  await waitFor(
    () => {
      const table = Deno.readTextFileSync("/proc/net/tcp");
      return table.split("\n").some((line) => {
        const cols = line.trim().split(/\s+/);
        return cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A";
      });
    },
    `a listener on 127.0.0.1:${port}`,
    timeoutMs,
  );
}

/**
 * Waits for a UDP socket bound to 127.0.0.1:`port` by reading /proc/net/udp,
 * without sending a probe datagram that a peer would count.
 */
export async function waitForUdp(port: number, timeoutMs = PEER_START_MS): Promise<void> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  await waitFor(
    () =>
      Deno.readTextFileSync("/proc/net/udp").split("\n").some((line) =>
        line.trim().split(/\s+/)[1] === local
      ),
    `a UDP socket on 127.0.0.1:${port}`,
    timeoutMs,
  );
}

/** A Python UDP echo on 127.0.0.1, answering every datagram to its sender. */
export interface UdpEchoPeer extends AsyncDisposable {
  port: number;
  /** `127.0.0.1:<port>`. */
  addr: string;
}

/** Starts a Python UDP echo and waits (bounded) until it answers. */
export async function pythonUdpEcho(): Promise<UdpEchoPeer> {
  const port = freePort("udp");
  const peer = spawnPeer("python3", [
    "-c",
    `import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",${port}))
while True:
  d,a=s.recvfrom(65535); s.sendto(d,a)`,
  ]);
  // Ready once it answers.
  using probe = bindUdp();
  for (let i = 0; i < 100; i++) {
    await probe.send(new Uint8Array([1]), { hostname: "127.0.0.1", port });
    try {
      await probe.receive({ timeout: 100 });
      break;
    } catch { /* not yet */ }
  }
  return {
    port,
    addr: `127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
  };
}
