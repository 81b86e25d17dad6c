/**
 * Running plugin roles isolated: each plugin runs in a Deno process of its
 * own, started with exactly what its manifest entry grants as flags
 * (`--allow-net=127.0.0.1`, `--allow-read=/data`…), `--no-prompt`,
 * `--allow-import` limited to its net hosts, a memory ceiling, only its
 * granted environment variables and no arguments.
 * {@linkcode startIsolatedServer} and {@linkcode runIsolatedClient} mirror
 * `startServer` and `runClient`, taking a {@linkcode ManifestEntry} instead
 * of a loaded plugin: the plugin's module is imported only in its process.
 *
 * - Before a third-party plugin's first process starts, its module graph
 *   (`deno info --json`) is checked: an import of a file outside its folder,
 *   wiretest's own code and its `read` grant (Deno does not check static or
 *   literal imports against `--allow-read`), or of a module from a host
 *   outside its `net` grant, is refused with a `PluginLoadError` naming the
 *   import, where it is and the missing grant.
 * - What a command line or an editor needs from the plugin's module — its
 *   name, description, and each role's params as JSON Schema and its
 *   positionals — comes from its process too, as data
 *   ({@linkcode describeIsolatedPlugin}), and so does a client role's summary
 *   of an outcome ({@linkcode summarizeIsolatedOutcome}): the module's code,
 *   top-level code included, only ever runs with its entry's permissions.
 * - Params are validated in the plugin's process; a `ParamsError` (with its
 *   `issues`) and other errors cross back as data and are rebuilt as the same
 *   typed errors (`TimeoutError`, `ConnectionError`, `PermissionDeniedError`,
 *   `PluginLoadError`, `TypeError`…); any other error becomes an `Error`
 *   with the same name, message and `code`.
 * - A plugin that reaches outside its grant gets a
 *   {@linkcode PluginPermissionError} naming the plugin, the permission and
 *   the grant; for a client role the outcome is `ok: false` with that error,
 *   and the run goes on. One that goes over its memory ceiling is killed and
 *   its role fails with a {@linkcode PluginMemoryError}.
 * - Log lines and progress go to the caller's `log` and `progress`; so does
 *   what the plugin prints, escaped and attributed (`plugin "x" stdout: …`).
 *   The caller's signal and deadline are forwarded, and a plugin that has not
 *   stopped `graceMs` after being cancelled has its process killed.
 * - Net grants are Deno's: `"127.0.0.1"` allows any port on that host,
 *   `"127.0.0.1:8080"` one port. Relative `read`/`write` paths are relative to
 *   the working directory, as with `--allow-read`.
 * - Starting a process costs tens of milliseconds, so an {@linkcode IsolationPool}
 *   keeps them warm by plugin and reuses them from role to role; a process's
 *   permissions are fixed when it starts, which suits processes that only
 *   ever run their own entry.
 *
 * Needs `--allow-run` (to start `deno`), the temporary directory, and every
 * permission a plugin is granted: a plugin never gets more than its host.
 *
 * @example Running the echo plugin isolated
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { IsolationPool } from "@wiretest/wiretest/host";
 * import { runIsolatedClient, startIsolatedServer } from "./isolation.ts";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const echo = builtinRegistry().get("echo");
 * await using pool = new IsolationPool();
 * const server = await startIsolatedServer(echo, {}, { pool });
 * const target = formatAddress(server.address);
 * const outcome = await runIsolatedClient(echo, { target, count: 3 }, { pool });
 * await server.close();
 * assert.equal(outcome.metrics.round_trips, 3);
 * ```
 *
 * @module
 */
import { startTimer, type Timer } from "../_internal/timer.ts";
import { createContext } from "./context.ts";
import type { ManifestEntry } from "./manifest.ts";
import { describeError, type RunOptions } from "./run.ts";
import type { Outcome, OutcomeError, Service } from "./types.ts";
import {
  DEFAULT_MEMORY_MIB,
  type Done,
  rebuild,
  type Sinks,
  WorkerHandle,
  WorkerPool,
} from "./_isolation_host.ts";
import { type PluginDescription, readDescription } from "./_isolation_describe.ts";
import {
  type Denial,
  type LoadEvent,
  type Request,
  serializeError,
} from "./_isolation_protocol.ts";
import { PluginPermissionError } from "./_plugin_permission_error.ts";
import type { Started } from "./_isolation_launch.ts";
import { checkedAddress, checkedFacts, checkedOutcome } from "./_isolation_outcome.ts";

export { DEFAULT_MEMORY_MIB } from "./_isolation_host.ts";
export type { LoadEvent } from "./_isolation_protocol.ts";
export { PluginMemoryError, type PluginMemoryErrorOptions } from "./_plugin_memory_error.ts";
export {
  PluginPermissionError,
  type PluginPermissionErrorOptions,
} from "./_plugin_permission_error.ts";
export {
  type ClientRoleDescription,
  describePlugin,
  type PluginDescription,
  type RoleDescription,
} from "./_isolation_describe.ts";

/** How long a cancelled plugin may take to stop before its process is terminated, by default. */
export const DEFAULT_GRACE_MS = 2_000;

// How long a brief request (a params check, a description, a summary: plain
// computation in a process already started) may take when its caller sets
// no earlier bound; DEFAULT_GRACE_MS later, its process is killed as stuck.
const BRIEF_MS = 10_000;
// The load engine's graceful stop when none is given (lib/load/run_load.ts),
// and the slack a load run gets beyond its plan's end (the engine's import
// in the process, the report) before its process counts as stuck.
const LOAD_GRACEFUL_STOP_MS = 5_000;
const LOAD_SLACK_MS = 10_000;

// How long `stats()` waits for a busy process before answering with the last
// stats it read; the process answers between its tasks, normally at once.
const STATS_WAIT_MS = 1_000;

/** Options for an {@linkcode IsolationPool}. */
export interface IsolationPoolOptions {
  /**
   * Idle processes kept per plugin entry (default 2). More are terminated when
   * their role ends. `0` keeps none, so every role starts a process.
   */
  maxIdlePerPlugin?: number;
  /**
   * Roles of the same plugin entry one plugin process runs at once (default
   * 1). A process costs tens of milliseconds of CPU and tens of MiB to start,
   * so a run with many roles at once shares few processes between them; the
   * roles sharing a process have the same permissions, but share its event
   * loop: a plugin that blocks it slows the others, and a process that must
   * be terminated ends once every role sharing it has ended (each within its
   * own limits), unless it answers nothing at all (a busy loop): then it is
   * killed at once, and its roles fail.
   */
  rolesPerProcess?: number;
  /**
   * The former name of {@linkcode IsolationPoolOptions.rolesPerProcess}
   * (each plugin runs in a process of its own, not a Worker); taken when
   * `rolesPerProcess` is absent.
   *
   * @deprecated Use `rolesPerProcess`.
   */
  rolesPerWorker?: number;
  /**
   * Memory ceiling of each plugin process, MiB (default
   * {@linkcode DEFAULT_MEMORY_MIB}): its V8 heap is capped there, and a
   * watchdog kills it when its resident memory goes above (ArrayBuffers live
   * outside the heap). Its roles then fail with a {@linkcode PluginMemoryError}.
   */
  memoryMiB?: number;
  /**
   * V8 heap ceiling of each plugin process, MiB (default `memoryMiB`, at
   * least 16). V8 grows its heap while it has room and collects garbage
   * late, so a process that runs roles for hours (an exporter's) holds far
   * more than it uses; a lower ceiling keeps it near its use. A role that
   * needs more heap fails with a {@linkcode PluginMemoryError} (kind `heap`).
   */
  heapMiB?: number;
  /**
   * Manifests (their `source` URLs, as {@linkcode ManifestEntry.source}
   * holds them) whose `ffi: ["libc"]` grants are honoured, besides
   * wiretest's built-in manifest (default none). FFI loads native code,
   * which escapes every Deno permission: a plugin of any other manifest that
   * asks for it fails to load with a `PluginLoadError`.
   */
  trustFfi?: readonly string[];
}

const pools = new WeakMap<IsolationPool, WorkerPool>();

/**
 * Plugin processes (one Deno subprocess per plugin, limited to its manifest
 * entry's permissions) kept warm by plugin entry for the roles of one run, so
 * each step pays for a message, not for starting a process and importing the
 * plugin. By default two roles running at the same time get two processes,
 * and a role that had to be terminated takes its process with it; with
 * `rolesPerProcess` above 1 they share one, which then takes no new role and ends with the
 * last role it runs. Close the pool when the run ends: it terminates every
 * process, stopping services still running.
 *
 * @example Warming a process before the first step
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { IsolationPool } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolationPool();
 * await pool.warm(builtinRegistry().get("udp-ping"));
 * assert.equal(pool.size, 1);
 * ```
 *
 * @example Sharing one process between roles
 * ```ts
 * import { IsolationPool } from "@wiretest/wiretest/host";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolationPool({ rolesPerProcess: 4 });
 * assert.equal(pool.size, 0); // processes start when roles need them
 * assert.throws(() => new IsolationPool({ rolesPerProcess: 0 }), RangeError);
 * ```
 */
export class IsolationPool implements AsyncDisposable {
  /**
   * Creates an empty pool; processes start when roles need them.
   *
   * @param options How many idle processes to keep per plugin, how many roles each runs at once.
   * @throws {RangeError} When `maxIdlePerPlugin` is not a non-negative integer,
   * `rolesPerProcess` (or the deprecated `rolesPerWorker`) not a positive
   * one, or both given and different.
   */
  constructor(options: IsolationPoolOptions = {}) {
    const maxIdle = options.maxIdlePerPlugin ?? 2;
    if (!Number.isInteger(maxIdle) || maxIdle < 0) {
      throw new RangeError(
        `Cannot create isolation pool: maxIdlePerPlugin "${maxIdle}" is not a non-negative integer`,
      );
    }
    const { rolesPerProcess: perProcess, rolesPerWorker: perWorker } = options;
    if (perProcess !== undefined && perWorker !== undefined && perProcess !== perWorker) {
      throw new RangeError(
        `Cannot create isolation pool: rolesPerProcess "${perProcess}" and its deprecated alias rolesPerWorker "${perWorker}" differ`,
      );
    }
    const rolesPerProcess = perProcess ?? perWorker ?? 1;
    if (!Number.isInteger(rolesPerProcess) || rolesPerProcess < 1) {
      const name = perProcess === undefined && perWorker !== undefined
        ? "rolesPerWorker"
        : "rolesPerProcess";
      throw new RangeError(
        `Cannot create isolation pool: ${name} "${rolesPerProcess}" is not a positive integer`,
      );
    }
    const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
    if (!Number.isInteger(memoryMiB) || memoryMiB < 64) {
      throw new RangeError(
        `Cannot create isolation pool: memoryMiB "${memoryMiB}" is not an integer of at least 64`,
      );
    }
    const heapMiB = options.heapMiB ?? memoryMiB;
    if (!Number.isInteger(heapMiB) || heapMiB < 16 || heapMiB > memoryMiB) {
      throw new RangeError(
        `Cannot create isolation pool: heapMiB "${heapMiB}" is not an integer from 16 to memoryMiB (${memoryMiB})`,
      );
    }
    pools.set(
      this,
      new WorkerPool(maxIdle, rolesPerProcess, {
        memoryMiB,
        heapMiB,
        trustFfi: options.trustFfi ?? [],
      }),
    );
  }

  /** Plugin processes alive, busy or idle. */
  get size(): number {
    return inner(this).size;
  }

  /**
   * Starts a process for a plugin (unless one has room for a role) and waits until its
   * module is imported and checked, so the first role does not pay for it
   * and a broken plugin is reported early.
   *
   * @param entry The plugin's manifest entry.
   * @returns When the process is ready and idle in the pool.
   * @throws {PluginLoadError} When the module is missing, fails to import,
   * does not match its entry, or the entry grants more than this process has.
   */
  async warm(entry: ManifestEntry): Promise<void> {
    const pool = inner(this);
    const handle = pool.acquire(entry);
    try {
      await handle.ready;
    } catch (error) {
      pool.discard(handle, error as Error);
      throw error;
    }
    pool.release(handle);
  }

  /**
   * Terminates every process. Roles still running end with an error;
   * services still running stop at once. Idempotent.
   *
   * @returns When every process the pool started has exited.
   */
  close(): Promise<void> {
    return inner(this).close();
  }

  /** Closes the pool (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function inner(pool: IsolationPool): WorkerPool {
  return pools.get(pool)!;
}

/**
 * Internal, for the CLI's early start (lib/cli/_early_plugin.ts): gives
 * `pool` a plugin process started before this module was loaded, as its
 * entry's idle process. Not part of the public API.
 */
export function adoptStarted(pool: IsolationPool, entry: ManifestEntry, started: Started): void {
  inner(pool).adopt(entry, started);
}

/** Options shared by the isolated runners. */
export interface IsolationOptions {
  /** Reuse warm processes from this pool (default: a process for this role alone). */
  pool?: IsolationPool;
  /**
   * Milliseconds a plugin may take to stop after it is cancelled, its
   * deadline passes, or its service is closed, before its process is
   * terminated (default {@linkcode DEFAULT_GRACE_MS}).
   */
  graceMs?: number;
}

/** Options for {@linkcode runIsolatedClient}. */
export type IsolatedClientOptions = RunOptions & IsolationOptions;

/** Options for {@linkcode startIsolatedServer}. */
export type IsolatedServerOptions = Omit<RunOptions, "timeout" | "deadline"> & IsolationOptions;

/**
 * Options for {@linkcode checkIsolatedParams}, {@linkcode describeIsolatedPlugin}
 * and {@linkcode summarizeIsolatedOutcome}: one message to a plugin's process.
 */
export interface CheckIsolatedParamsOptions {
  /** Reuse a warm process from this pool. */
  pool?: IsolationPool;
  /** Stops waiting for the process to start. */
  signal?: AbortSignal;
}

/**
 * Runs a plugin's client role in a process limited to its manifest entry's
 * permissions. Like `runClient`, a failed exchange does not throw: it comes
 * back as `ok: false` with `error` set; so does a permission the entry does
 * not grant (a {@linkcode PluginPermissionError}'s name and message) and a
 * plugin that had to be terminated because it did not stop within
 * `graceMs` of its deadline or cancellation.
 *
 * @param entry The plugin's manifest entry (from `Registry.get`).
 * @param input Raw params for the client role.
 * @param options Timeout, deadline, signal, log and progress sinks, pool, grace.
 * @returns What the client observed.
 * @throws {TypeError} When the entry has no client role.
 * @throws {ParamsError} When the params are invalid (with `issues`).
 * @throws {PluginLoadError} When the plugin's module cannot be imported or
 * does not match its entry, or the entry grants more than this process has.
 *
 * @example A plugin confined to 127.0.0.1 cannot reach 127.0.0.2
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { runIsolatedClient } from "./isolation.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = { ...builtinRegistry().get("echo"), permissions: { net: ["127.0.0.1"] } };
 * const outcome = await runIsolatedClient(echo, { target: "127.0.0.2:9" });
 * assert.equal(outcome.ok, false);
 * assert.match(outcome.error!.message, /^Cannot run plugin "echo": permission denied: net access to "127\.0\.0\.2:9"/);
 * ```
 */
export async function runIsolatedClient(
  entry: ManifestEntry,
  input: unknown,
  options: IsolatedClientOptions = {},
): Promise<Outcome> {
  if (!entry.roles.includes("client")) {
    throw new TypeError(`Cannot run plugin "${entry.name}": it has no client role`);
  }
  const graceMs = graceOf(options);
  using ctx = createContext(options);
  const lease = leaseWorker(entry, options.pool);
  let clean = false;
  try {
    if (!await untilReady(lease.handle, ctx.signal)) {
      return failed(cancelled(entry, ctx.signal.reason, "before its process was ready"));
    }
    const sinks: Sinks = { log: ctx.log, progress: ctx.progress };
    const request = { type: "client", input, deadline: ctx.deadline } as const;
    const { id, done } = lease.handle.call(request, sinks);
    let reply: Done | Hung;
    try {
      reply = await settle(lease.handle, done, graceMs, ctx.signal, () => {
        lease.handle.send({ type: "abort", job: id, reason: serializeError(ctx.signal.reason) });
      });
    } catch (error) {
      // The process died mid-run (its pool closed, or it crashed): an outcome, not a throw.
      return failed(describeError(error));
    }
    if (isHung(reply)) {
      const error = hung(entry, ctx.signal.reason, graceMs, reply);
      lease.endHung(error, reply);
      return failed(describeError(error));
    }
    if (reply.error) {
      clean = true;
      throw rebuild(reply.error);
    }
    let outcome: Outcome;
    try {
      outcome = checkedOutcome((reply.result as { outcome?: unknown } | null)?.outcome, entry.name);
    } catch (error) {
      // A forged reply: the run fails, and the process is not lent again.
      const forged = error instanceof Error ? error : new TypeError(String(error));
      lease.end(forged);
      return failed(describeError(forged));
    }
    clean = true;
    return reply.denial && outcome.error
      ? { ...outcome, error: describeError(permissionError(entry, reply.denial)) }
      : outcome;
  } finally {
    await lease.done(clean);
  }
}

/** Options for {@linkcode runIsolatedLoad}. */
export interface IsolatedLoadOptions extends IsolationOptions {
  /** Stops the run early; the report then says `interrupted`. */
  signal?: AbortSignal;
  /** How long iterations still running at the end may finish (the engine's default otherwise). */
  gracefulStopMs?: number;
  /** Log lines of the plugin while it runs. */
  log?: RunOptions["log"];
  /** Each second's progress and histograms, as the engine in the process sends them. */
  onEvent?: (event: LoadEvent) => void;
}

/**
 * Runs a plugin's client role as load inside its own process, limited to
 * its manifest entry's permissions: the VU loop runs there (lib/load's
 * engine, whose module the process imports when the first load is asked
 * for; the plugin's `session` hook keeps a connection per VU), and the host
 * receives one message a second and the report at the end, never a
 * message per iteration. The plan and the report are the engine's, plain
 * data here (the executor types them: this layer does not import lib/load).
 * `options.signal` stops the run early; a plugin that does not stop within
 * `graceMs` of that has its process killed and the run fails.
 *
 * @param entry The plugin's manifest entry.
 * @param input Raw params for the client role (validated in its process).
 * @param plan A checked load plan (`checkLoadPlan`).
 * @param options Signal, graceful stop, event sink, pool, grace.
 * @returns The load report (`LoadReport`).
 * @throws {TypeError} When the entry has no client role.
 * @throws {ParamsError} When the params are invalid (with `issues`).
 * @throws {PluginLoadError} When the plugin cannot be loaded.
 */
export async function runIsolatedLoad(
  entry: ManifestEntry,
  input: unknown,
  plan: unknown,
  options: IsolatedLoadOptions = {},
): Promise<unknown> {
  if (!entry.roles.includes("client")) {
    throw new TypeError(`Cannot run load of plugin "${entry.name}": it has no client role`);
  }
  const graceMs = graceOf(options);
  // A plan with a duration has an end: past it, its graceful stop and some
  // slack, a process still silent is stuck (the VU loop runs there).
  const durationMs = (plan as { durationMs?: unknown } | null)?.durationMs;
  using bound = createContext({
    ...(options.signal ? { signal: options.signal } : {}),
    ...(typeof durationMs === "number"
      ? { timeout: durationMs + (options.gracefulStopMs ?? LOAD_GRACEFUL_STOP_MS) + LOAD_SLACK_MS }
      : {}),
  });
  const signal = bound.signal;
  const lease = leaseWorker(entry, options.pool);
  let clean = false;
  try {
    if (!await untilReady(lease.handle, signal)) throw signal.reason;
    const sinks: Sinks = {
      ...(options.log ? { log: options.log } : {}),
      ...(options.onEvent ? { load: options.onEvent } : {}),
    };
    const request = {
      type: "load",
      input,
      plan,
      ...(options.gracefulStopMs === undefined ? {} : { gracefulStopMs: options.gracefulStopMs }),
    } as const;
    const { id, done } = lease.handle.call(request, sinks);
    // Stopped, the engine in the process ends its iterations at once and reports.
    const reply = await settle(lease.handle, done, graceMs, signal, () => {
      lease.handle.send({ type: "abort", job: id, reason: serializeError(signal.reason) });
    });
    if (isHung(reply)) {
      const error = hung(entry, signal.reason, graceMs, reply);
      lease.endHung(error, reply);
      throw error;
    }
    clean = true;
    if (reply.error) {
      throw reply.denial
        ? permissionError(entry, reply.denial, rebuild(reply.error))
        : rebuild(reply.error);
    }
    return (reply.result as { report: unknown }).report;
  } finally {
    await lease.done(clean);
  }
}

/**
 * Starts a plugin's server role in a process limited to its manifest entry's
 * permissions, and returns a {@linkcode Service} that stands for it:
 * `address` is where it listens, `stats()` reads the service's counters from
 * the process (synchronously, as the contract wants), and `close()` stops the
 * service and releases its process, terminating it when the service does not
 * close within `graceMs`. Aborting `options.signal` closes the service.
 *
 * @param entry The plugin's manifest entry (from `Registry.get`).
 * @param input Raw params for the server role.
 * @param options Signal, log and progress sinks, pool, grace.
 * @returns The running service; close it when done.
 * @throws {TypeError} When the entry has no server role.
 * @throws {ParamsError} When the params are invalid (with `issues`).
 * @throws {PluginPermissionError} When the service needs a permission its entry does not grant.
 * @throws {PluginLoadError} When the plugin's module cannot be imported or
 * does not match its entry, or the entry grants more than this process has.
 *
 * @example Reading a service's stats across the process boundary
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { runIsolatedClient, startIsolatedServer } from "./isolation.ts";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const udpPing = builtinRegistry().get("udp-ping");
 * const server = await startIsolatedServer(udpPing, {});
 * const target = formatAddress(server.address);
 * const outcome = await runIsolatedClient(udpPing, { target, count: 3, intervalMs: 0 });
 * assert.equal(outcome.ok, true);
 * assert.equal(server.stats().datagrams_in, 3);
 * await server.close();
 * ```
 */
export async function startIsolatedServer(
  entry: ManifestEntry,
  input: unknown,
  options: IsolatedServerOptions = {},
): Promise<Service> {
  if (!entry.roles.includes("server")) {
    throw new TypeError(`Cannot start plugin "${entry.name}": it has no server role`);
  }
  const graceMs = graceOf(options);
  const signal = options.signal ?? new AbortController().signal;
  const lease = leaseWorker(entry, options.pool);
  const handle = lease.handle;
  let service: Service | undefined;
  try {
    if (!await untilReady(handle, signal)) throw signal.reason;
    const sinks: Sinks = { log: options.log, progress: options.progress };
    const { id, done } = handle.call({ type: "serve", input }, sinks);
    const abort = () =>
      handle.send({ type: "abort", job: id, reason: serializeError(signal.reason) });
    const reply = await settle(handle, done, graceMs, signal, abort);
    if (isHung(reply)) {
      const error = hung(entry, signal.reason, graceMs, reply);
      lease.endHung(error, reply);
      throw error;
    }
    if (reply.error) {
      lease.done(true);
      throw reply.denial
        ? permissionError(entry, reply.denial, rebuild(reply.error))
        : rebuild(reply.error);
    }
    handle.keepSinks(id, sinks);
    service = isolatedService(entry, lease, id, reply, graceMs, signal, abort, sinks.log);
    return service;
  } catch (error) {
    // Ends a process that never started or hung; a released one is not ended twice.
    if (!service) await lease.end(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/**
 * Validates params for a role inside the plugin's process, so the plugin's
 * module is never imported into this process. Resolves when they are valid.
 *
 * @param entry The plugin's manifest entry.
 * @param role `"server"` or `"client"`.
 * @param input Raw params.
 * @param options Pool and signal.
 * @returns When the params are valid.
 * @throws {ParamsError} Naming each param that is wrong.
 * @throws {TypeError} When the plugin has no such role.
 * @throws {PluginLoadError} When the plugin cannot be loaded.
 *
 * @example Rejecting a bad param
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { checkIsolatedParams } from "./isolation.ts";
 * import { ParamsError } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const echo = builtinRegistry().get("echo");
 * await assert.rejects(
 *   checkIsolatedParams(echo, "client", { count: 3 }),
 *   (e: unknown) => e instanceof ParamsError && e.issues[0].path[0] === "target",
 * );
 * ```
 */
export async function checkIsolatedParams(
  entry: ManifestEntry,
  role: "server" | "client",
  input: unknown,
  options: CheckIsolatedParamsOptions = {},
): Promise<void> {
  await ask(entry, { type: "check", role, input }, options);
}

/**
 * Describes a plugin from inside its process: its name, version, description
 * and, per role, the JSON Schema of its params and its positionals — what a
 * command line needs to build flags and help, as plain data. The plugin's
 * module is imported only in the process, so its top-level code runs with its
 * manifest entry's permissions, never this process's.
 *
 * @param entry The plugin's manifest entry.
 * @param options Pool and signal.
 * @returns The description, checked against the entry (name, roles, description).
 * @throws {PluginLoadError} When the plugin cannot be loaded, e.g. its
 * top-level code needs a permission its entry does not grant.
 * @throws {TypeError} When the process's answer is not a description of the entry's plugin.
 * @throws {ManifestError} When the entry's `description` differs from the
 * plugin's (located at the manifest's field), as when loading it in process.
 *
 * @example Flags for a built-in plugin, read in its process
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { describeIsolatedPlugin } from "./isolation.ts";
 * import assert from "node:assert/strict";
 *
 * const described = await describeIsolatedPlugin(builtinRegistry().get("udp-ping"));
 * assert.equal(described.name, "udp-ping");
 * assert.deepEqual(described.client?.positionals, ["target"]);
 * assert.equal(described.client?.params.properties?.count.default, 10);
 * ```
 */
export async function describeIsolatedPlugin(
  entry: ManifestEntry,
  options: CheckIsolatedParamsOptions = {},
): Promise<PluginDescription> {
  const result = await ask(entry, { type: "describe" }, options);
  const described = readDescription(
    entry,
    (result as { description?: unknown } | undefined)?.description,
  );
  // As when the module is loaded in process: the manifest's words must be the plugin's.
  // Imported here: its error names the manifest with Node's url and path
  // modules, which a process that only runs a role never loads.
  const { descriptionDrift } = await import("./_manifest_drift.ts");
  const drift = descriptionDrift(entry, described);
  if (drift) throw drift;
  return described;
}

/**
 * The client role's `summary(outcome)`, computed in the plugin's process:
 * the lines a command line prints for people after an isolated run.
 *
 * @param entry The plugin's manifest entry.
 * @param outcome The outcome to summarise (from {@linkcode runIsolatedClient}).
 * @param options Pool (reuse the process that ran the role) and signal.
 * @returns The summary, or `undefined` when the role has none.
 * @throws {TypeError} When the entry has no client role.
 * @throws {Error} What the plugin's `summary` threw, rebuilt.
 *
 * @example Summarising an outcome
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { summarizeIsolatedOutcome } from "./isolation.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = builtinRegistry().get("echo");
 * const outcome = {
 *   ok: true,
 *   metrics: { round_trips: 3, mismatches: 0, connections: 1, throughput_mib_s: 0.1 },
 *   facts: {},
 * };
 * assert.match((await summarizeIsolatedOutcome(echo, outcome))!, /^3 round trips/);
 * ```
 */
export async function summarizeIsolatedOutcome(
  entry: ManifestEntry,
  outcome: Outcome,
  options: CheckIsolatedParamsOptions = {},
): Promise<string | undefined> {
  if (!entry.roles.includes("client")) {
    throw new TypeError(`Cannot summarise plugin "${entry.name}": it has no client role`);
  }
  const result = await ask(entry, { type: "summary", outcome }, options);
  const summary = (result as { summary?: unknown } | undefined)?.summary;
  return typeof summary === "string" ? summary : undefined;
}

/** One request and its answer, on a process that may be busy with roles (a brief lease). */
async function ask(
  entry: ManifestEntry,
  request: DistributiveOmit<Extract<Request, { type: "check" | "describe" | "summary" }>, "id">,
  options: CheckIsolatedParamsOptions,
): Promise<Done["result"]> {
  const signal = options.signal ?? new AbortController().signal;
  const lease = leaseWorker(entry, options.pool, true);
  let clean = false;
  try {
    if (!await untilReady(lease.handle, signal)) throw signal.reason;
    // Bounded even when nobody asked: a process stuck in a busy loop (a
    // catastrophic regex in a params check) answers nothing, ever.
    using bound = createContext({ signal, timeout: BRIEF_MS });
    const done = lease.handle.call(request).done;
    const reply = await settle(lease.handle, done, DEFAULT_GRACE_MS, bound.signal);
    if (isHung(reply)) {
      const error = hung(entry, bound.signal.reason, DEFAULT_GRACE_MS, reply, request.type);
      await lease.endHung(error, reply);
      throw error;
    }
    clean = true;
    if (reply.error) throw rebuild(reply.error);
    return reply.result;
  } finally {
    await lease.done(clean);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---------------------------------------------------------------------------

// A role that outlasted its grace in a process that still answers pings…
const HUNG = Symbol("hung");
// …and one whose process answers nothing.
const STUCK = Symbol("stuck");
type Hung = typeof HUNG | typeof STUCK;

function isHung(reply: Done | Hung): reply is Hung {
  return reply === HUNG || reply === STUCK;
}

// One signal for every close: making an aborted one (and its DOMException,
// with a stack) for each service closed costs more than the close message.
const ABORTED = AbortSignal.abort();

interface Lease {
  readonly handle: WorkerHandle;
  /**
   * The role is over: keep the process warm if it ended cleanly, else end it.
   * Resolves when a process of its own (no pool) has exited.
   */
  done(clean: boolean): Promise<void>;
  /** The role ended badly: the process takes no new role, and ends with its last; resolves as `done` does. */
  end(reason: Error): Promise<void>;
  /**
   * The role outlasted its grace: a process that still answers ends with
   * its last role (`end`); one that does not ({@linkcode STUCK}) is killed
   * now, with every role it runs. Resolves as `done` does.
   */
  endHung(reason: Error, how: Hung): Promise<void>;
}

function leaseWorker(entry: ManifestEntry, pool: IsolationPool | undefined, brief = false): Lease {
  const workers = pool && inner(pool);
  const handle = workers ? workers.acquire(entry, brief) : new WorkerHandle(entry);
  let over: Promise<void> | undefined;
  // The pool awaits its processes when it closes; one of a role's own is awaited here.
  const ended = workers ? Promise.resolve() : handle.closed;
  const finish = (reason: Error) => {
    if (workers) workers.discard(handle, reason);
    else handle.terminate(reason);
  };
  return {
    handle,
    done(clean) {
      if (over) return over;
      over = ended;
      if (workers && clean) workers.release(handle);
      else finish(new Error(`Cannot run plugin "${entry.name}": its role is over`));
      return over;
    },
    end(reason) {
      if (over) return over;
      over = ended;
      finish(reason);
      return over;
    },
    endHung(reason, how) {
      if (over) return over;
      over = ended;
      if (workers && how === STUCK) workers.kill(handle, reason);
      else finish(reason);
      return over;
    },
  };
}

function graceOf(options: IsolationOptions): number {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!(graceMs >= 0) || !Number.isFinite(graceMs)) {
    throw new RangeError(`Cannot run plugin: graceMs "${graceMs}" is not a non-negative number`);
  }
  return graceMs;
}

/** Waits for the process to be ready; `false` when the signal aborts first. */
function untilReady(handle: WorkerHandle, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    handle.ready.then(() => resolve(true), reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/**
 * Waits for a reply. When the signal aborts, `onAbort` tells the process, a
 * ping asks it whether it still answers at all, and a grace period starts;
 * if it passes first, the result is {@linkcode HUNG} when the ping was
 * answered (the role ignores its abort), {@linkcode STUCK} when not (the
 * process answers nothing: a busy loop).
 */
function settle(
  handle: WorkerHandle,
  done: Promise<Done>,
  graceMs: number,
  signal: AbortSignal | undefined,
  onAbort?: () => void,
): Promise<Done | Hung> {
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined;
    const abort = () => {
      onAbort?.();
      let answered = false;
      handle.call({ type: "ping" }).done.then(() => answered = true, () => {});
      timer = startTimer(graceMs, () => resolve(answered ? HUNG : STUCK));
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
    done.then(resolve, reject).finally(() => {
      timer?.clear();
      signal?.removeEventListener("abort", abort);
    });
  });
}

function isolatedService(
  entry: ManifestEntry,
  lease: Lease,
  id: number,
  reply: Done,
  graceMs: number,
  signal: AbortSignal,
  abort: () => void,
  log: Sinks["log"],
): Service {
  const handle = lease.handle;
  const result = reply.result as { address?: unknown; facts?: unknown } | null;
  const address = checkedAddress(result?.address, entry.name);
  const facts = result?.facts === undefined ? undefined : checkedFacts(result.facts, entry.name);
  let last: Record<string, number> = {};
  let closing: Promise<void> | undefined;
  const close = async () => {
    signal.removeEventListener("abort", onAbort);
    let answer: Done | Hung;
    try {
      // An aborted signal starts the grace period at once: close may take graceMs, no more.
      const done = handle.call({ type: "close", service: id }).done;
      answer = await settle(handle, done, graceMs, ABORTED);
    } catch {
      // The process is gone already (its pool closed): its sockets went with it.
      await lease.done(false);
      return;
    }
    handle.dropSinks(id);
    if (isHung(answer)) {
      const message = answer === STUCK
        ? `Cannot close plugin "${entry.name}": its process did not answer within ${graceMs} ms, so it was killed with its connections`
        : `Cannot close plugin "${entry.name}": it did not close within ${graceMs} ms, so its process was killed with its connections`;
      // Killing it ends its connections too, but whoever closed it hears why.
      log?.("warn", message);
      await lease.endHung(new Error(message), answer);
      return;
    }
    const stats = (answer.result as { stats?: Record<string, number> } | undefined)?.stats;
    if (stats) last = stats;
    await lease.done(!answer.error);
    if (answer.error) throw rebuild(answer.error);
  };
  const onAbort = () => {
    abort();
    // Nobody awaits a close the signal started; its failure has no one to tell.
    (closing ??= close()).catch(() => {});
  };
  // Aborted while the service was starting: it closes at once, as asked.
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    address,
    ...(facts ? { facts } : {}),
    stats: () => {
      if (closing === undefined) {
        const now = handle.stats(id, STATS_WAIT_MS);
        if (now) last = now;
      }
      return { ...last };
    },
    close: () => closing ??= close(),
    // Only an end nobody asked for: close() ends the process of an unclean close too.
    ended: handle.ended.then((reason) =>
      closing === undefined ? reason : new Promise<never>(() => {})
    ),
  };
}

function failed(error: OutcomeError): Outcome {
  return { ok: false, metrics: {}, facts: {}, error };
}

function reasonOf(reason: unknown): { name: string; message: string } {
  return reason instanceof Error || reason instanceof DOMException
    ? { name: reason.name, message: reason.message }
    : { name: "AbortError", message: String(reason) };
}

function cancelled(entry: ManifestEntry, reason: unknown, when: string): OutcomeError {
  const { name, message } = reasonOf(reason);
  return { name, message: `Cannot run plugin "${entry.name}": ${message} ${when}` };
}

function hung(
  entry: ManifestEntry,
  reason: unknown,
  graceMs: number,
  how: Hung,
  brief?: "check" | "describe" | "summary",
): Error {
  const { name } = reasonOf(reason);
  const why = name === "TimeoutError" ? "its deadline passed" : "it was cancelled";
  const what = brief ? `its ${brief}` : "its run";
  const error = new Error(
    how === STUCK
      ? `Cannot run plugin "${entry.name}": its process answered nothing within ${graceMs} ms after ${why} (${what} stuck, a busy loop), so it was killed`
      : `Cannot run plugin "${entry.name}": it did not stop within ${graceMs} ms after ${why}, so its process was killed`,
    { cause: reason },
  );
  error.name = name;
  return error;
}

function permissionError(
  entry: ManifestEntry,
  denial: Denial,
  cause?: unknown,
): PluginPermissionError {
  return new PluginPermissionError({
    plugin: entry.name,
    ...denial,
    granted: entry.permissions,
    cause,
  });
}
