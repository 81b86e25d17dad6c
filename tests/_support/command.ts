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
 * Runs `command` to completion like `Deno.Command#output()`, but kills it
 * (SIGKILL) and throws when it is still running after `timeoutMs`.
 */
export async function outputWithin(
  command: string,
  options: Omit<Deno.CommandOptions, "stdout" | "stderr" | "signal"> = {},
  timeoutMs: number = CHILD_LIMIT_MS,
): Promise<TextOutput> {
  const child = new Deno.Command(command, {
    stdin: "null",
    ...options,
    stdout: "piped",
    stderr: "piped",
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
    const dec = new TextDecoder();
    const stdout = dec.decode(out.stdout);
    const stderr = dec.decode(out.stderr);
    if (killed) {
      const shown = [command, ...(options.args ?? [])].join(" ");
      throw new Error(
        `Cannot finish "${shown}": still running after ${timeoutMs} ms, killed\n${stdout}${stderr}`,
      );
    }
    return { code: out.code, success: out.success, stdout, stderr };
  } finally {
    clearTimeout(timer);
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
