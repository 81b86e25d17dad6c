// The parent's side of an isolated plugin: one Worker per handle, started on
// a generated entry module with exactly the manifest entry's permissions,
// and a pool that keeps started Workers warm between roles.
import type { ManifestEntry, PluginPermissions } from "./manifest.ts";
import { PluginLoadError } from "./registry.ts";
import type { LogLevel, Progress } from "./types.ts";
import { apiVersionProblem } from "./_isolation_checks.ts";
import { denialDetail, missingInParent } from "./_isolation_denial.ts";
import {
  type Denial,
  type ErrorBuilder,
  type ErrorData,
  Outbox,
  rebuildError,
  type Reply,
  type Request,
  STATS_HEADER,
  StatsStatus,
} from "./_isolation_protocol.ts";

// Resolved against this module, so it is a file: URL in a checkout and an
// https: URL when wiretest is imported from JSR.
const RUNTIME_URL = new URL("./_isolation_worker.ts", import.meta.url).href;

/** Where a role's log lines and progress go. */
export interface Sinks {
  log?: (level: LogLevel, message: string) => void;
  progress?: (update: Progress) => void;
}

/** A finished request. */
export type Done = Extract<Reply, { type: "done" }>;

/** The Worker permissions for an entry: what it grants, everything else denied. */
export function workerPermissions(permissions: PluginPermissions): Deno.PermissionOptionsObject {
  return {
    env: permissions.env ?? false,
    net: permissions.net ?? false,
    read: permissions.read ?? false,
    sys: (permissions.sys ?? false) as Deno.PermissionOptionsObject["sys"],
    write: permissions.write ?? false,
    run: false,
    ffi: false,
    // Only the Worker's own static imports load remote code; those are not
    // checked against it, so plugin code gets no dynamic remote imports.
    import: false,
  };
}

/**
 * The module a plugin's Worker starts on: the runtime, then the plugin,
 * statically. It depends on the module alone (the entry comes in a message),
 * so `deno test`, which type-checks each Worker's module graph, checks each
 * plugin once and reuses the result.
 */
function entryModule(module: string): string {
  const source = `import { serveIsolated } from ${JSON.stringify(RUNTIME_URL)};\n` +
    `import * as plugin from ${JSON.stringify(module)};\n` +
    `serveIsolated(plugin);\n`;
  return `data:application/javascript,${encodeURIComponent(source)}`;
}

/** Whether a local module is missing (checked only when this process may read it). */
function missingFile(module: string): boolean {
  if (!module.startsWith("file:")) return false;
  const path = new URL(module);
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
  try {
    return !Deno.statSync(path).isFile;
  } catch {
    return true;
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The first line of a Worker error event's message, without colours or "Uncaught". */
function eventText(event: ErrorEvent): string {
  const text = String(event.message ?? "").replace(ANSI, "").split("\n")[0];
  return text.replace(/^Uncaught (?:\(in promise\) )?/, "").trim() || "unknown error";
}

const buildLoadError: ErrorBuilder = (data, cause) =>
  data.name === "PluginLoadError" && typeof data.plugin === "string" &&
    typeof data.module === "string"
    ? new PluginLoadError({ name: data.plugin, module: data.module }, "", { cause })
    : undefined;

/** An error from a Worker, rebuilt as its type: the protocol's, and `PluginLoadError`. */
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

/** One plugin's Worker and the requests in flight to it. */
export class WorkerHandle {
  readonly entry: ManifestEntry;
  readonly ready: Promise<void>;
  #worker: Worker;
  #nextId = 1;
  #calls = new Map<number, { resolve: (done: Done) => void; reject: (e: Error) => void }>();
  #sinks = new Map<number, Sinks>();
  #failure: Error | undefined;
  #started = false;
  #stats: { header: Int32Array; body: Uint8Array; seq: number } | undefined;
  #settle!: { resolve: () => void; reject: (e: Error) => void };
  #outbox = new Outbox<Request>((message) => {
    if (!this.#failure) this.#worker.postMessage(message);
  });

  /**
   * Starts the Worker.
   *
   * @throws {PluginLoadError} When the entry grants more than this process has.
   */
  constructor(entry: ManifestEntry) {
    this.entry = entry;
    // Refused before its Worker starts: code written for another contract never runs.
    const versionProblem = apiVersionProblem(entry);
    if (versionProblem) throw new PluginLoadError(entry, versionProblem);
    const missing = missingInParent(entry.permissions);
    if (missing) {
      const what = missing.target === undefined
        ? `all ${missing.permission} access`
        : `${missing.permission} access to "${missing.target}"`;
      throw new PluginLoadError(
        entry,
        `its manifest entry grants ${what}, which this process does not have (run wiretest with --allow-${missing.permission}, narrow the entry, or use --no-isolation)`,
      );
    }
    // Found here, a missing module does not cost a Worker (nor Deno's report of it).
    if (missingFile(entry.module)) throw new PluginLoadError(entry, "module not found");
    this.ready = new Promise<void>((resolve, reject) => this.#settle = { resolve, reject });
    // Rejections are read by whoever awaits `ready`; none may go unhandled meanwhile.
    this.ready.catch(() => {});
    this.#worker = new Worker(entryModule(entry.module), {
      type: "module",
      name: `wiretest plugin ${entry.name}`,
      deno: { permissions: workerPermissions(entry.permissions) },
    });
    this.#worker.addEventListener("message", (event) => this.#receive(event.data as Reply));
    this.#worker.addEventListener("error", (event) => {
      // Handled here: unhandled, a Worker's error would end this process.
      event.preventDefault();
      const text = eventText(event);
      if (!this.#started) {
        const detail = /^Module not found/.test(text)
          ? "module not found"
          : `module failed to import: ${text}`;
        this.terminate(new PluginLoadError(entry, detail));
      } else {
        this.terminate(new Error(`Cannot run plugin "${entry.name}": its worker failed: ${text}`));
      }
    });
    this.#worker.postMessage({ type: "init", entry } satisfies Request);
    this.#worker.addEventListener("messageerror", () => {
      this.terminate(
        new Error(`Cannot run plugin "${entry.name}": a message from its worker could not be read`),
      );
    });
  }

  /** `false` once the Worker is terminated or failed. */
  get alive(): boolean {
    return this.#failure === undefined;
  }

  /** Sends a request; resolves when the Worker answers, rejects if it dies first. */
  call(request: DistributiveOmit<Request & { id: number }, "id">, sinks?: Sinks): {
    id: number;
    done: Promise<Done>;
  } {
    const id = this.#nextId++;
    const done = new Promise<Done>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#calls.set(id, { resolve, reject });
      if (sinks) this.#sinks.set(id, sinks);
      this.#outbox.add({ ...request, id } as Request, (error) => {
        // Its input cannot be cloned (a function, a socket): this call fails alone.
        this.#calls.delete(id);
        this.#sinks.delete(id);
        reject(error as Error);
      });
    });
    return { id, done };
  }

  /** Sends a message that needs no answer (an abort). */
  send(request: Extract<Request, { type: "abort" }>): void {
    // Plain data (the reason is serialized): cloning it cannot fail.
    if (!this.#failure) this.#outbox.add(request, () => {});
  }

  /** Keeps routing a job's log and progress after its request is answered (a service). */
  keepSinks(job: number, sinks: Sinks): void {
    this.#sinks.set(job, sinks);
  }

  /** Stops routing a job's log and progress. */
  dropSinks(job: number): void {
    this.#sinks.delete(job);
  }

  /**
   * A service's `stats()`, read synchronously: the Worker writes them into a
   * shared buffer while this thread waits, up to `waitMs`.
   *
   * @returns The stats, or `undefined` when the Worker did not answer in time.
   * @throws {RangeError} When the stats are too large to pass.
   * @throws {Error} When the service's `stats()` threw.
   */
  stats(service: number, waitMs: number): Record<string, number> | undefined {
    const view = this.#stats;
    if (!view || this.#failure) return undefined;
    const seq = ++view.seq;
    // This thread blocks until the answer: what is queued must go first.
    this.#outbox.flush();
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
        `Cannot read the stats of plugin "${this.entry.name}": they are too large to pass from its worker`,
      );
    }
    if (status === StatsStatus.Threw) {
      throw new Error(`Cannot read the stats of plugin "${this.entry.name}": ${text}`);
    }
    return JSON.parse(text);
  }

  /** Ends the Worker at once; requests in flight reject with `reason`. */
  terminate(reason: Error): void {
    if (this.#failure) return;
    this.#failure = reason;
    this.#worker.terminate();
    this.#settle.reject(reason);
    for (const call of this.#calls.values()) call.reject(reason);
    this.#calls.clear();
    this.#sinks.clear();
  }

  #receive(reply: Reply): void {
    switch (reply.type) {
      case "batch":
        for (const message of reply.messages) this.#receive(message);
        break;
      case "ready":
        this.#started = true;
        this.#stats = {
          header: new Int32Array(reply.stats, 0, STATS_HEADER / 4),
          body: new Uint8Array(reply.stats, STATS_HEADER),
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
      case "stray": {
        // An error the plugin left uncaught (a rejected promise nobody awaited):
        // in-process it would end the run; here it is reported to every role.
        const line =
          `Uncaught error in plugin "${this.entry.name}": ${reply.error.name}: ${reply.error.message}`;
        for (const sinks of this.#sinks.values()) sinks.log?.("error", line);
        break;
      }
      case "done": {
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

/** The identity of a Worker's configuration: a Worker serves only entries equal to its own. */
function keyOf(entry: ManifestEntry): string {
  return JSON.stringify([
    entry.name,
    entry.module,
    entry.export,
    entry.apiVersion,
    entry.roles,
    entry.permissions,
  ]);
}

/**
 * Workers by plugin entry, and every Worker started through the pool. A
 * Worker takes up to `rolesPerWorker` roles of its entry at once (they share
 * its permissions, so sharing does not widen any role's grant); a new one
 * starts only when every Worker of the entry is full. A Worker with no role
 * stays warm unless `maxIdle` others of its entry already are.
 */
export class WorkerPool {
  readonly maxIdle: number;
  readonly rolesPerWorker: number;
  /** Workers taking roles, by entry. */
  #open = new Map<string, WorkerHandle[]>();
  /** Roles each live Worker is running. */
  #roles = new Map<WorkerHandle, number>();
  #live = new Set<WorkerHandle>();
  #closed = false;

  constructor(maxIdle: number, rolesPerWorker = 1) {
    this.maxIdle = maxIdle;
    this.rolesPerWorker = rolesPerWorker;
  }

  /** Workers alive, busy or idle. */
  get size(): number {
    return [...this.#live].filter((h) => h.alive).length;
  }

  /**
   * The least busy Worker of the entry with room for a role, or a new one.
   * A `brief` role (a params check: one message, nothing kept) takes the
   * least busy Worker even when full rather than start one.
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
      if ((brief || roles < this.rolesPerWorker) && (!best || roles < this.#roles.get(best)!)) {
        best = handle;
      }
    }
    if (!best) {
      best = new WorkerHandle(entry);
      this.#live.add(best);
      this.#roles.set(best, 0);
      open.push(best);
    }
    this.#open.set(key, open);
    this.#roles.set(best, this.#roles.get(best)! + 1);
    return best;
  }

  /** A role finished cleanly: the Worker stays warm, unless enough others are. */
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
   * A role ended badly (it hung, was cancelled before its Worker was ready,
   * or its Worker died): the Worker takes no new role and ends with its last
   * one, so the roles sharing it finish first (each within its own limits).
   */
  discard(handle: WorkerHandle, reason: Error): void {
    const open = this.#open.get(keyOf(handle.entry));
    if (open?.includes(handle)) open.splice(open.indexOf(handle), 1);
    if (this.#leave(handle) === 0) this.#end(handle, reason);
  }

  /** Ends every Worker, busy or idle. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#live) {
      handle.terminate(
        new Error(`Cannot run plugin "${handle.entry.name}": its isolation pool was closed`),
      );
    }
    this.#live.clear();
    this.#open.clear();
    this.#roles.clear();
  }

  /** One role fewer on the Worker; returns how many it still runs. */
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
    this.#forget(handle);
  }

  /** Drops a Worker from the pool's books. */
  #forget(handle: WorkerHandle): void {
    this.#live.delete(handle);
    this.#roles.delete(handle);
    const open = this.#open.get(keyOf(handle.entry));
    if (open?.includes(handle)) open.splice(open.indexOf(handle), 1);
  }
}
