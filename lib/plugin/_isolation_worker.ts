// Runs inside an isolated plugin's Worker. The parent starts the Worker on a
// small entry module that imports this one first, then the plugin's module,
// then calls serveIsolated(). The imports are static on purpose: a dynamic
// import() of a local file needs a read permission the plugin may not have.
// They are few on purpose too: every module here is loaded and kept by every
// Worker, so nothing that parses manifests (the registry, zod schemas of its
// own, jsonc-parser, node: modules) belongs here.
import { createContext, type OwnedContext } from "./context.ts";
import type { ManifestEntry } from "./manifest.ts";
import { validateParams } from "./params_schema.ts";
import { describeError } from "./run.ts";
import type { AnyPlugin, LogLevel, Outcome, Progress, Service } from "./types.ts";
import { pluginOf } from "./_isolation_checks.ts";
import { denialInOutcome, denialOf } from "./_isolation_denial.ts";
import { describePlugin } from "./_isolation_describe.ts";
import {
  type Denial,
  Outbox,
  rebuildError,
  type Reply,
  type Request,
  type Result,
  serializeError,
  STATS_BYTES,
  STATS_HEADER,
  StatsStatus,
} from "./_isolation_protocol.ts";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
const WorkerGlobal = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
  .WorkerGlobalScope;

let plugin: AnyPlugin | undefined;
let namespace: unknown;
let entry: ManifestEntry | undefined;
let settled = false;
const queued: Request[] = [];
const jobs = new Map<number, AbortController>();
const services = new Map<number, { service: Service; ctx: OwnedContext }>();
const statsBuffer = new SharedArrayBuffer(STATS_HEADER + STATS_BYTES);
const statsHeader = new Int32Array(statsBuffer, 0, STATS_HEADER / 4);
const statsBody = new Uint8Array(statsBuffer, STATS_HEADER);
const encoder = new TextEncoder();

// Only in a Worker: type checks and doc tests import this module too.
if (WorkerGlobal && globalThis instanceof WorkerGlobal) {
  // Errors the plugin leaves uncaught would otherwise end the Worker and be
  // printed raw; before the plugin is loaded they are its import failure.
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    uncaught((event as PromiseRejectionEvent).reason);
  });
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    const e = event as ErrorEvent;
    uncaught(e.error ?? new Error(e.message));
  });
  scope.addEventListener("message", (event) => receive((event as MessageEvent<Request>).data));
}

function receive(request: Request): void {
  if (request.type === "batch") {
    for (const message of request.messages) receive(message);
  } else if (request.type === "init") {
    entry = request.entry;
    load();
  } else if (plugin) handle(plugin, request);
  else queued.push(request);
}

const outbox = new Outbox<Reply>((message) => scope.postMessage(message));

/**
 * Sends a reply. Answers (`done`) wait for the end of this turn, to share a
 * wake-up of the parent; anything else (a log line, progress) goes at once,
 * after what is queued, as the plugin may block right after it.
 * `onCloneError` answers for a reply that cannot be cloned; without it, that
 * is reported as a stray error.
 */
function post(reply: Reply, onCloneError?: (error: unknown) => void): void {
  const onError = onCloneError ?? ((error: unknown) => {
    post({ type: "stray", error: serializeError(error) });
  });
  outbox.add(reply, onError);
  if (reply.type !== "done") outbox.flush();
}

function uncaught(reason: unknown): void {
  if (!settled) {
    settled = true;
    post({ type: "load-error", error: serializeError(reason), denial: denialOf(reason) });
  } else {
    post({ type: "stray", error: serializeError(reason) });
  }
}

/**
 * Receives the plugin module's namespace once it is imported; the plugin is
 * checked against its manifest entry when both it and the parent's `init`
 * message have arrived, whichever comes last.
 *
 * @param imported The plugin module's namespace.
 */
export function serveIsolated(imported: unknown): void {
  namespace = imported;
  load();
}

// The registry's own checks: an export that is a plugin, with the entry's
// name, roles and contract version.
function load(): void {
  if (entry === undefined || namespace === undefined || settled) return;
  try {
    plugin = pluginOf(entry, namespace);
  } catch (error) {
    settled = true;
    post({ type: "load-error", error: serializeError(error) });
    return;
  }
  settled = true;
  post({ type: "ready", stats: statsBuffer });
  for (const request of queued.splice(0)) handle(plugin, request);
}

function handle(plugin: AnyPlugin, request: Request): void {
  switch (request.type) {
    case "client":
      void runClientJob(plugin, request);
      break;
    case "serve":
      void serveJob(plugin, request);
      break;
    case "check":
      checkParams(plugin, request);
      break;
    case "describe":
      describe(plugin, request.id);
      break;
    case "summary":
      summarize(plugin, request);
      break;
    case "close":
      void closeService(request);
      break;
    case "abort":
      jobs.get(request.job)?.abort(rebuildError(request.reason));
      break;
    case "stats":
      writeStats(request);
      break;
    case "init":
    case "batch":
      // Taken care of in receive().
      break;
  }
}

function done(
  plugin: AnyPlugin,
  id: number,
  reply: { result?: Result; error?: unknown; denial?: Denial },
): void {
  const { result, error, denial } = reply;
  post({
    type: "done",
    id,
    ...(result === undefined ? {} : { result }),
    ...(error === undefined ? {} : { error: serializeError(error) }),
    ...(denial === undefined ? {} : { denial }),
  }, (cloneError) => {
    // An outcome with values structured clone cannot copy (functions, sockets).
    post({
      type: "done",
      id,
      error: serializeError(
        new TypeError(
          `Cannot send the result of plugin "${plugin.name}" out of its worker: ${
            cloneError instanceof Error ? cloneError.message : String(cloneError)
          }`,
          { cause: cloneError },
        ),
      ),
    });
  });
}

function jobContext(id: number, controller: AbortController, deadline?: number): OwnedContext {
  return createContext({
    signal: controller.signal,
    deadline,
    log: (level: LogLevel, message: string) =>
      post({ type: "log", job: id, level, message: String(message) }),
    progress: (update: Progress) =>
      post({
        type: "progress",
        job: id,
        // Only the contract's fields: anything else might not survive cloning.
        update: {
          done: Number(update.done),
          unit: String(update.unit),
          ...(update.total === undefined ? {} : { total: Number(update.total) }),
          ...(update.label === undefined ? {} : { label: String(update.label) }),
        },
      }),
  });
}

function roleError(plugin: AnyPlugin, role: "server" | "client", verb: string): TypeError {
  return new TypeError(`Cannot ${verb} plugin "${plugin.name}": it has no ${role} role`);
}

function params(plugin: AnyPlugin, role: "server" | "client", input: unknown): unknown {
  const schema = plugin[role]?.params;
  if (!schema) throw roleError(plugin, role, role === "client" ? "run" : "start");
  return validateParams(schema, input, `plugin "${plugin.name}" (${role})`);
}

function checkParams(plugin: AnyPlugin, request: Extract<Request, { type: "check" }>): void {
  if (!plugin[request.role]) {
    return done(plugin, request.id, {
      error: new TypeError(`Cannot use plugin "${plugin.name}": it has no ${request.role} role`),
    });
  }
  try {
    params(plugin, request.role, request.input);
    done(plugin, request.id, {});
  } catch (error) {
    done(plugin, request.id, { error });
  }
}

function describe(plugin: AnyPlugin, id: number): void {
  try {
    done(plugin, id, { result: { description: describePlugin(plugin) } });
  } catch (error) {
    done(plugin, id, { error });
  }
}

function summarize(plugin: AnyPlugin, request: Extract<Request, { type: "summary" }>): void {
  try {
    const summary = plugin.client?.summary?.(request.outcome);
    done(plugin, request.id, { result: summary === undefined ? {} : { summary: String(summary) } });
  } catch (error) {
    done(plugin, request.id, { error });
  }
}

async function runClientJob(
  plugin: AnyPlugin,
  request: Extract<Request, { type: "client" }>,
): Promise<void> {
  let parsed: unknown;
  try {
    parsed = params(plugin, "client", request.input);
  } catch (error) {
    return done(plugin, request.id, { error });
  }
  const controller = new AbortController();
  jobs.set(request.id, controller);
  let outcome: Outcome;
  let denial: Denial | undefined;
  try {
    using ctx = jobContext(request.id, controller, request.deadline);
    outcome = await plugin.client!.run(parsed, ctx);
  } catch (error) {
    outcome = { ok: false, metrics: {}, facts: {}, error: describeError(error) };
    denial = denialOf(error);
  } finally {
    jobs.delete(request.id);
  }
  if (denial === undefined && outcome.error) denial = denialInOutcome(outcome.error);
  done(plugin, request.id, { result: { outcome }, denial });
}

async function serveJob(
  plugin: AnyPlugin,
  request: Extract<Request, { type: "serve" }>,
): Promise<void> {
  let parsed: unknown;
  try {
    parsed = params(plugin, "server", request.input);
  } catch (error) {
    return done(plugin, request.id, { error });
  }
  const controller = new AbortController();
  jobs.set(request.id, controller);
  const ctx = jobContext(request.id, controller);
  let service: Service;
  try {
    service = await plugin.server!.serve(parsed, ctx);
  } catch (error) {
    ctx[Symbol.dispose]();
    jobs.delete(request.id);
    return done(plugin, request.id, { error, denial: denialOf(error) });
  }
  services.set(request.id, { service, ctx });
  const { address } = service;
  done(plugin, request.id, { result: { address: { ...address } } });
}

async function closeService(request: Extract<Request, { type: "close" }>): Promise<void> {
  const running = services.get(request.service);
  if (!running) return done(plugin!, request.id, { result: { stats: {} } });
  let failure: unknown;
  try {
    await running.service.close();
  } catch (error) {
    failure = error;
  } finally {
    running.ctx[Symbol.dispose]();
    jobs.delete(request.service);
    services.delete(request.service);
  }
  let stats: Record<string, number> | undefined;
  try {
    stats = running.service.stats();
  } catch {
    // A service whose counters die with it: the parent keeps its last snapshot.
  }
  done(plugin!, request.id, {
    ...(stats === undefined ? {} : { result: { stats } }),
    ...(failure === undefined ? {} : { error: failure }),
  });
}

function writeStats(request: Extract<Request, { type: "stats" }>): void {
  let status: StatsStatus = StatsStatus.Ok;
  let bytes: Uint8Array;
  try {
    const running = services.get(request.service);
    bytes = encoder.encode(JSON.stringify(running ? running.service.stats() : {}));
    if (bytes.length > STATS_BYTES) {
      status = StatsStatus.TooLarge;
      bytes = new Uint8Array(0);
    }
  } catch (error) {
    status = StatsStatus.Threw;
    bytes = encoder.encode(error instanceof Error ? error.message : String(error))
      .subarray(0, STATS_BYTES);
  }
  statsBody.set(bytes);
  Atomics.store(statsHeader, 1, bytes.length);
  Atomics.store(statsHeader, 2, status);
  // The sequence last: the parent reads the rest once it sees it.
  Atomics.store(statsHeader, 0, request.seq);
  Atomics.notify(statsHeader, 0);
}
