// A plugin busy in a loop never reads its socket, so it cannot see its
// runner go: killed outright (SIGKILL, no unload handler), the runner would
// leave it running. On Linux its process is started through util-linux
// `setpriv --pdeathsig KILL`, which sets PR_SET_PDEATHSIG and execs deno (the
// process's pid and command line are deno's): the kernel kills it when the
// thread that started it ends. Only from the main thread, which lasts as long
// as the runner; a Worker's thread may end before the processes it starts.

const SETPRIV = { command: "setpriv", prefix: ["--pdeathsig", "KILL", "--"] };

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
  const knows = knowsPdeathsig();
  if (knows !== undefined) return knows ? SETPRIV : null;
  try {
    // Exits 0 only when this setpriv knows --pdeathsig (util-linux 2.33+).
    const { success } = new Deno.Command("setpriv", {
      args: ["--pdeathsig", "KILL", "--help"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success ? SETPRIV : null;
  } catch {
    // Not installed, or not on PATH.
    return null;
  }
}

/**
 * Whether the `setpriv` on PATH knows `--pdeathsig`, read from its file
 * (util-linux's option table and help name it; older ones have neither)
 * instead of by running it: a process started and waited for costs 1–2 ms,
 * 10–20 ms on a loaded machine, in front of every plugin process's start.
 * `false` when there is none on PATH; `undefined` when it cannot tell
 * (no access to PATH or to the file, or the file is not a program binary
 * but a script, a shim whose text says nothing of what it runs): the
 * caller then runs it.
 */
function knowsPdeathsig(): boolean | undefined {
  let path: string | undefined;
  try {
    path = Deno.env.get("PATH");
  } catch {
    return undefined;
  }
  for (const dir of (path ?? "").split(":")) {
    if (!dir.startsWith("/")) continue;
    let bytes: Uint8Array;
    try {
      const file = `${dir}/setpriv`;
      if (!Deno.statSync(file).isFile) continue;
      bytes = Deno.readFileSync(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      return undefined;
    }
    // A script may name --pdeathsig and not take it (every plugin process
    // then failed to start): only an ELF binary's text is util-linux's table.
    if (indexOf(bytes.subarray(0, 4), ELF) !== 0) return undefined;
    return indexOf(bytes, PDEATHSIG) !== -1;
  }
  return false;
}

const PDEATHSIG = new TextEncoder().encode("pdeathsig");
const ELF = new Uint8Array([0x7f, 0x45, 0x4c, 0x46]);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let at = haystack.indexOf(first); at !== -1; at = haystack.indexOf(first, at + 1)) {
    if (at + needle.length > haystack.length) return -1;
    let i = 1;
    while (i < needle.length && haystack[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
  }
  return -1;
}
