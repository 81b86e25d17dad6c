// The messages between an isolated plugin's process and the host, and how
// errors cross that boundary: as plain data, rebuilt into typed errors on the
// host's side (structured clone would keep only `message` of most errors).
// They travel host → bridge Worker → plugin process and back; the bridge
// answers `stats` itself through a shared buffer and adds its own replies
// (`output`, `exited`).
import {
  ConnectionError,
  type ConnectionErrorCode,
  PermissionDeniedError,
  TimeoutError,
} from "../errors.ts";
import { ParamsError, type ParamsIssue } from "./params_schema.ts";
import type { ManifestEntry } from "./manifest.ts";
import type { Address, LogLevel, Outcome, Progress } from "./types.ts";
import type { PluginDescription } from "./_isolation_describe.ts";

/** A permission the process's grant did not cover, as Deno reported it. */
export interface Denial {
  /** Deno's permission name: `"net"`, `"read"`, `"write"`, `"env"`, `"sys"`, `"run"`, `"ffi"`, `"import"`. */
  permission: string;
  /** What was asked for (`"127.0.0.2:80"`, `"/etc/hosts"`), when Deno said. */
  target?: string;
  /** The operation, when the error said (`"connect"`). */
  operation?: string;
  /** Deno's whole message, when it could not be read. */
  detail?: string;
}

/** An error as plain data. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** Set when the error was a `DOMException` (abort reasons). */
  dom?: boolean;
  issues?: ParamsIssue[];
  operation?: string;
  address?: string;
  timeoutMs?: number;
  source?: string;
  plugin?: string;
  module?: string;
  /** Other own fields with primitive values (e.g. a protocol error's `status`). */
  fields?: Record<string, string | number | boolean>;
  cause?: ErrorData;
}

/** Parent → plugin process. */
export type Request =
  | { type: "init"; entry: ManifestEntry }
  | { type: "client"; id: number; input: unknown; deadline?: number }
  | { type: "load"; id: number; input: unknown; plan: unknown; gracefulStopMs?: number }
  | { type: "serve"; id: number; input: unknown }
  | { type: "check"; id: number; role: "server" | "client"; input: unknown }
  | { type: "describe"; id: number }
  | { type: "summary"; id: number; outcome: Outcome }
  | { type: "close"; id: number; service: number }
  // Answered at once: a process that cannot is stuck (a busy loop).
  | { type: "ping"; id: number }
  | { type: "abort"; job: number; reason: ErrorData }
  | { type: "stats"; service: number; seq: number }
  | { type: "batch"; messages: Request[] };

/** What a finished request carries back. */
export type Result =
  | { outcome: Outcome }
  | { address: Address; facts?: Record<string, string> }
  | { stats: Record<string, number> }
  | { description: PluginDescription }
  | { report: unknown }
  | { summary?: string }
  | Record<string, never>;

/** Plugin process (through the bridge) → host. */
export type Reply =
  | { type: "ready" }
  | { type: "stats"; seq: number; status: StatsStatus; text: string }
  | { type: "output"; stream: "stdout" | "stderr"; line: string }
  | { type: "exited"; code: number; signal: string | null; memory?: MemoryExceeded; stderr: string }
  | { type: "load-error"; error: ErrorData; denial?: Denial }
  | { type: "log"; job: number; level: LogLevel; message: string }
  | { type: "progress"; job: number; update: Progress }
  | { type: "load"; job: number; event: LoadEvent }
  | { type: "stray"; error: ErrorData }
  | { type: "done"; id: number; result?: Result; error?: ErrorData; denial?: Denial }
  | { type: "batch"; messages: Reply[] };

/**
 * What a load run in a plugin's process tells the host as it goes: the
 * live line's figures each second, and each second's histograms (for an
 * interval log). Typed where they are made (lib/load); plain data here.
 */
export type LoadEvent =
  | { kind: "progress"; progress: unknown }
  | { kind: "interval"; interval: unknown };

/** Why a plugin's process was ended for its memory. */
export interface MemoryExceeded {
  /** The ceiling, MiB. */
  limitMiB: number;
  /** `"rss"`: the host's watchdog killed it; `"heap"`: V8 ran out of heap. */
  kind: "rss" | "heap";
  /** Resident memory last seen, MiB. */
  rssMiB?: number;
}

/**
 * Messages for the other side, sent together at the end of the current turn:
 * waking the other thread costs more than a message (a tenth of a
 * millisecond on a small VM), and roles started or finished in the same turn
 * (a fixture's params checks, steps of fixtures running at once) then share
 * one wake-up. A message that cannot be cloned fails alone, through its
 * `onError`.
 */
export class Outbox<T> {
  #queue: { message: T; onError: (error: unknown) => void }[] = [];
  #post: (message: T | { type: "batch"; messages: T[] }) => void;

  constructor(post: (message: T | { type: "batch"; messages: T[] }) => void) {
    this.#post = post;
  }

  /** Queues a message; the first one of a turn schedules the flush. */
  add(message: T, onError: (error: unknown) => void): void {
    if (this.#queue.push({ message, onError }) === 1) queueMicrotask(() => this.flush());
  }

  /** Sends what is queued now (before a message that must not wait, or be overtaken). */
  flush(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    if (queue.length > 1) {
      try {
        return this.#post({ type: "batch", messages: queue.map((q) => q.message) });
      } catch {
        // Some message cannot be cloned: send them one by one to find it.
      }
    }
    for (const { message, onError } of queue) {
      try {
        this.#post(message);
      } catch (error) {
        onError(error);
      }
    }
  }
}

/** Bytes for one stats snapshot as JSON; a handful of counters needs far less. */
export const STATS_BYTES = 64 * 1024;
/** Header of the stats buffer, Int32s: [0] sequence answered, [1] byte length, [2] status. */
export const STATS_HEADER = 16;

/** How a stats request went. */
export const StatsStatus = { Ok: 0, TooLarge: 1, Threw: 2 } as const;
/** One of {@linkcode StatsStatus}. */
export type StatsStatus = typeof StatsStatus[keyof typeof StatsStatus];

const MAX_CAUSES = 4;

/**
 * Describes an error as plain data, keeping the fields wiretest's typed
 * errors carry. Plugins may use another copy of wiretest (one from JSR, say),
 * so the type is read from `name` and fields, not `instanceof`.
 */
export function serializeError(error: unknown, depth = 0): ErrorData {
  if (!(error instanceof Error) && !(error instanceof DOMException)) {
    return { name: "Error", message: String(error) };
  }
  const data: ErrorData = { name: error.name, message: error.message };
  // A ParamsError is about the input, not the code, and it is the common
  // answer to a params check: formatting its stack would cost more than the check.
  if (error.name !== "ParamsError" && typeof error.stack === "string") data.stack = error.stack;
  if (error instanceof DOMException) data.dom = true;
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    if (key === "issues" && Array.isArray(value)) {
      data.issues = value.map((i) => ({
        path: Array.isArray(i?.path) ? i.path : [],
        message: String(i?.message),
        ...(i?.code === "unknown_param" || i?.code === "missing_param" ? { code: i.code } : {}),
        ...(typeof i?.suggestion === "string" ? { suggestion: i.suggestion } : {}),
      }));
    } else if (KNOWN_FIELDS.has(key)) {
      if (typeof value === "string" || typeof value === "number") {
        (data as unknown as Record<string, unknown>)[key] = value;
      }
    } else if (["string", "number", "boolean"].includes(typeof value)) {
      fields[key] = value as string | number | boolean;
    }
  }
  if (Object.keys(fields).length > 0) data.fields = fields;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSES) data.cause = serializeError(cause, depth + 1);
  return data;
}

const KNOWN_FIELDS = new Set([
  "code",
  "operation",
  "address",
  "timeoutMs",
  "source",
  "plugin",
  "module",
]);

/** Builds an error of a type this module does not import, or `undefined` to leave it to it. */
export type ErrorBuilder = (data: ErrorData, cause: Error | undefined) => Error | undefined;

/**
 * Rebuilds a typed error from {@linkcode serializeError}'s data: wiretest's
 * own errors, `ParamsError`, the built-in error types and `DOMException`s
 * come back as themselves, and so do the types `extra` builds (the parent
 * adds `PluginLoadError`, which the process does not import); anything else is
 * an `Error` with the same name, message, code and primitive fields. The
 * message and the process's stack are kept exactly.
 */
export function rebuildError(data: ErrorData, extra?: ErrorBuilder): Error {
  const cause = data.cause ? rebuildError(data.cause, extra) : undefined;
  const error = extra?.(data, cause) ?? construct(data, cause);
  // Typed constructors compose their own message; keep the one that was thrown.
  if (error.message !== data.message) error.message = data.message;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

function construct(data: ErrorData, cause: Error | undefined): Error {
  const { operation, address } = data;
  const located = typeof operation === "string" && typeof address === "string";
  if (data.dom) return new DOMException(data.message, data.name) as unknown as Error;
  switch (data.name) {
    case "ParamsError":
      return new ParamsError(data.message, { issues: data.issues ?? [], cause });
    case "TimeoutError":
      if (located && typeof data.timeoutMs === "number") {
        return new TimeoutError({ operation, address, timeoutMs: data.timeoutMs, cause });
      }
      break;
    case "ConnectionError":
      if (located && typeof data.code === "string") {
        return new ConnectionError({
          code: data.code as ConnectionErrorCode,
          operation,
          address,
          detail: data.message,
          cause,
        });
      }
      break;
    case "PermissionDeniedError":
      if (located) {
        const source = data.source === "os" ? "os" : "runtime";
        return new PermissionDeniedError({ operation, address, source, cause });
      }
      break;
    case "TypeError":
      return new TypeError(data.message, { cause });
    case "RangeError":
      return new RangeError(data.message, { cause });
    case "SyntaxError":
      return new SyntaxError(data.message, { cause });
  }
  const error = new Error(data.message, { cause });
  error.name = data.name;
  Object.assign(error, data.fields, data.code === undefined ? {} : { code: data.code });
  return error;
}
