// The host's side of an isolated plugin: one Deno process per handle,
// started from this thread with exactly the manifest entry's grants as
// flags, heard on its stdout/stderr and watched for memory here, spoken to
// from here (_isolation_channel.ts), with a bridge Worker for `stats()`
// alone (_isolation_bridge.ts); and a pool that keeps started processes
// warm between roles.
import type { ManifestEntry } from "./manifest.ts";
import { PluginLoadError } from "./_plugin_load_error.ts";
import type { LogLevel, Progress } from "./types.ts";
import { denialDetail } from "./_isolation_denial.ts";
import type { BridgeConfig, BridgeReply } from "./_isolation_bridge.ts";
import { loadedFrames, loadFrames, PluginChannel } from "./_isolation_channel.ts";
import { type ImportRefusal, preflight, type PreflightOptions } from "./_isolation_preflight.ts";
import { ProcessOutput, ResidentMemory } from "./_isolation_output.ts";
import { PluginMemoryError } from "./_plugin_memory_error.ts";
import {
  checked,
  keyOf,
  type Launch,
  prepareProcess,
  type ProcessOptions,
  removeFolder,
  spawnProcess,
  type Started,
} from "./_isolation_launch.ts";
import { PluginPermissionError } from "./_plugin_permission_error.ts";
import {
  type Denial,
  type ErrorBuilder,
  type ErrorData,
  type LoadEvent,
  type MemoryExceeded,
  Outbox,
  rebuildError,
  type Reply,
  type Request,
  STATS_BYTES,
  STATS_HEADER,
  StatsStatus,
} from "./_isolation_protocol.ts";

const BRIDGE_URL = new URL("./_isolation_bridge.ts", import.meta.url).href;
/** Bytes of a plugin process's stdout and stderr shown as its log; the rest is dropped. */
export const OUTPUT_BYTES = 1024 * 1024;
// Lines of output kept while no role of the plugin is running to show them.
const HELD_LINES = 200;
// How often a plugin process's resident memory is read.
const WATCH_MS = 100;

export {
  BUILTIN_MANIFEST,
  DEFAULT_MEMORY_MIB,
  type FfiGrant,
  ffiGrant,
  pendingFolders,
  processArgs,
  type ProcessOptions,
} from "./_isolation_launch.ts";
/** Where a role's log lines and progress go. */
export interface Sinks {
  log?: (level: LogLevel, message: string) => void;
  progress?: (update: Progress) => void;
  /** A load run's events (progress each second, interval histograms). */
  load?: (event: LoadEvent) => void;
}

/** A finished request. */
export type Done = Extract<Reply, { type: "done" }>;

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The first line of a Worker error event's message, without colours or "Uncaught". */
function eventText(event: ErrorEvent): string {
  const text = String(event.message ?? "").replace(ANSI, "").split("\n")[0];
  return text.replace(/^Uncaught (?:\(in promise\) )?/, "").trim() || "unknown error";
}

/** The first line of Deno's own error output (`error: …`), if any. */
function stderrError(stderr: string): string | undefined {
  const line = stderr.replace(ANSI, "").split("\n").find((l) => /^error: /.test(l));
  return line?.slice("error: ".length).trim();
}

/** The refusal of an import as an error on loading the plugin. */
function refusalError(entry: ManifestEntry, refusal: ImportRefusal): PluginLoadError {
  const why = refusal.never
    ? `it is ${refusal.never}, which no grant allows`
    : `${refusal.permission} access to "${refusal.target}" is not granted by its manifest entry`;
  const cause = new PluginPermissionError({
    plugin: entry.name,
    permission: refusal.permission,
    target: refusal.target,
    operation: "import",
    granted: entry.permissions,
  });
  return new PluginLoadError(
    entry,
    `it imports "${refusal.specifier}" at ${refusal.at}, which it may not: ${why} (${
      denialDetail(entry.permissions, { permission: refusal.permission, target: refusal.target })
        .replace(/^.*\((.*)\)$/, "$1")
    })`,
    { cause },
  );
}

const buildLoadError: ErrorBuilder = (data, cause) =>
  data.name === "PluginLoadError" && typeof data.plugin === "string" &&
    typeof data.module === "string"
    ? new PluginLoadError({ name: data.plugin, module: data.module }, "", { cause })
    : undefined;

/** An error from a process, rebuilt as its type: the protocol's, and `PluginLoadError`. */
export function rebuild(data: ErrorData): Error {
  return rebuildError(data, buildLoadError);
}

/** The error for a plugin whose module could not be imported or checked. */
export function loadError(entry: ManifestEntry, error: ErrorData, denial?: Denial): Error {
  const cause = rebuild(error);
  if (error.name === "PluginLoadError") return cause;
  const detail = denial
    ? denialDetail(entry.permissions, denial)
    : error.name === "Error"
    ? error.message
    : `${error.name}: ${error.message}`;
  return new PluginLoadError(entry, `module failed to import: ${detail}`, { cause });
}

/** The host's own events about a plugin's process (the plugin's replies come by the channel). */
type HostEvent =
  | Extract<Reply, { type: "output" | "exited" }>
  | { type: "refused"; refusal: ImportRefusal }
  | { type: "checked" }
  // The process broke the protocol: bytes that are not a message (a frame
  // too large, text that is not JSON), or a message its sink refused.
  | { type: "broken"; message: string };

/** One plugin's process (its channel and bridge Worker) and the requests in flight to it. */
export class WorkerHandle {
  readonly entry: ManifestEntry;
  readonly ready: Promise<void>;
  /**
   * Resolves once the process has exited and its output is read (or when
   * it never started): after `terminate()`, nothing of it is left running.
   */
  readonly closed: Promise<void>;
  #exited!: () => void;
  #channel: PluginChannel;
  #worker: Worker | undefined;
  #bridgeConfig!: BridgeConfig;
  /** Set once a service is asked for: the stats bridge starts then (or when the process does). */
  #bridge: BridgeConfig | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #overCeiling: () => boolean = () => false;
  #statsBuffer = new SharedArrayBuffer(STATS_HEADER + STATS_BYTES);
  #dir: string;
  #pid: number | undefined;
  #nextId = 1;
  #calls = new Map<number, { resolve: (done: Done) => void; reject: (e: Error) => void }>();
  #sinks = new Map<number, Sinks>();
  #held: { level: LogLevel; message: string }[] = [];
  #failure: Error | undefined;
  #started = false;
  #stats: { header: Int32Array; body: Uint8Array; seq: number } | undefined;
  #settle!: { resolve: () => void; reject: (e: Error) => void };
  #outbox = new Outbox<Request>((message) => {
    // Encoding throws for what cannot be cloned: the Outbox sends that one alone.
    if (!this.#failure) this.#channel.send(loadedFrames()!.encodeFrame(message));
  });
  /** Messages waiting for the frames' module (loaded once the process is started), in order. */
  #waiting = 0;

  /**
   * Starts the plugin's process.
   *
   * @throws {PluginLoadError} When the entry grants more than this process has.
   */
  constructor(entry: ManifestEntry, options: ProcessOptions = {}, started?: Started) {
    this.entry = entry;
    // Checked, and its folder, main module and socket made, before anything starts.
    const prepared = started?.prepared ?? prepareProcess(entry, options);
    this.ready = new Promise<void>((resolve, reject) => this.#settle = { resolve, reject });
    this.closed = new Promise<void>((resolve) => this.#exited = resolve);
    // Rejections are read by whoever awaits `ready`; none may go unhandled meanwhile.
    this.ready.catch(() => {});
    this.#dir = prepared.dir;
    const { launch, token } = prepared;
    this.#bridgeConfig = { socket: prepared.statsSocket, token, stats: this.#statsBuffer };
    this.#channel = new PluginChannel(
      prepared.listener,
      token,
      (reply) => this.#receive(reply),
      (message) => this.#receive({ type: "broken", message }),
    );
    if (started?.child) {
      this.#watch(started.child, launch);
    } else if (started?.error !== undefined) {
      this.#receive({ type: "failed", message: started.error });
      this.#exited();
    } else if (launch.preflight) {
      void this.#checkThenSpawn(launch, launch.preflight);
    } else {
      this.#spawn(launch);
    }
    const init = { type: "init", entry } satisfies Request;
    this.#whenFramesLoaded(() => this.#channel.send(loadedFrames()!.encodeFrame(init)));
  }

  /**
   * Runs `send` now if the frames' module is loaded and nothing waits for
   * it, else after what waits: messages keep their order either way.
   */
  #whenFramesLoaded(send: () => void): void {
    if (this.#waiting === 0 && loadedFrames() !== undefined) return send();
    this.#waiting++;
    loadFrames().then(() => {
      this.#waiting--;
      send();
    }, (error: unknown) => {
      this.#waiting--;
      this.#receive({
        type: "failed",
        message: `Cannot load the frames' module: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    });
  }

  async #checkThenSpawn(launch: Launch, options: PreflightOptions): Promise<void> {
    let refusal: ImportRefusal | undefined;
    try {
      refusal = await preflight(this.entry, options);
    } catch (error) {
      this.#receive({
        type: "failed",
        message: error instanceof Error ? error.message : String(error),
      });
      return this.#exited();
    }
    if (refusal) {
      this.#receive({ type: "refused", refusal });
      return this.#exited();
    }
    this.#receive({ type: "checked" });
    if (this.#failure) return this.#exited();
    this.#spawn(launch);
  }

  /**
   * Starts the process from this thread, at once (a Worker's start-up is
   * not on its way), then the stats bridge while the process starts. On
   * Linux it is killed when this process ends (_parent_death.ts).
   */
  #spawn(launch: Launch): void {
    let child: Deno.ChildProcess;
    try {
      child = spawnProcess(launch);
    } catch (error) {
      this.#receive({
        type: "failed",
        message: error instanceof Error ? error.message : String(error),
      });
      return this.#exited();
    }
    this.#watch(child, launch);
  }

  /** Hears, watches and waits for a started process. */
  #watch(child: Deno.ChildProcess, launch: Launch): void {
    this.#pid = child.pid;
    // Now, while the process starts: the first message waits for it.
    void loadFrames().catch(() => {});
    const output = new ProcessOutput(
      OUTPUT_BYTES,
      (stream, line) => this.#receive({ type: "output", stream, line }),
    );
    const reading = [
      output.capture(child.stdout, "stdout"),
      output.capture(child.stderr, "stderr"),
    ];
    const { memoryMiB } = launch;
    let memory: MemoryExceeded | undefined;
    const over = (rssMiB: number | undefined) => {
      if (rssMiB === undefined || rssMiB <= memoryMiB || memory) return memory !== undefined;
      memory = { limitMiB: memoryMiB, kind: "rss", rssMiB };
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      return true;
    };
    const resident = new ResidentMemory(child.pid);
    this.#watchdog = setInterval(() => over(resident.read("VmRSS")), WATCH_MS);
    // A role that ends between two looks may have gone over and back: its
    // result counts only if the process's peak stayed under the ceiling.
    this.#overCeiling = () => over(resident.read("VmHWM"));
    void child.status.then(async (status) => {
      clearInterval(this.#watchdog);
      resident.close();
      await Promise.allSettled(reading);
      const tail = output.tail;
      // V8 prints its last GCs, then "Fatal JavaScript out of memory: Reached
      // heap limit", and traps; the process often dies before the second line is out.
      if (
        !memory &&
        /heap out of memory|Allocation failed|Reached heap limit|<--- Last few GCs --->/i.test(tail)
      ) {
        memory = { limitMiB: launch.heapMiB, kind: "heap" };
      }
      this.#receive({
        type: "exited",
        code: status.code,
        signal: status.signal,
        stderr: tail,
        ...(memory ? { memory } : {}),
      });
      this.#exited();
    });
    if (this.#failure) return this.#kill();
    if (this.#bridge) this.#startBridge();
  }

  /**
   * The stats bridge: a Worker, started for the first service (its process
   * connects to it then), so a client role never pays for a Worker.
   */
  #startBridge(): void {
    const entry = this.entry;
    const config = this.#bridge!;
    const worker = new Worker(BRIDGE_URL, {
      type: "module",
      name: `wiretest plugin ${entry.name}`,
    });
    this.#worker = worker;
    worker.addEventListener("message", (event) => this.#receive(event.data as BridgeReply));
    worker.addEventListener("error", (event) => {
      // Handled here: unhandled, a Worker's error would end this process.
      event.preventDefault();
      this.terminate(
        new Error(`Cannot run plugin "${entry.name}": its bridge failed: ${eventText(event)}`),
      );
    });
    worker.addEventListener("messageerror", () => {
      this.terminate(
        new Error(`Cannot run plugin "${entry.name}": a message from its bridge could not be read`),
      );
    });
    worker.postMessage({ type: "bridge", config });
  }

  #kill(): void {
    if (this.#pid === undefined) return;
    try {
      Deno.kill(this.#pid, "SIGKILL");
    } catch {
      // It ended already.
    }
  }

  /** Resolves with the reason once the process is ended (killed, crashed, or by `terminate`). */
  #ended!: (reason: Error) => void;
  // Jobs that are running services (kept by keepSinks): they have no outcome to carry an error.
  #services = new Set<number>();
  readonly ended: Promise<Error> = new Promise((resolve) => this.#ended = resolve);

  /** `false` once the process is terminated or failed. */
  get alive(): boolean {
    return this.#failure === undefined;
  }

  /** Sends a request; resolves when the process answers, rejects if it dies first. */
  call(request: DistributiveOmit<Request & { id: number }, "id">, sinks?: Sinks): {
    id: number;
    done: Promise<Done>;
  } {
    const id = this.#nextId++;
    if (request.type === "serve" && !this.#bridge && !this.#failure) {
      this.#bridge = this.#bridgeConfig;
      if (this.#pid !== undefined) this.#startBridge();
    }
    const done = new Promise<Done>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#calls.set(id, { resolve, reject });
      if (sinks) this.#sinks.set(id, sinks);
      if (sinks?.log) {
        for (const { level, message } of this.#held.splice(0)) sinks.log(level, message);
      }
      this.#whenFramesLoaded(() =>
        this.#outbox.add({ ...request, id } as Request, (error) => {
          // Its input cannot be cloned (a function, a socket): this call fails alone.
          this.#calls.delete(id);
          this.#sinks.delete(id);
          reject(error as Error);
        })
      );
    });
    return { id, done };
  }

  /** Sends a message that needs no answer (an abort). */
  send(request: Extract<Request, { type: "abort" }>): void {
    // Plain data (the reason is serialized): cloning it cannot fail.
    if (!this.#failure) this.#whenFramesLoaded(() => this.#outbox.add(request, () => {}));
  }

  /** Keeps routing a job's log and progress after its request is answered (a service). */
  keepSinks(job: number, sinks: Sinks): void {
    this.#sinks.set(job, sinks);
    this.#services.add(job);
  }

  /** Stops routing a job's log and progress. */
  dropSinks(job: number): void {
    this.#sinks.delete(job);
    this.#services.delete(job);
  }

  /**
   * A service's `stats()`, read synchronously: the process writes them into a
   * shared buffer while this thread waits, up to `waitMs`.
   *
   * @returns The stats, or `undefined` when the process did not answer in time.
   * @throws {RangeError} When the stats are too large to pass.
   * @throws {Error} When the service's `stats()` threw.
   */
  stats(service: number, waitMs: number): Record<string, number> | undefined {
    const view = this.#stats;
    if (!view || this.#failure) return undefined;
    const seq = ++view.seq;
    // This thread blocks until the answer: what is queued must go first.
    this.#outbox.flush();
    if (!this.#worker) return undefined;
    this.#worker.postMessage({ type: "stats", service, seq } satisfies Request);
    const until = performance.now() + waitMs;
    for (;;) {
      const seen = Atomics.load(view.header, 0);
      if (seen === seq) break;
      const left = until - performance.now();
      if (left <= 0) return undefined;
      Atomics.wait(view.header, 0, seen, left);
    }
    const length = Atomics.load(view.header, 1);
    const status = Atomics.load(view.header, 2);
    const text = new TextDecoder().decode(view.body.slice(0, length));
    if (status === StatsStatus.TooLarge) {
      throw new RangeError(
        `Cannot read the stats of plugin "${this.entry.name}": they are too large to pass from its process`,
      );
    }
    if (status === StatsStatus.Threw) {
      throw new Error(`Cannot read the stats of plugin "${this.entry.name}": ${text}`);
    }
    return JSON.parse(text);
  }

  /** Ends the process at once; requests in flight reject with `reason`. */
  terminate(reason: Error): void {
    if (this.#failure) return;
    this.#failure = reason;
    this.#ended(reason);
    this.#kill();
    clearInterval(this.#watchdog);
    this.#channel.close();
    this.#worker?.terminate();
    removeFolder(this.#dir);
    this.#settle.reject(reason);
    for (const call of this.#calls.values()) call.reject(reason);
    this.#calls.clear();
    this.#sinks.clear();
  }

  /** A log line for every role running, or for the next one when none is. */
  #logAll(level: LogLevel, message: string): void {
    let shown = false;
    for (const sinks of this.#sinks.values()) {
      if (sinks.log) {
        sinks.log(level, message);
        shown = true;
      }
    }
    if (!shown && this.#held.length < HELD_LINES) this.#held.push({ level, message });
  }

  #receive(reply: BridgeReply | HostEvent | Reply): void {
    switch (reply.type) {
      case "connected":
        // The stats socket, the folder's last use.
        removeFolder(this.#dir);
        break;
      case "checked":
        checked.add(keyOf(this.entry));
        break;
      case "refused":
        this.terminate(refusalError(this.entry, reply.refusal));
        break;
      case "broken":
        this.terminate(
          this.#started
            ? new TypeError(`Cannot run plugin "${this.entry.name}": ${reply.message}`)
            : new PluginLoadError(this.entry, reply.message),
        );
        break;
      case "failed":
        this.terminate(
          this.#started
            ? new Error(`Cannot run plugin "${this.entry.name}": ${reply.message}`)
            : new PluginLoadError(this.entry, reply.message),
        );
        break;
      case "output":
        this.#channel.printed();
        this.#logAll(
          reply.stream === "stdout" ? "info" : "warn",
          `plugin "${this.entry.name}" ${reply.stream}: ${reply.line}`,
        );
        break;
      case "exited": {
        if (this.#failure) break;
        const how = reply.signal ?? `code ${reply.code}`;
        // Ended on its own: a running service (which has no outcome to carry
        // it) hears why before terminate() clears its sinks.
        const said = (error: Error) => {
          for (const job of this.#services) this.#sinks.get(job)?.log?.("error", error.message);
          return error;
        };
        if (reply.memory) {
          this.terminate(said(new PluginMemoryError({ plugin: this.entry.name, ...reply.memory })));
        } else if (!this.#started) {
          const detail = stderrError(reply.stderr);
          this.terminate(
            new PluginLoadError(
              this.entry,
              detail && /^Module not found/.test(detail)
                ? "module not found"
                : `its process exited (${how}) before it was ready${detail ? `: ${detail}` : ""}`,
            ),
          );
        } else {
          this.terminate(
            said(new Error(`Cannot run plugin "${this.entry.name}": its process exited (${how})`)),
          );
        }
        break;
      }
      case "batch":
        for (const message of reply.messages) this.#receive(message);
        break;
      case "ready":
        if (this.#started) break;
        this.#started = true;
        // Its main module is loaded and its socket connected: they have done their part.
        for (const file of ["main.js", "ipc.sock"]) {
          try {
            Deno.removeSync(`${this.#dir}/${file}`);
          } catch {
            // Removed already (the folder went with its process).
          }
        }
        this.#stats = {
          header: new Int32Array(this.#statsBuffer, 0, STATS_HEADER / 4),
          body: new Uint8Array(this.#statsBuffer, STATS_HEADER),
          seq: 0,
        };
        this.#settle.resolve();
        break;
      case "load-error":
        this.#started = true;
        this.terminate(loadError(this.entry, reply.error, reply.denial));
        break;
      case "log":
        this.#sinks.get(reply.job)?.log?.(reply.level, reply.message);
        break;
      case "progress":
        this.#sinks.get(reply.job)?.progress?.(reply.update);
        break;
      case "load":
        this.#sinks.get(reply.job)?.load?.(reply.event);
        break;
      case "stray":
        // An error the plugin left uncaught (a rejected promise nobody awaited):
        // in-process it would end the run; here it is reported to every role.
        this.#logAll(
          "error",
          `Uncaught error in plugin "${this.entry.name}": ${reply.error.name}: ${reply.error.message}`,
        );
        break;
      case "done": {
        // Killed for it: the exit rejects the call with a PluginMemoryError.
        if (this.#overCeiling()) break;
        const call = this.#calls.get(reply.id);
        this.#calls.delete(reply.id);
        this.#sinks.delete(reply.id);
        call?.resolve(reply);
        break;
      }
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Plugin processes by plugin entry, and every process started through the pool. A
 * process takes up to `rolesPerProcess` roles of its entry at once (they share
 * its permissions, so sharing does not widen any role's grant); a new one
 * starts only when every process of the entry is full. A process with no role
 * stays warm unless `maxIdle` others of its entry already are.
 */
export class WorkerPool {
  readonly maxIdle: number;
  readonly rolesPerProcess: number;
  /** Plugin processes taking roles, by entry. */
  #open = new Map<string, WorkerHandle[]>();
  /** Roles each live process is running. */
  #roles = new Map<WorkerHandle, number>();
  #live = new Set<WorkerHandle>();
  /** Processes told to end whose exit is not yet seen. */
  #ending = new Set<Promise<void>>();
  #closed = false;

  readonly options: ProcessOptions;

  constructor(maxIdle: number, rolesPerProcess = 1, options: ProcessOptions = {}) {
    this.maxIdle = maxIdle;
    this.rolesPerProcess = rolesPerProcess;
    this.options = options;
  }

  /** Plugin processes alive, busy or idle. */
  get size(): number {
    return [...this.#live].filter((h) => h.alive).length;
  }

  /**
   * The least busy process of the entry with room for a role, or a new one.
   * A `brief` role (a params check: one message, nothing kept) takes the
   * least busy process even when full rather than start one.
   */
  acquire(entry: ManifestEntry, brief = false): WorkerHandle {
    if (this.#closed) {
      throw new TypeError(`Cannot run plugin "${entry.name}": its isolation pool is closed`);
    }
    const key = keyOf(entry);
    for (const dead of (this.#open.get(key) ?? []).filter((h) => !h.alive)) this.#forget(dead);
    const open = this.#open.get(key) ?? [];
    let best: WorkerHandle | undefined;
    for (const handle of open) {
      const roles = this.#roles.get(handle)!;
      if ((brief || roles < this.rolesPerProcess) && (!best || roles < this.#roles.get(best)!)) {
        best = handle;
      }
    }
    if (!best) {
      best = new WorkerHandle(entry, this.options);
      this.#live.add(best);
      this.#roles.set(best, 0);
      open.push(best);
    }
    this.#open.set(key, open);
    this.#roles.set(best, this.#roles.get(best)! + 1);
    return best;
  }

  /**
   * Takes a process started before the pool existed (the CLI's early
   * start): it becomes the entry's idle process, as `warm()` would leave one.
   */
  adopt(entry: ManifestEntry, started: Started): WorkerHandle {
    if (this.#closed) {
      throw new TypeError(`Cannot run plugin "${entry.name}": its isolation pool is closed`);
    }
    const handle = new WorkerHandle(entry, this.options, started);
    this.#live.add(handle);
    this.#roles.set(handle, 0);
    const key = keyOf(entry);
    this.#open.set(key, [...this.#open.get(key) ?? [], handle]);
    return handle;
  }

  /** A role finished cleanly: the process stays warm, unless enough others are. */
  release(handle: WorkerHandle): void {
    const roles = this.#leave(handle);
    if (roles > 0) return;
    const key = keyOf(handle.entry);
    const idle = (this.#open.get(key) ?? []).filter((h) =>
      h !== handle && h.alive && this.#roles.get(h) === 0
    );
    if (this.#closed || !handle.alive || !this.#isOpen(handle) || idle.length >= this.maxIdle) {
      this.#end(handle, new Error(`Cannot run plugin "${handle.entry.name}": worker retired`));
    }
  }

  /**
   * A role ended badly (it hung, was cancelled before its process was ready,
   * or its process died): the process takes no new role and ends with its last
   * one, so the roles sharing it finish first (each within its own limits).
   */
  discard(handle: WorkerHandle, reason: Error): void {
    const open = this.#open.get(keyOf(handle.entry));
    if (open?.includes(handle)) open.splice(open.indexOf(handle), 1);
    if (this.#leave(handle) === 0) this.#end(handle, reason);
  }

  /**
   * A process stopped answering (a role outlasted its deadline by the grace
   * period): it is killed now, whatever other roles it runs (stuck behind
   * the same event loop, they would only wait for their own deadlines), and
   * the next role of its entry gets a fresh process.
   */
  kill(handle: WorkerHandle, reason: Error): void {
    this.#end(handle, reason);
  }

  /** Ends every process, busy or idle; resolves when every process it started has exited. */
  close(): Promise<void> {
    this.#closed = true;
    for (const handle of this.#live) {
      handle.terminate(
        new Error(`Cannot run plugin "${handle.entry.name}": its isolation pool was closed`),
      );
      this.#track(handle);
    }
    this.#live.clear();
    this.#open.clear();
    this.#roles.clear();
    return Promise.all([...this.#ending]).then(() => {});
  }

  #track(handle: WorkerHandle): void {
    const closed = handle.closed;
    this.#ending.add(closed);
    void closed.then(() => this.#ending.delete(closed));
  }

  /** One role fewer on the process; returns how many it still runs. */
  #leave(handle: WorkerHandle): number {
    const roles = Math.max(0, (this.#roles.get(handle) ?? 1) - 1);
    if (this.#roles.has(handle)) this.#roles.set(handle, roles);
    return roles;
  }

  #isOpen(handle: WorkerHandle): boolean {
    return this.#open.get(keyOf(handle.entry))?.includes(handle) ?? false;
  }

  #end(handle: WorkerHandle, reason: Error): void {
    handle.terminate(reason);
    this.#track(handle);
    this.#forget(handle);
  }

  /** Drops a process from the pool's books. */
  #forget(handle: WorkerHandle): void {
    this.#live.delete(handle);
    this.#roles.delete(handle);
    const open = this.#open.get(keyOf(handle.entry));
    if (open?.includes(handle)) open.splice(open.indexOf(handle), 1);
  }
}
