// Child processes for benchmarks: servers that run until stopped (ready when
// they print a line or open a port), clients that run to completion and
// print JSON, and the peak RSS of a process from /proc. Every process a row
// starts belongs to a ProcessGroup that kills it when the row ends.

const decoder = new TextDecoder();
// Enough of a failing peer's output to say why, not the whole of a chatty one.
const KEEP_CHARS = 64 * 1024;

/** How a process ended. */
export interface Exit {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode ProcessGroup.spawn} and {@linkcode ProcessGroup.run}. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** A started process whose output is collected as it comes. */
export class Proc {
  readonly pid: number;
  readonly name: string;
  readonly exited: Promise<Exit>;
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #waiters = new Set<() => void>();
  #done = false;

  constructor(name: string, child: Deno.ChildProcess) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid;
    const pumps = Promise.all([
      this.#pump(child.stdout, (t) => this.#stdout = keepTail(this.#stdout + t)),
      this.#pump(child.stderr, (t) => this.#stderr = keepTail(this.#stderr + t)),
    ]);
    this.exited = (async () => {
      const status = await child.status;
      await pumps;
      this.#done = true;
      this.#wake();
      return {
        code: status.code,
        signal: status.signal,
        stdout: this.#stdout,
        stderr: this.#stderr,
      };
    })();
  }

  /** What it printed on stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** What it printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Whether it has exited. */
  get done(): boolean {
    return this.#done;
  }

  /** Waits until stdout or stderr matches `pattern` (bounded), and returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const until = performance.now() + timeoutMs;
    while (true) {
      const match = this.#stdout.match(pattern) ?? this.#stderr.match(pattern);
      if (match) return match;
      if (this.#done) {
        throw new Error(
          `Cannot start ${this.name}: it exited before printing ${pattern}\n${this.#tail()}`,
        );
      }
      const left = until - performance.now();
      if (left <= 0) {
        throw new Error(`Cannot start ${this.name}: no ${pattern} within ${timeoutMs} ms`);
      }
      await this.#nextOutput(left);
    }
  }

  /**
   * Stops it: `signal` (SIGTERM by default), then SIGKILL after `graceMs`.
   * Resolves with how it ended.
   */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 5000): Promise<Exit> {
    if (!this.#done) {
      try {
        this.#child.kill(signal);
      } catch {
        // It exited meanwhile.
      }
      const timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // It exited meanwhile.
        }
      }, graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return await this.exited;
  }

  /** The last lines of its output, for an error message. */
  #tail(): string {
    const text = `${this.#stderr}\n${this.#stdout}`.trim();
    return text.split("\n").slice(-15).join("\n");
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      this.#wake();
    }
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  #nextOutput(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.add(done);
    });
  }
}

/** The processes of one row; {@linkcode ProcessGroup.stopAll} ends what is left. */
export class ProcessGroup {
  #procs = new Set<Proc>();

  /** Starts `cmd` with piped output. */
  spawn(cmd: string, args: string[], options: SpawnOptions = {}): Proc {
    const child = new Deno.Command(cmd, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proc = new Proc(`${cmd.split("/").pop()} ${args.slice(0, 3).join(" ")}`, child);
    this.#procs.add(proc);
    proc.exited.finally(() => this.#procs.delete(proc));
    return proc;
  }

  /**
   * Runs `cmd` to completion (killed after `timeoutMs`) and returns its
   * output. A non-zero exit is an error carrying the end of its output.
   */
  async run(
    cmd: string,
    args: string[],
    options: SpawnOptions & { timeoutMs?: number } = {},
  ): Promise<Exit> {
    const proc = this.spawn(cmd, args, options);
    const timeoutMs = options.timeoutMs ?? 300_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.stop("SIGKILL");
    }, timeoutMs);
    const exit = await proc.exited.finally(() => clearTimeout(timer));
    if (timedOut) throw new Error(`Cannot run ${proc.name}: still running after ${timeoutMs} ms`);
    if (exit.code !== 0) {
      const tail = `${exit.stderr}\n${exit.stdout}`.trim().split("\n").slice(-15).join("\n");
      throw new Error(`Cannot run ${proc.name}: exit code ${exit.code}\n${tail}`);
    }
    return exit;
  }

  /** Stops every process still running (SIGTERM, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#procs].map((p) => p.stop("SIGTERM", 3000)));
  }
}

/**
 * The peak resident set size of a running process, in MiB, from `VmHWM` in
 * /proc/<pid>/status; undefined once it is gone.
 */
export function peakRssMiB(pid: number | "self"): number | undefined {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const kib = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
  return kib ? Number(kib[1]) / 1024 : undefined;
}

/** The last JSON object line a process printed (peers report results that way). */
export function lastJson(text: string): Record<string, unknown> {
  const lines = text.trim().split("\n").reverse();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      return JSON.parse(trimmed);
    } catch {
      // Not a JSON line: keep looking.
    }
  }
  throw new SyntaxError(`Cannot parse a JSON result: none in "${text.slice(-300)}"`);
}

/** The whole of a process's stdout as one JSON document. */
export function wholeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse a JSON result: "${text.slice(-300)}"`, { cause: error });
  }
}

function keepTail(text: string): string {
  return text.length > KEEP_CHARS * 2 ? text.slice(-KEEP_CHARS) : text;
}
