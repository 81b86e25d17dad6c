// Bounded child processes and waits for tests: a regression that makes a
// child or a read hang fails its test with a reason instead of hanging CI.

/** Default bound of a child process run by a test. */
export const CHILD_LIMIT_MS = 60_000;

/** What {@linkcode outputWithin} returns: the child's output, decoded. */
export interface TextOutput {
  code: number;
  success: boolean;
  stdout: string;
  stderr: string;
}

/**
 * `new Deno.Command(command, options).output()` with a bound: the child is
 * killed (SIGKILL) and the call throws when it still runs after `timeoutMs`.
 * stdout and stderr are piped unless `options` says otherwise; stdin is null.
 */
export async function commandOutput(
  command: string,
  options: Omit<Deno.CommandOptions, "signal"> = {},
  timeoutMs: number = CHILD_LIMIT_MS,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(command, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    if (killed) {
      const shown = [command, ...(options.args ?? [])].join(" ");
      const dec = new TextDecoder();
      const printed = (options.stdout ?? "piped") === "piped" ? dec.decode(out.stdout) : "";
      const errors = (options.stderr ?? "piped") === "piped" ? dec.decode(out.stderr) : "";
      throw new Error(
        `Cannot finish "${shown}": still running after ${timeoutMs} ms, killed\n${printed}${errors}`,
      );
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** {@linkcode commandOutput} with stdout and stderr piped and decoded. */
export async function outputWithin(
  command: string,
  options: Omit<Deno.CommandOptions, "stdout" | "stderr" | "signal"> = {},
  timeoutMs: number = CHILD_LIMIT_MS,
): Promise<TextOutput> {
  const out = await commandOutput(command, options, timeoutMs);
  const dec = new TextDecoder();
  return {
    code: out.code,
    success: out.success,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * A spawned child's exit status, or, when it has not exited after
 * `timeoutMs`, kills it (SIGKILL) and throws naming `what`.
 */
export async function statusWithin(
  child: Deno.ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<Deno.CommandStatus> {
  try {
    return await within(child.status, timeoutMs, what);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    throw error;
  }
}

/**
 * Resolves as `promise` does, or rejects when it has not settled after
 * `timeoutMs` (naming `what`). The promise itself is not cancelled: the caller
 * closes what it waits on (in a `finally`) so nothing leaks.
 */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  // A rejection after the race is lost (the caller closed the resource) is expected.
  promise.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kills `child` (SIGKILL) if it still runs after `timeoutMs`, which ends its
 * pipes, so reads of its output and waits on its status finish and the test
 * fails instead of hanging. Dispose it (`using`) to cancel the timer.
 */
export function killAfter(child: Deno.ChildProcess, timeoutMs: number): Disposable {
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  return { [Symbol.dispose]: () => clearTimeout(timer) };
}
