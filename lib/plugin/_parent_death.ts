// A plugin busy in a loop never reads its socket, so it cannot see its
// runner go: killed outright (SIGKILL, no unload handler), the runner would
// leave it running. On Linux its process is started through util-linux
// `setpriv --pdeathsig KILL`, which sets PR_SET_PDEATHSIG and execs deno (the
// process's pid and command line are deno's): the kernel kills it when the
// thread that started it ends. Only from the main thread, which lasts as long
// as the runner; a Worker's thread may end before the processes it starts.

/** How to start a plugin's process so it dies with this one, decided once. */
let launcher: { command: string; prefix: string[] } | null | undefined;

/**
 * The command and leading arguments that start a program so that it is
 * killed when this process ends, or `undefined` when that is not available
 * here (not Linux, a Worker's thread, no `setpriv` with `--pdeathsig`, or
 * this process may not run it): the program is then started directly.
 */
export function parentDeathLauncher(): { command: string; prefix: string[] } | undefined {
  if (launcher === undefined) launcher = probe();
  return launcher ?? undefined;
}

function probe(): { command: string; prefix: string[] } | null {
  if (Deno.build.os !== "linux" || "WorkerGlobalScope" in globalThis) return null;
  if (Deno.permissions.querySync({ name: "run", command: "setpriv" }).state !== "granted") {
    return null;
  }
  try {
    // Exits 0 only when this setpriv knows --pdeathsig (util-linux 2.33+).
    const { success } = new Deno.Command("setpriv", {
      args: ["--pdeathsig", "KILL", "--help"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success ? { command: "setpriv", prefix: ["--pdeathsig", "KILL", "--"] } : null;
  } catch {
    // Not installed, or not on PATH.
    return null;
  }
}
