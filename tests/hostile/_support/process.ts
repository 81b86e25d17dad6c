// Child processes for the hostile suite: misbehaving Python peers, the
// wiretest CLI serving a plugin, and a wiretest client role run in a process
// of its own so its time and peak memory are its alone (test files run in
// parallel inside one Deno process, so the test process's own RSS and file
// descriptors say nothing about one case).

import { within } from "../../_support/command.ts";

const REPO = new URL("../../../", import.meta.url).pathname;
const PEER_SCRIPT = new URL("./hostile_peer.py", import.meta.url).pathname;
const CHILD_SCRIPT = new URL("./client_child.ts", import.meta.url).pathname;
const CLI = new URL("../../../lib/cli/main.ts", import.meta.url).pathname;

/** A spawned process whose stdout is read line by line. */
export interface LineProcess extends AsyncDisposable {
  readonly pid: number;
  /** The next stdout line; rejects when none comes within `timeoutMs` or the process ended. */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Sends a signal (ignored when the process is gone). */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit status once the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Everything written on stderr so far. */
  stderr(): string;
}

/** Spawns `cmd` with stdout read line by line; disposing kills it and waits for it. */
export function spawnLines(cmd: string, args: string[], env?: Record<string, string>): LineProcess {
  const child = new Deno.Command(cmd, {
    args,
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  let errText = "";
  const wake = () => waiters.splice(0).forEach((w) => w());
  const pump = (async () => {
    let partial = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      partial += text;
      let eol: number;
      while ((eol = partial.indexOf("\n")) >= 0) {
        lines.push(partial.slice(0, eol));
        partial = partial.slice(eol + 1);
      }
      wake();
    }
    if (partial) lines.push(partial);
    ended = true;
    wake();
  })();
  const pumpErr = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) errText += text;
  })();
  const status = child.status;
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  return {
    pid: child.pid,
    status,
    stderr: () => errText,
    kill,
    async nextLine(timeoutMs = 10_000): Promise<string> {
      const until = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (ended) throw new Error(`Process ${cmd} ended without more output; stderr: ${errText}`);
        const left = until - Date.now();
        if (left <= 0) throw new Error(`No output from ${cmd} within ${timeoutMs} ms`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      return lines.shift()!;
    },
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await status;
      await pump;
      await pumpErr;
    },
  };
}

/** A misbehaving peer from hostile_peer.py. */
export interface HostilePeer extends LineProcess {
  /** The ports it bound (the first is the one to talk to). */
  readonly ports: number[];
  readonly port: number;
}

/**
 * Starts hostile_peer.py in `mode` and waits for its "READY <port>…" line.
 *
 * @param mode One of the modes hostile_peer.py lists.
 * @param options Passed to the mode as JSON.
 */
export async function startHostile(
  mode: string,
  options: Record<string, unknown> = {},
): Promise<HostilePeer> {
  const proc = spawnLines("python3", ["-u", PEER_SCRIPT, mode, JSON.stringify(options)]);
  let line: string;
  try {
    line = await proc.nextLine(10_000);
  } catch (error) {
    await proc[Symbol.asyncDispose]();
    throw error;
  }
  const ports = line.replace(/^READY /, "").split(" ").map(Number);
  return Object.assign(proc, { ports, port: ports[0] });
}

/** What {@linkcode runClientProcess} measured. */
export interface ChildResult {
  outcome: {
    ok: boolean;
    metrics: Record<string, number>;
    facts: Record<string, unknown>;
    error?: { name: string; message: string; code?: string };
  };
  /** Milliseconds the client role ran (process start-up excluded). */
  ms: number;
  /** Resident memory just before the run, in KiB. */
  rssKb: number;
  /** Peak resident memory during the run (high-water mark reset before it), in KiB. */
  hwmKb: number;
  /** `hwmKb - rssKb`: what the run added at its peak, in KiB. */
  growthKb: number;
}

/**
 * Runs a built-in plugin's client role in a separate Deno process and
 * returns its outcome, run time and peak memory. The process is killed if it
 * outlives `hardLimitMs` (a hang), which fails the call.
 */
export async function runClientProcess(
  plugin: string,
  params: Record<string, unknown>,
  hardLimitMs = 30_000,
): Promise<ChildResult> {
  return (await runClientProcesses(plugin, [params], hardLimitMs))[0];
}

/**
 * Like {@linkcode runClientProcess} for several runs, one after another in
 * one process (a process start costs more than most of these runs); the peak
 * memory of each is its own. `hardLimitMs` bounds each run.
 */
export async function runClientProcesses(
  plugin: string,
  params: Record<string, unknown>[],
  hardLimitMs = 30_000,
): Promise<ChildResult[]> {
  await using proc = spawnLines(Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    CHILD_SCRIPT,
    plugin,
    JSON.stringify(params),
  ]);
  const results: ChildResult[] = [];
  for (let i = 0; i < params.length; i++) {
    results.push(JSON.parse(await proc.nextLine(hardLimitMs)) as ChildResult);
  }
  return results;
}

/** A wiretest server role running in its own process (`wiretest serve … --json`). */
export interface ServerProcess extends LineProcess {
  readonly port: number;
  readonly address: string;
  /** Open file descriptors of the server process. */
  fds(): number;
  /** `VmRSS` and `VmHWM` of the server process, in KiB. */
  memory(): { rssKb: number; hwmKb: number };
  /** Stops it with SIGTERM and returns its final stats. */
  stop(): Promise<Record<string, number>>;
}

/**
 * Starts `wiretest serve <plugin> --json <flags…>` and waits until it
 * listens. With `nofile`, the process may open at most that many files
 * (`prlimit`, which runs the command in its own process); `v8Flags` go to
 * its V8 (`--v8-flags`).
 */
export async function serveProcess(
  plugin: string,
  flags: string[],
  options: { nofile?: number; v8Flags?: string[] } = {},
): Promise<ServerProcess> {
  const command = [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    ...(options.v8Flags ? [`--v8-flags=${options.v8Flags.join(",")}`] : []),
    CLI,
    "serve",
    plugin,
    "--json",
    ...flags,
  ];
  const proc = options.nofile === undefined
    ? spawnLines(command[0], command.slice(1))
    : spawnLines("prlimit", [`--nofile=${options.nofile}:${options.nofile}`, ...command]);
  let listening: { address: string };
  try {
    listening = JSON.parse(await proc.nextLine(15_000));
  } catch (error) {
    await proc[Symbol.asyncDispose]();
    throw error;
  }
  const port = Number(listening.address.split(":").at(-1));
  return Object.assign(proc, {
    port,
    address: listening.address,
    fds: () => fdCount(proc.pid),
    memory: () => memoryOf(proc.pid),
    async stop(): Promise<Record<string, number>> {
      proc.kill("SIGTERM");
      const closed = JSON.parse(await proc.nextLine(15_000));
      await within(proc.status, 15_000, `the ${plugin} server to exit after its last line`);
      return closed.stats;
    },
  });
}

/** Entries of /proc/<pid>/fd. */
export function fdCount(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** `VmRSS` and `VmHWM` of a process, in KiB. */
export function memoryOf(pid: number | "self"): { rssKb: number; hwmKb: number } {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(`Cannot read memory of process ${pid}: it has exited`, { cause: error });
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)![1]);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

/** Polls `check` every 20 ms until it holds; returns false after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * Appends one measured case to the file named by WIRETEST_HOSTILE_REPORT (a
 * JSON line), so a run can tabulate time to fail and peak memory per case.
 */
export function record(name: string, data: Record<string, unknown>): void {
  const file = Deno.env.get("WIRETEST_HOSTILE_REPORT");
  if (!file) return;
  Deno.writeTextFileSync(file, JSON.stringify({ case: name, ...data }) + "\n", { append: true });
}
