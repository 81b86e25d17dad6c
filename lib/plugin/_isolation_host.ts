// The host's side of an isolated plugin: one Deno process per handle,
// started from this thread with exactly the manifest entry's grants as
// flags, heard on its stdout/stderr and watched for memory here, spoken to
// from here (_isolation_channel.ts), with a bridge Worker for `stats()`
// alone (_isolation_bridge.ts); and a pool that keeps started processes
// warm between roles.
import type { ManifestEntry, PluginPermissions } from "./manifest.ts";
import { PluginLoadError } from "./_plugin_load_error.ts";
import type { LogLevel, Progress } from "./types.ts";
import { apiVersionProblem } from "./_isolation_checks.ts";
import { denialDetail, missingInParent } from "./_isolation_denial.ts";
import type { BridgeConfig, BridgeReply } from "./_isolation_bridge.ts";
import { loadedFrames, loadFrames, PluginChannel } from "./_isolation_channel.ts";
import { type ImportRefusal, preflight, type PreflightOptions } from "./_isolation_preflight.ts";
import { ProcessOutput, residentMiB } from "./_isolation_output.ts";
import { PluginMemoryError } from "./_plugin_memory_error.ts";
import { parentDeathLauncher } from "./_parent_death.ts";
import { libcPath } from "../_internal/libc_path.ts";
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

// Resolved against this module, so they are file: URLs in a checkout and
// https: URLs when wiretest is imported from JSR.
const RUNTIME_URL = new URL("./_isolation_child.ts", import.meta.url).href;
// Imported by a plugin's process only when it runs a load (see _isolation_child.ts).
const LOAD_ENGINE_URL = new URL("../load/plugin_process_load.ts", import.meta.url).href;
const BRIDGE_URL = new URL("./_isolation_bridge.ts", import.meta.url).href;
const ROOT = new URL("../../", import.meta.url);
/** wiretest's own code: a plugin may import it whatever it is granted. */
const TRUSTED = [`${ROOT.href}lib/`, `${ROOT.href}plugins/`, `${ROOT.href}mod.ts`];
/** The built-in manifest: the one whose `ffi` grants are honoured without being trusted. */
export const BUILTIN_MANIFEST = `${ROOT.href}plugins/manifest.json`;

/** The memory ceiling of a plugin's process by default, MiB. */
export const DEFAULT_MEMORY_MIB = 512;
/** Bytes of a plugin process's stdout and stderr shown as its log; the rest is dropped. */
export const OUTPUT_BYTES = 1024 * 1024;
// Lines of output kept while no role of the plugin is running to show them.
const HELD_LINES = 200;
// How often a plugin process's resident memory is read.
const WATCH_MS = 100;

// Entries whose module graph passed the import check, by keyOf().
const checked = new Set<string>();

// Private folders of plugin processes: their main module and request socket
// are removed when the process is ready; the folder itself (where the stats
// socket is made for the first service) when the stats connection is made
// or the process ends, and when this process exits before that.
const folders = new Set<string>();
function removeFolder(dir: string): void {
  if (!folders.delete(dir)) return;
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // Removed already.
  }
}
/** The private folders of plugin processes still on disk (for tests). */
export function pendingFolders(): string[] {
  return [...folders];
}
globalThis.addEventListener("unload", () => {
  for (const dir of [...folders]) removeFolder(dir);
});

/** Where a role's log lines and progress go. */
export interface Sinks {
  log?: (level: LogLevel, message: string) => void;
  progress?: (update: Progress) => void;
  /** A load run's events (progress each second, interval histograms). */
  load?: (event: LoadEvent) => void;
}

/** A finished request. */
export type Done = Extract<Reply, { type: "done" }>;

/** Options for a plugin's process. */
export interface ProcessOptions {
  /** Memory ceiling, MiB (V8 heap and resident memory). */
  memoryMiB?: number;
  /** V8 heap ceiling, MiB, when lower than `memoryMiB`. */
  heapMiB?: number;
  /** Manifest URLs besides the built-in one whose `ffi` grants are honoured. */
  trustFfi?: readonly string[];
}

/** What an entry's `ffi: ["libc"]` gives its process here. */
export interface FfiGrant {
  /** libc's real path, to `--allow-ffi`. */
  libc: string;
  /** Read access to wiretest's own code, which Deno wants for a Worker's modules. */
  read: string[];
}

/**
 * The FFI grant an entry's process gets: libc's real path when the entry
 * asks for it, this process has FFI for that path (`--no-ffi` revokes it),
 * and the platform has one; `undefined` otherwise (its plugin then uses
 * the runtime's sockets and says so).
 *
 * @throws {PluginLoadError} When a manifest that is neither built-in nor
 * trusted asks for FFI.
 */
export function ffiGrant(
  entry: ManifestEntry,
  trustFfi: readonly string[] = [],
): FfiGrant | undefined {
  const ffi = entry.permissions.ffi;
  if (!Array.isArray(ffi) || ffi.length === 0) return undefined;
  if (entry.source !== BUILTIN_MANIFEST && !trustFfi.includes(entry.source)) {
    throw new PluginLoadError(
      entry,
      `its manifest entry grants ffi ("libc"): native code escapes every Deno permission, so only wiretest's built-in plugins get it unless the host trusts the manifest for it (--trust-ffi, IsolationPoolOptions.trustFfi), or runs it with --no-isolation`,
    );
  }
  const libc = libcPath();
  if (libc === undefined) return undefined;
  if (Deno.permissions.querySync({ name: "ffi", path: libc }).state !== "granted") return undefined;
  // Deno checks read access to every module a Worker loads from a file.
  const read = ROOT.protocol === "file:"
    ? [
      decodeURIComponent(new URL("lib", ROOT).pathname),
      decodeURIComponent(new URL("plugins", ROOT).pathname),
    ]
    : [];
  return { libc, read };
}

function absolute(path: string): string {
  if (path.startsWith("/")) return path;
  return `${Deno.cwd()}/${path}`.replace(/\/\.?(?=\/|$)/g, "");
}

function list(
  value: boolean | readonly string[] | undefined,
  map = (s: string) => s,
): true | string[] {
  return value === true ? true : (value || []).map(map);
}

/** `--allow-import`: the entry's net hosts only, never Deno's default list. */
function importArgs(permissions: PluginPermissions): string[] {
  const net = list(permissions.net);
  if (net === true) return ["--allow-import"];
  const hosts = [...net];
  // wiretest's own runtime, when it is itself imported from a server.
  if (ROOT.protocol !== "file:") hosts.push(ROOT.host);
  // An empty --allow-import= is an error and no flag means Deno's default
  // list (deno.land, jsr.io, esm.sh…): a host no URL can name grants nothing.
  if (hosts.length === 0) hosts.push("0.0.0.0:0");
  return [`--allow-import=${hosts.join(",")}`];
}

function configArgs(): string[] {
  // Imported from a server: its deno.json maps the bare names its modules use.
  if (ROOT.protocol !== "file:") return ["--no-config", "--import-map", `${ROOT.href}deno.json`];
  try {
    const config = new URL("deno.json", ROOT);
    if (Deno.statSync(config).isFile) return ["--config", config.pathname];
  } catch {
    // No config: the plugin process resolves as a plain script.
  }
  return ["--no-config"];
}

function allow(name: string, granted: true | string[], extra: string[] = []): string[] {
  if (granted === true) return [`--allow-${name}`];
  const items = [...granted, ...extra];
  return items.length === 0 ? [] : [`--allow-${name}=${items.join(",")}`];
}

// Deny wins over allow in Deno: a path under a granted folder stays closed.
function denyArgs(paths: readonly string[]): string[] {
  if (paths.length === 0) return [];
  const joined = paths.map(absolute).join(",");
  return [`--deny-read=${joined}`, `--deny-write=${joined}`];
}

// A new plugin process allocates about 10 MiB while it loads its modules,
// most of it code and objects that live on. V8's young generation starts at
// 1 MiB, so it scavenges three or four times on the way (copying those
// survivors each time: 3-12 ms of a start here, 4-7 ms less CPU measured
// without). Started at a 32nd of the heap ceiling, at most 16 MiB (V8's own
// largest), loading ends before the first one. Resident memory after
// loading stayed the same (50-52 MiB): the pages are touched either way.
const MAX_SEMI_SPACE_MIB = 16;

function youngGenerationArgs(heapMiB: number): string[] {
  const semiSpaceMiB = Math.min(MAX_SEMI_SPACE_MIB, Math.floor(heapMiB / 32));
  return semiSpaceMiB < 2 ? [] : [`--v8-flags=--min-semi-space-size=${semiSpaceMiB}`];
}

/** The deno flags for an entry's process: its grants, nothing else; no prompt. */
export function processArgs(
  permissions: PluginPermissions,
  socket: string | readonly string[],
  main: string,
  memoryMiB: number,
  ffi?: FfiGrant,
): string[] {
  const sockets = typeof socket === "string" ? [socket] : [...socket];
  return [
    "run",
    "--no-prompt",
    "--no-lock",
    ...configArgs(),
    "--unstable-net",
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${memoryMiB}`,
    ...youngGenerationArgs(memoryMiB),
    ...allow("net", list(permissions.net), sockets.map((path) => `unix:${path}`)),
    ...allow("read", list(permissions.read, absolute), [...sockets, ...ffi?.read ?? []]),
    ...allow("write", list(permissions.write, absolute), sockets),
    ...denyArgs(permissions.deny ?? []),
    ...allow("env", list(permissions.env)),
    ...allow("sys", list(permissions.sys as boolean | string[] | undefined)),
    ...(ffi ? [`--allow-ffi=${ffi.libc}`] : []),
    ...importArgs(permissions),
    main,
  ];
}

/** The environment of an entry's process: the variables it is granted, and Deno's cache. */
function processEnv(permissions: PluginPermissions): Record<string, string> {
  const env: Record<string, string> = {};
  const read = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  if (permissions.env === true) {
    try {
      Object.assign(env, Deno.env.toObject());
    } catch {
      // The host may not read its own environment: the plugin gets none of it.
    }
  } else {
    for (const name of permissions.env || []) {
      const value = read(name);
      if (value !== undefined) env[name] = value;
    }
  }
  const home = read("HOME");
  const cache = read("XDG_CACHE_HOME") ?? (home === undefined ? undefined : `${home}/.cache`);
  const denoDir = read("DENO_DIR") ??
    (Deno.build.os === "darwin" && home !== undefined
      ? `${home}/Library/Caches/deno`
      : cache === undefined
      ? undefined
      : `${cache}/deno`);
  if (denoDir !== undefined) env.DENO_DIR = denoDir;
  // Deno resolves a program's name on PATH before it checks --allow-run (never
  // granted): without PATH, a plugin would see NotFound instead of a denial.
  const path = read("PATH");
  if (path !== undefined && env.PATH === undefined) env.PATH = path;
  env.NO_COLOR = "1";
  return env;
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

/** How the host starts a plugin's process. */
interface Launch {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  memoryMiB: number;
  /** The V8 heap ceiling given to the process (at most `memoryMiB`). */
  heapMiB: number;
  /** Checks the plugin's imports first, unless they were checked already. */
  preflight?: PreflightOptions;
}

/** The host's own events about a plugin's process (the plugin's replies come by the channel). */
type HostEvent =
  | Extract<Reply, { type: "output" | "exited" }>
  | { type: "refused"; refusal: ImportRefusal }
  | { type: "checked" };

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
  constructor(entry: ManifestEntry, options: ProcessOptions = {}) {
    this.entry = entry;
    // Refused before its process starts: code written for another contract never runs.
    const versionProblem = apiVersionProblem(entry);
    if (versionProblem) throw new PluginLoadError(entry, versionProblem);
    // A plugin never gets more than the host has, though a process could.
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
    if (Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state !== "granted") {
      throw new PluginLoadError(
        entry,
        "isolation starts a Deno process for each plugin, which this process may not (run wiretest with --allow-run, or use --no-isolation)",
      );
    }
    // Found here, a missing module does not cost a process (nor Deno's report of it).
    if (missingFile(entry.module)) throw new PluginLoadError(entry, "module not found");
    const ffi = ffiGrant(entry, options.trustFfi);
    this.ready = new Promise<void>((resolve, reject) => this.#settle = { resolve, reject });
    this.closed = new Promise<void>((resolve) => this.#exited = resolve);
    // Rejections are read by whoever awaits `ready`; none may go unhandled meanwhile.
    this.ready.catch(() => {});
    const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
    // Private to this user (0700): the socket and the main module.
    this.#dir = Deno.makeTempDirSync({ prefix: "wiretest-plugin-" });
    folders.add(this.#dir);
    const socket = `${this.#dir}/ipc.sock`;
    const statsSocket = `${this.#dir}/stats.sock`;
    const main = `${this.#dir}/main.js`;
    // The host's: file params ("send hello.txt") are relative to where the
    // user runs wiretest, and reading there still needs a read grant.
    const cwd = Deno.cwd();
    const token = crypto.randomUUID();
    Deno.writeTextFileSync(
      main,
      `import { boot } from ${JSON.stringify(RUNTIME_URL)};\n` +
        `await boot(${JSON.stringify({ socket, stats: statsSocket, token })}, () => import(${
          JSON.stringify(entry.module)
        }), () => import(${JSON.stringify(LOAD_ENGINE_URL)}));\n`,
    );
    const heapMiB = Math.min(options.heapMiB ?? memoryMiB, memoryMiB);
    const args = processArgs(entry.permissions, [socket, statsSocket], main, heapMiB, ffi);
    const key = keyOf(entry);
    const read = list(entry.permissions.read, absolute);
    const launch: Launch = {
      args,
      env: processEnv(entry.permissions),
      cwd,
      memoryMiB,
      heapMiB,
      ...(checked.has(key) ? {} : {
        preflight: {
          deno: Deno.execPath(),
          configArgs: configArgs(),
          importArgs: importArgs(entry.permissions),
          trusted: TRUSTED,
          read,
        },
      }),
    };
    this.#bridgeConfig = { socket: statsSocket, token, stats: this.#statsBuffer };
    // Listening before the process starts, so it finds us.
    this.#channel = new PluginChannel(
      socket,
      token,
      (reply) => this.#receive(reply),
      (message) => this.#receive({ type: "failed", message }),
    );
    if (launch.preflight) {
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
      const launcher = parentDeathLauncher();
      child = new Deno.Command(launcher?.command ?? Deno.execPath(), {
        args: launcher ? [...launcher.prefix, Deno.execPath(), ...launch.args] : launch.args,
        clearEnv: true,
        env: launch.env,
        cwd: launch.cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      this.#receive({
        type: "failed",
        message: error instanceof Error ? error.message : String(error),
      });
      return this.#exited();
    }
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
    this.#watchdog = setInterval(() => over(residentMiB(child.pid)), WATCH_MS);
    // A role that ends between two looks may have gone over and back: its
    // result counts only if the process's peak stayed under the ceiling.
    this.#overCeiling = () => over(residentMiB(child.pid, "VmHWM"));
    void child.status.then(async (status) => {
      clearInterval(this.#watchdog);
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
  /** Processes told to end whose exit is not yet seen. */
  #ending = new Set<Promise<void>>();
  #closed = false;

  readonly options: ProcessOptions;

  constructor(maxIdle: number, rolesPerWorker = 1, options: ProcessOptions = {}) {
    this.maxIdle = maxIdle;
    this.rolesPerWorker = rolesPerWorker;
    this.options = options;
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
      best = new WorkerHandle(entry, this.options);
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

  /** Ends every Worker, busy or idle; resolves when every process it started has exited. */
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
    this.#track(handle);
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
