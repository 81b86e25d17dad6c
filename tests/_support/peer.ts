// Starting real peer programs (socat, nc, python3, nginx…) for
// interoperability tests: bounded waits, and always killed and awaited.

/** A running peer process. */
export interface Peer extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Everything the peer printed on stdout, once it has exited. */
  output(): Promise<string>;
}

/** Whether a program is on PATH (tests that need it skip with a reason otherwise). */
export function hasProgram(name: string): boolean {
  const r = new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .outputSync();
  return r.success;
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

/** Waits until something accepts TCP connections on `port` (bounded). */
export async function waitForTcp(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch (error) {
      if (Date.now() > until) {
        throw new Error(`Cannot reach peer on 127.0.0.1:${port} within ${timeoutMs} ms`, {
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
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
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
export async function waitForListen(port: number, timeoutMs = 5000): Promise<void> {
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
