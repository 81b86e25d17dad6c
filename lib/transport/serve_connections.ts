/**
 * {@linkcode serveConnections}: the one accept loop every stream server uses
 * (back-off when out of file descriptors, a connection cap, idle and
 * per-connection deadlines, a bounded shutdown).
 *
 * @module
 */
import { ForwardingConn } from "./forwarding_conn.ts";
import { pause } from "../_internal/pause.ts";
import type { Address, Conn, IoOptions, Listener } from "./types.ts";

/** Why {@linkcode serveConnections} closed a connection itself. */
export type ServedCloseReason = "idle" | "deadline" | "shutdown";

/** What a connection handler gets besides the connection. */
export interface ServedConnection {
  /**
   * Aborts when the server starts closing. A handler that should end at
   * once closes its connection on it; one that should finish what it is
   * doing (an answer in progress) may, within `drainTimeout`.
   */
  readonly signal: AbortSignal;
  /** Set when the server closed the connection itself, before it closes it. */
  readonly closeReason: ServedCloseReason | undefined;
  /**
   * Counts as activity for the idle timeout. Every read and write started
   * counts already; `until` (a `performance.now()` time) covers a wait of the
   * server's own making, which is not the peer's silence.
   */
  touch(until?: number): void;
  /**
   * Waits `ms` milliseconds, or less when the server closes: a wait of the
   * server's own making (a configured delay), which does not count as the
   * peer's silence for the idle timeout.
   */
  pause(ms: number): Promise<void>;
  /**
   * Closes the connection (reason `"deadline"`) unless it ends or this is
   * called again within `ms` milliseconds; `undefined` clears it. For
   * limits on one phase, e.g. a request head that must arrive whole.
   * `precisionMs` (default `ms`) is the limit the check's accuracy is
   * relative to (it runs every quarter of it, 10 ms to 1 s): a deadline
   * moved often and sometimes close, as a minimum data rate's, passes the
   * rate's window so the check stays cheap.
   */
  setDeadline(ms: number | undefined, precisionMs?: number): void;
}

/** Handles one accepted connection; the connection is closed once it settles. */
export type ConnectionHandler = (conn: Conn, connection: ServedConnection) => Promise<void>;

/** Options for {@linkcode serveConnections}. */
export interface ServeConnectionsOptions {
  /** Refuse (accept and close at once) connections beyond this many open. Default: no cap. */
  maxConnections?: number;
  /** Close a connection with no read or write started for this many milliseconds; 0 or absent: never. */
  idleTimeout?: number;
  /** Aborting it closes the server, as `close()` does. */
  signal?: AbortSignal;
  /**
   * Milliseconds `close()` lets handlers finish after aborting their
   * signal, before it closes their connections (default 5000; 0 closes
   * them at once).
   */
  drainTimeout?: number;
  /**
   * Called when an accept fails for a reason that is not one client's
   * (e.g. out of file descriptors), with how many failed in a row: log at 1
   * and a run of failures says so once.
   */
  onAcceptError?: (error: Error, failures: number) => void;
  /** Called when a handler rejects (the connection is closed either way). */
  onHandlerError?: (error: unknown) => void;
}

/** Counters of a {@linkcode ConnectionServer}. */
export interface ConnectionStats {
  /** Connections accepted, refused ones included. */
  accepted: number;
  /** Open now. */
  active: number;
  /** Refused over `maxConnections`. */
  rejected: number;
  /** Closed by the idle timeout. */
  idle_closed: number;
  /** Closed by a deadline set with `setDeadline`. */
  deadline_closed: number;
  /** Accepts that failed (a failed TLS handshake included). */
  accept_errors: number;
  /** Handlers that rejected. */
  handler_errors: number;
}

/** What `close()` of a {@linkcode ConnectionServer} reports. */
export interface CloseReport {
  /** Connections still open after `drainTimeout`, closed by force. */
  aborted: number;
}

/** A running accept loop. */
export interface ConnectionServer {
  /** The listener's address. */
  readonly addr: Address;
  /** Counters so far. */
  stats(): ConnectionStats;
  /**
   * Stops accepting, aborts the handlers' signal, waits up to
   * `drainTimeout` for them, closes the connections still open and resolves
   * once every handler has settled. Idempotent.
   */
  close(): Promise<CloseReport>;
}

// Back-off after an accept failure that is not one client's fault: out of
// file descriptors lasts until connections end, so retrying in a tight loop
// only burns CPU; the cap keeps the wait short once they have.
const BACKOFF_START_MS = 10;
const BACKOFF_MAX_MS = 500;
const DEFAULT_DRAIN_MS = 5000;
// Failures that concern one client only: retry the next at once.
const CLIENT_CODES = new Set(["tls", "reset", "aborted", "broken-pipe"]);

/**
 * Accepts connections from `listener` and runs `handler` on each, until
 * `close()` or `signal`. Accept failures that are not one client's fault
 * (EMFILE, ENFILE…) back off from 10 ms up to 500 ms and never end the loop;
 * connections beyond `maxConnections` are closed as soon as accepted; a
 * connection with no read or write started for `idleTimeout` ms, or past a
 * deadline its handler set, is closed.
 *
 * @param listener A listener from `listenTcp`, `listenTls` or `listenUnix`; it is closed by `close()`.
 * @param handler Serves one connection; the connection is closed when it settles.
 * @param options Cap, idle timeout, signal, drain bound, error hooks.
 * @returns The running server.
 * @throws {RangeError} When `maxConnections`, `idleTimeout` or `drainTimeout` is out of range.
 *
 * @example An upper-casing server, capped at one connection
 * ```ts
 * import { connectTcp, listenTcp, serveConnections } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const server = serveConnections(listenTcp(), async (conn) => {
 *   const buf = new Uint8Array(64);
 *   let n: number | null;
 *   while ((n = await conn.read(buf)) !== null) {
 *     await conn.write(new TextEncoder().encode(new TextDecoder().decode(buf.subarray(0, n)).toUpperCase()));
 *   }
 * }, { maxConnections: 1, idleTimeout: 10_000, drainTimeout: 100 });
 * const port = (server.addr as Deno.NetAddr).port;
 * using first = await connectTcp({ port });
 * await first.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * assert.equal(await first.read(buf, { timeout: 2000 }), 2);
 * assert.equal(new TextDecoder().decode(buf), "HI");
 * using second = await connectTcp({ port });
 * assert.equal(await second.read(buf, { timeout: 2000 }), null); // refused: over the cap
 * const report = await server.close();
 * assert.equal(server.stats().rejected, 1);
 * assert.equal(report.aborted, 1); // the first handler was still reading after 100 ms
 * ```
 */
export function serveConnections(
  listener: Listener,
  handler: ConnectionHandler,
  options: ServeConnectionsOptions = {},
): ConnectionServer {
  const max = checkLimit(options.maxConnections, "maxConnections", 1);
  const idle = checkLimit(options.idleTimeout, "idleTimeout", 0) ?? 0;
  const drain = checkLimit(options.drainTimeout, "drainTimeout", 0) ?? DEFAULT_DRAIN_MS;
  const stats: ConnectionStats = {
    accepted: 0,
    active: 0,
    rejected: 0,
    idle_closed: 0,
    deadline_closed: 0,
    accept_errors: 0,
    handler_errors: 0,
  };
  const sessions = new Set<Session>();
  const tasks = new Set<Promise<void>>();
  const shutdown = new AbortController();
  const sweeper = new Sweeper(sessions, idle, stats);

  const serveOne = async (session: Session) => {
    try {
      await handler(session.conn, session);
    } catch (error) {
      // A connection closed on purpose fails its pending read: not an error.
      if (session.closeReason === undefined) {
        stats.handler_errors++;
        options.onHandlerError?.(error);
      }
    } finally {
      session.conn.close();
      sessions.delete(session);
      stats.active--;
    }
  };

  const accepting = (async () => {
    let failures = 0;
    while (!shutdown.signal.aborted) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (shutdown.signal.aborted) return;
        const code = (error as { code?: string }).code;
        if (code === "closed") return; // the listener was closed under us
        stats.accept_errors++;
        if (CLIENT_CODES.has(code ?? "")) continue;
        failures++;
        options.onAcceptError?.(error as Error, failures);
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (failures - 1));
        await pause(wait, shutdown.signal);
        continue;
      }
      failures = 0;
      if (shutdown.signal.aborted) {
        conn.close();
        return;
      }
      stats.accepted++;
      if (max !== undefined && stats.active >= max) {
        stats.rejected++;
        conn.close();
        continue;
      }
      stats.active++;
      const session = new Session(conn, shutdown.signal, sweeper);
      sessions.add(session);
      const task = serveOne(session);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  let closed: Promise<CloseReport> | undefined;
  const close = () =>
    closed ??= (async () => {
      options.signal?.removeEventListener("abort", onAbort);
      shutdown.abort();
      listener.close();
      await accepting;
      if (tasks.size > 0 && drain > 0) {
        const drained = new AbortController();
        await Promise.race([
          Promise.allSettled([...tasks]).then(() => drained.abort()),
          pause(drain, drained.signal),
        ]);
        drained.abort();
      }
      let aborted = 0;
      for (const session of sessions) {
        if (session.closeReason !== undefined) continue;
        aborted++;
        session.closeReason = "shutdown";
        session.conn.close();
      }
      sweeper.stop();
      await Promise.allSettled([...tasks]);
      return { aborted };
    })();
  const onAbort = () => void close();
  if (options.signal?.aborted) void close();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return { addr: listener.addr, stats: () => ({ ...stats }), close };
}

function checkLimit(value: number | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot serve connections: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
  return value;
}

/** One connection: the handler's view of it and the sweeper's. */
class Session implements ServedConnection {
  readonly conn: TrackedConn;
  readonly signal: AbortSignal;
  closeReason: ServedCloseReason | undefined;
  /** `performance.now()` until which the connection is not idle. */
  lastActive = performance.now();
  /** `performance.now()` at which it is closed, if set. */
  deadline: number | undefined;
  #sweeper: Sweeper;

  constructor(conn: Conn, signal: AbortSignal, sweeper: Sweeper) {
    this.conn = new TrackedConn(conn, this);
    this.signal = signal;
    this.#sweeper = sweeper;
  }

  touch(until?: number): void {
    this.lastActive = Math.max(this.lastActive, until ?? performance.now());
  }

  pause(ms: number): Promise<void> {
    this.touch(performance.now() + ms);
    return pause(ms, this.signal);
  }

  setDeadline(ms: number | undefined, precisionMs: number = ms ?? 0): void {
    if (ms === undefined) {
      this.deadline = undefined;
      return;
    }
    if (!(ms >= 0)) {
      throw new RangeError(`Cannot set connection deadline: ${ms} ms is not a duration`);
    }
    this.deadline = performance.now() + ms;
    this.#sweeper.watch(precisionMs);
  }
}

// One timer for the whole server rather than one per read: a read with a
// timeout costs a timer and a copy, on the hottest path there is.
class Sweeper {
  #sessions: Set<Session>;
  #idle: number;
  #stats: ConnectionStats;
  #period = Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(sessions: Set<Session>, idle: number, stats: ConnectionStats) {
    this.#sessions = sessions;
    this.#idle = idle;
    this.#stats = stats;
    if (idle > 0) this.watch(idle);
  }

  /** Makes sure a limit of `ms` is checked often enough (a quarter of it, 10 ms to 1 s). */
  watch(ms: number): void {
    const period = Math.min(1000, Math.max(10, ms / 4));
    if (this.#stopped || period >= this.#period) return;
    this.#period = period;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sweep(), period);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = performance.now();
    for (const session of this.#sessions) {
      if (session.closeReason !== undefined) continue;
      const reason = this.#idle > 0 && now - session.lastActive >= this.#idle
        ? "idle"
        : session.deadline !== undefined && now >= session.deadline
        ? "deadline"
        : undefined;
      if (reason === undefined) continue;
      session.closeReason = reason;
      if (reason === "idle") this.#stats.idle_closed++;
      else this.#stats.deadline_closed++;
      session.conn.close();
    }
  }
}

/** A connection whose reads and writes count as activity. */
class TrackedConn extends ForwardingConn {
  #session: Session;

  constructor(conn: Conn, session: Session) {
    super(conn);
    this.#session = session;
  }

  // Marked when an operation starts, not when it ends: no promise of our
  // own on the hottest path there is. A read that waits long for a silent
  // peer, or a write that a peer does not drain, is what idle means.
  override read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    this.#session.touch();
    return this.inner.read(buffer, options);
  }

  override write(data: Uint8Array, options?: IoOptions): Promise<void> {
    this.#session.touch();
    return this.inner.write(data, options);
  }
}
