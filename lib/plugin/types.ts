/**
 * The plugin contract: what a protocol plugin is, what it gets (a
 * {@linkcode Context}) and what it gives back (a {@linkcode Service} for the
 * server role, an {@linkcode Outcome} for the client role).
 *
 * A plugin observes; it never judges. It returns numbers (`metrics`) and
 * facts, and fixtures decide what must hold.
 *
 * @module
 */
import type { Address } from "../transport/types.ts";
import type { ParamsSchema } from "./params_schema.ts";
import type { MetricDeclaration, OutcomeDeclaration } from "./outcome_declaration_types.ts";

export type { Address };

/** The version of this contract. A manifest entry names the one its plugin was written for. */
export const PLUGIN_API_VERSION = 1 as const;

/** Severity of a {@linkcode Context.log} line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How far a long operation has come, for progress bars. */
export interface Progress {
  /** Units done so far. */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** What is counted: `"bytes"`, `"packets"`, `"requests"`… */
  unit: string;
  /** Short label, e.g. the file name. */
  label?: string;
}

/**
 * What a plugin role receives besides its params. There are no globals:
 * everything a plugin may use comes through here, so it can run in a process.
 */
export interface Context {
  /** Aborts when the run is cancelled or its deadline passes. */
  readonly signal: AbortSignal;
  /** Absolute deadline (`Date.now()` milliseconds) for the whole role, if any. */
  readonly deadline?: number;
  /** Writes a diagnostic line (shown with `--debug`, kept in reports). */
  log(level: LogLevel, message: string): void;
  /** Reports progress of a long operation. */
  progress(update: Progress): void;
}

/** A serialisable description of an error an exchange ended with. */
export interface OutcomeError {
  /** Error class name, e.g. `"TimeoutError"`. */
  name: string;
  /** The message ("Cannot connect to 127.0.0.1:9: connection refused"). */
  message: string;
  /** The machine-readable code when the error has one (e.g. `"refused"`). */
  code?: string;
}

/**
 * What a client role observed. Metric names are snake_case with the unit as
 * suffix (`rtt_p99_ms`, `bytes_sent`, `throughput_mib_s`, `loss_pct`).
 */
export interface Outcome {
  /** `true` when the exchange completed as the protocol defines it. */
  ok: boolean;
  /** Numbers: counts, sizes, durations, rates. */
  metrics: Record<string, number>;
  /** Everything else that was seen: status codes, certificate fields, hashes… */
  facts: Record<string, unknown>;
  /** Why the exchange failed, when `ok` is `false`. */
  error?: OutcomeError;
}

/** A running server role. */
export interface Service {
  /** Where it listens (TCP/UDP host and port, or Unix path). */
  readonly address: Address;
  /** Counters so far: connections, bytes in and out… */
  stats(): Record<string, number>;
  /**
   * What the service is, fixed when it started, for people and `--json`
   * (`wiretest serve` prints them with where it listens and when it stops):
   * e.g. udp-ping's `io` (`libc` or `deno`) and, when `io: auto` fell back
   * to the runtime's sockets, `fallback` (why). Short strings by name.
   */
  readonly facts?: Readonly<Record<string, string>>;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
  /**
   * Settles with the reason when the service stopped on its own, not through
   * `close()`: an isolated plugin's process was killed (its memory limit) or
   * crashed. Absent where a service cannot end by itself (in-process).
   */
  readonly ended?: Promise<Error>;
}

/**
 * The server role of a plugin: validated params in, a running {@linkcode Service} out.
 *
 * @typeParam Params What `serve` receives (the schema's output, defaults filled in).
 * @typeParam Input What users may pass (the schema's input); `startServer` takes it.
 */
export interface ServerRole<Params = unknown, Input = unknown> {
  /** Schema of the `with:` params for this role. */
  readonly params: ParamsSchema<Params, Input>;
  /** Starts the service. */
  serve(params: Params, ctx: Context): Promise<Service>;
  /** Names of params the CLI (`wiretest serve <plugin>`) takes as positional arguments. */
  readonly positionals?: readonly string[];
  /**
   * Every counter `stats()` may return: name, unit, meaning, when present.
   * `wiretest reference` lists them.
   */
  readonly stats?: readonly MetricDeclaration[];
}

/**
 * One virtual user's state in a load run (see {@linkcode ClientRole.session}).
 */
export interface ClientSession {
  /**
   * Runs one iteration (one echo round trip, one HTTP request). A failed
   * exchange is an outcome with `ok: false`; after one the session is
   * closed and a new one opened. Metrics `bytes_sent` and `bytes_received`
   * are added to the run's bytes.
   */
  iterate(ctx: Context): Promise<Outcome>;
  /** Releases what the session holds. */
  close(): Promise<void>;
}

/**
 * The client role of a plugin: validated params in, an {@linkcode Outcome} out.
 *
 * @typeParam Params What `run` receives (the schema's output, defaults filled in).
 * @typeParam Input What users may pass (the schema's input); `runClient` takes it.
 */
export interface ClientRole<Params = unknown, Input = unknown> {
  /** Schema of the `with:` params for this role. */
  readonly params: ParamsSchema<Params, Input>;
  /**
   * Runs the exchange. It may throw on failure; callers such as
   * `runClient` turn the error into an {@linkcode Outcome} with `ok: false`.
   */
  run(params: Params, ctx: Context): Promise<Outcome>;
  /**
   * Optional, for load runs: opens what one virtual user keeps between
   * iterations (a connection, for keep-alive) and says what one iteration
   * is. Without it, `wiretest load` runs the whole `run` per iteration.
   * The session is used by one VU at a time, one iteration at a time.
   */
  session?(params: Params, ctx: Context): Promise<ClientSession>;
  /**
   * What one load iteration of the `session` hook is, in one sentence for
   * people ("one GET over the VU's keep-alive connection"); `wiretest
   * reference` prints it. Without a `session` hook an iteration is one whole
   * `run`.
   */
  readonly iteration?: string;
  /**
   * Params the `session` hook does not use (they belong to a single run:
   * echo's `count`, `connections`). A load run refuses them when they are
   * given, rather than ignore what the user asked for.
   */
  readonly loadIgnores?: readonly string[];
  /**
   * Names of params the CLI takes as positional arguments, in order
   * (e.g. `["target"]` makes `wiretest echo 127.0.0.1:7` set `target`).
   * Every other param is a `--kebab-case` flag derived from the schema.
   */
  readonly positionals?: readonly string[];
  /** One to three lines for people: what happened, in the units users expect. */
  summary?(outcome: Outcome): string;
  /**
   * Every metric and fact `run` may report: name or path, unit or type,
   * meaning, when present. `wiretest reference` lists them, and
   * `outcomeProblems` checks a real outcome against them in tests.
   */
  readonly outcome?: OutcomeDeclaration;
}

/**
 * A protocol plugin. Each role has its own params schema, because what a
 * server needs (where to listen) and what a client needs (what to send)
 * rarely overlap.
 *
 * `definePlugin` infers all four type parameters from the schemas; write
 * them out only to give an exported plugin an explicit type.
 *
 * @typeParam ServerParams What the server role's `serve` receives.
 * @typeParam ClientParams What the client role's `run` receives.
 * @typeParam ServerInput What `startServer` takes (the server schema's input).
 * @typeParam ClientInput What `runClient` takes (the client schema's input).
 */
export interface Plugin<
  ServerParams = unknown,
  ClientParams = unknown,
  ServerInput = unknown,
  ClientInput = unknown,
> {
  /** Contract version the plugin was written for. */
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /** kebab-case name, unique in a manifest (`echo`, `http-probe`). */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** One sentence: what protocol, which roles. */
  readonly description: string;
  /** The server role, if the plugin has one. */
  readonly server?: ServerRole<ServerParams, ServerInput>;
  /** The client role, if the plugin has one. */
  readonly client?: ClientRole<ClientParams, ClientInput>;
}

/** A plugin with any params, for registries and runners. */
// deno-lint-ignore no-explicit-any
export type AnyPlugin = Plugin<any, any, any, any>;
