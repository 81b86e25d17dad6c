// Deno and the wiretest CLI as subprocesses, the way users run them, each
// with a time bound so a regression fails the test instead of hanging it.
import { fileURLToPath } from "node:url";

/** The checkout's root folder (no trailing slash). */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** The CLI's entry point. */
export const MAIN: string = `${ROOT}/lib/cli/main.ts`;

/** What a finished process printed and how it ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Killed (and reported as such) after this long; default 120 s. */
  timeoutMs?: number;
}

/** Runs a program to its end, bounded in time. */
export async function run(cmd: string, args: string[], options: RunOptions = {}): Promise<Ran> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    // INIT_CWD as a shell gives it: `deno task` keeps an inherited one, and
    // this test process may itself run under `deno task test`.
    env: { NO_COLOR: "1", INIT_CWD: options.cwd ?? Deno.cwd(), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder();
  const stderr = text.decode(out.stderr);
  if (out.signal !== null) {
    throw new Error(`${cmd} ${args.join(" ")} did not end within ${timeoutMs} ms:\n${stderr}`);
  }
  return { code: out.code, stdout: text.decode(out.stdout), stderr };
}

/** Runs `deno <args>`, bounded in time. */
export function deno(args: string[], options: RunOptions = {}): Promise<Ran> {
  return run(Deno.execPath(), args, options);
}

/** The lines of `stderr` that are not `deno task`'s own "Task …" line. */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line !== "" && !line.startsWith("Task "));
}

/** A `wiretest serve` process that printed where it listens. */
export interface Served extends AsyncDisposable {
  address: string;
}

/** Starts `wiretest serve <args> --json` and waits (bounded) for its "listening" line. */
export async function serve(args: string[], timeoutMs = 30_000): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", ...args, "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already ended
    }
    await Promise.all([lines.cancel(), child.stderr.cancel()]);
    await child.status;
    clearTimeout(killer);
  };
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    buffered += value;
  }
  if (!buffered.includes("\n")) {
    await stop();
    throw new Error(`wiretest serve ${args.join(" ")} ended before it listened`);
  }
  const listening = JSON.parse(buffered.split("\n")[0]);
  return { address: listening.address, [Symbol.asyncDispose]: stop };
}
