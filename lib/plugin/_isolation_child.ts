// Runs inside an isolated plugin's own Deno process. The host starts that
// process on a small generated main module that imports this one, then calls
// boot() with the private socket to talk on and a function that imports the
// plugin's module (a literal import(), so no read permission is needed for it
// and whatever its top-level code throws is caught and reported here).
// The imports are few on purpose: every module here is loaded by every
// plugin process, so nothing that parses manifests (the registry, zod
// schemas of its own, jsonc-parser) belongs here.
import { createContext, type OwnedContext } from "./context.ts";
import type { ManifestEntry } from "./manifest.ts";
import { validateParams } from "./params_schema.ts";
import { describeError } from "./run.ts";
import type { AnyPlugin, LogLevel, Outcome, Progress, Service } from "./types.ts";
import { pluginOf } from "./_isolation_checks.ts";
import { ParamsCache } from "./_isolation_params_cache.ts";
import { denialInOutcome, denialOf } from "./_isolation_denial.ts";
import { describePlugin } from "./_isolation_describe.ts";
import { chunksOf, encodeFrame, FrameWriter, readFrames } from "./_isolation_frames.ts";
import {
  type Denial,
  type LoadEvent,
  Outbox,
  rebuildError,
  type Reply,
  type Request,
  type Result,
  serializeError,
  STATS_BYTES,
  StatsStatus,
} from "./_isolation_protocol.ts";

/** What the host writes into the generated main module. */
export interface BootConfig {
  /** The Unix socket the host listens on, in a directory only it can list. */
  socket: string;
  /**
   * The Unix socket the host's stats Worker listens on, for `stats()` alone;
   * connected on the first `serve` (the host starts that bridge Worker for it).
   */
  stats: string;
  /** Sent first, so the host knows the connection is its own process's. */
  token: string;
}

let plugin: AnyPlugin | undefined;
let namespace: unknown;
let entry: ManifestEntry | undefined;
let settled = false;
const queued: Request[] = [];
const jobs = new Map<number, AbortController>();
const services = new Map<number, { service: Service; ctx: OwnedContext }>();
const encoder = new TextEncoder();
// A prepared role's params come again with each of its runs: parsed once.
const parsedParams = new ParamsCache();
let writer: FrameWriter | undefined;
let statsWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
let statsConnecting: Promise<void> | undefined;
let boot_: BootConfig | undefined;
let loadEngine: (() => Promise<unknown>) | undefined;

/** What the load engine's module (lib/load/plugin_process_load.ts) exports for this process. */
interface LoadEngine {
  runPluginLoad(
    plugin: AnyPlugin,
    input: unknown,
    plan: unknown,
    options: { signal: AbortSignal; gracefulStopMs?: number; onEvent(event: LoadEvent): void },
  ): Promise<unknown>;
}

// Before any plugin code runs: the path of the runtime's executable tells
// where wiretest is installed, and Deno gives it without a permission. A
// plain name, as Node's compatibility layer reads it at import.
Object.defineProperty(Deno, "execPath", { value: (): string => "deno" });

/**
 * Connects to the host, imports the plugin and serves the host's requests
 * until the host closes the connection, then exits.
 *
 * @param config The socket and the token.
 * @param load Imports the plugin's module.
 * @param engine Imports the load engine (lib/load's), when a load run asks for it.
 */
export async function boot(
  config: BootConfig,
  load: () => Promise<unknown>,
  engine?: () => Promise<unknown>,
): Promise<void> {
  loadEngine = engine;
  boot_ = config;
  // Ctrl-C on a terminal signals the whole process group, this process too;
  // the host decides when it ends (it closes the socket, or kills it), so a
  // service still closes cleanly and reports its stats.
  Deno.addSignalListener("SIGINT", () => {});
  // Errors the plugin leaves uncaught would otherwise end the process and be
  // printed raw; before the plugin is loaded they are its import failure.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    uncaught(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    uncaught(event.error ?? new Error(event.message));
  });
  // The plugin's module loads while the connection is made; what it throws
  // is reported once it is.
  const importing = load().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const conn = await connect(config.socket);
  writer = new FrameWriter(conn);
  writer.write(encodeFrame({ type: "hello", token: config.token }));
  void serve(conn);
  const imported = await importing;
  if ("error" in imported) return uncaught(imported.error);
  serveIsolated(imported.value);
}

/**
 * The stats connection, made for the first service: the host starts its
 * stats Worker when it asks for one (a client role never needs it), and a
 * service's `stats()` may be asked for as soon as it is running.
 */
function statsConnected(): Promise<void> {
  return statsConnecting ??= (async () => {
    const statsConn = await connect(boot_!.stats);
    statsWriter = statsConn.writable.getWriter();
    void statsWriter.write(encodeFrame({ type: "hello", token: boot_!.token })).catch(() => {});
    void serve(statsConn);
  })();
}

/** Connects, retrying while the host's side is still starting (up to 10 s). */
async function connect(path: string): Promise<Deno.UnixConn> {
  for (let attempt = 0;; attempt++) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (error) {
      if (attempt >= 1_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** Reads the host's requests; the host closing either connection ends this process. */
async function serve(conn: Deno.UnixConn): Promise<void> {
  try {
    for await (const request of readFrames(chunksOf(conn))) receive(request as Request);
  } catch {
    // A broken connection: the host is gone.
  }
  Deno.exit(0);
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

const outbox = new Outbox<Reply>((message) => {
  // Encoding throws for what cannot be cloned: the Outbox sends that one alone.
  const frame = encodeFrame(message);
  writer?.write(frame);
});

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
  post({ type: "ready" });
  for (const request of queued.splice(0)) handle(plugin, request);
}

function handle(plugin: AnyPlugin, request: Request): void {
  switch (request.type) {
    case "client":
      void runClientJob(plugin, request);
      break;
    case "load":
      void loadJob(plugin, request);
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
    case "ping":
      done(plugin, request.id, {});
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
          `Cannot send the result of plugin "${plugin.name}" out of its process: ${
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
  return parsedParams.parse(
    role,
    input,
    (raw) => validateParams(schema, raw, `plugin "${plugin.name}" (${role})`),
  );
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

/**
 * A whole load run, VU loop included, in this process: one message in, one
 * report out, and a message a second (progress, the second's histograms),
 * not a round trip to the host per iteration. The load engine is imported
 * only when a load is asked for (every plugin process loads this module),
 * by the main module the host writes: lib/load sits above this layer.
 */
async function loadJob(
  plugin: AnyPlugin,
  request: Extract<Request, { type: "load" }>,
): Promise<void> {
  const controller = new AbortController();
  jobs.set(request.id, controller);
  try {
    if (loadEngine === undefined) throw new TypeError("Cannot run load: no load engine here");
    const { runPluginLoad } = await loadEngine() as LoadEngine;
    const job = request.id;
    const report = await runPluginLoad(plugin, request.input, request.plan, {
      signal: controller.signal,
      ...(request.gracefulStopMs === undefined ? {} : { gracefulStopMs: request.gracefulStopMs }),
      onEvent: (event) => post({ type: "load", job, event }),
    });
    done(plugin, request.id, { result: { report } });
  } catch (error) {
    done(plugin, request.id, { error, denial: denialOf(error) });
  } finally {
    jobs.delete(request.id);
  }
}

async function serveJob(
  plugin: AnyPlugin,
  request: Extract<Request, { type: "serve" }>,
): Promise<void> {
  let parsed: unknown;
  try {
    parsed = params(plugin, "server", request.input);
    await statsConnected();
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
  const { address, facts } = service;
  done(plugin, request.id, {
    result: { address: { ...address }, ...(facts ? { facts: { ...facts } } : {}) },
  });
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
  let text: string;
  try {
    const running = services.get(request.service);
    text = JSON.stringify(running ? running.service.stats() : {});
    if (encoder.encode(text).length > STATS_BYTES) {
      status = StatsStatus.TooLarge;
      text = "";
    }
  } catch (error) {
    status = StatsStatus.Threw;
    text = (error instanceof Error ? error.message : String(error)).slice(0, STATS_BYTES / 4);
  }
  // On the stats socket: the host's main thread is waiting, not reading its own.
  const frame = encodeFrame({ type: "stats", seq: request.seq, status, text } satisfies Reply);
  void statsWriter?.write(frame).catch(() => {});
}
