// Starting an isolated plugin's process: its grants as flags, its private
// folder, socket and main module, and the spawn itself. Apart from the rest
// of the host (_isolation_host.ts) and with few imports, so the CLI starts
// a built-in plugin's process before it loads anything else
// (lib/cli/_early_plugin.ts): what this module imports is loaded first.
import type { ManifestEntry, PluginPermissions } from "./manifest.ts";
import { PluginLoadError } from "./_plugin_load_error.ts";
import { apiVersionProblem } from "./_isolation_checks.ts";
import { missingInParent } from "./_isolation_denial.ts";
import type { PreflightOptions } from "./_isolation_preflight.ts";
import { parentDeathLauncher } from "./_parent_death.ts";
import { libcPath } from "../_internal/libc_path.ts";

// Resolved against this module, so they are file: URLs in a checkout and
// https: URLs when wiretest is imported from JSR.
const RUNTIME_URL = new URL("./_isolation_child.ts", import.meta.url).href;
// Imported by a plugin's process only when it runs a load (see _isolation_child.ts).
const LOAD_ENGINE_URL = new URL("../load/plugin_process_load.ts", import.meta.url).href;
const ROOT = new URL("../../", import.meta.url);
/** wiretest's own code: a plugin may import it whatever it is granted. */
const TRUSTED = [`${ROOT.href}lib/`, `${ROOT.href}plugins/`, `${ROOT.href}mod.ts`];
/** The built-in manifest: the one whose `ffi` grants are honoured without being trusted. */
export const BUILTIN_MANIFEST = `${ROOT.href}plugins/manifest.json`;

/** The memory ceiling of a plugin's process by default, MiB. */
export const DEFAULT_MEMORY_MIB = 512;

// Entries whose module graph passed the import check, by keyOf().
export const checked: Set<string> = new Set<string>();

// Private folders of plugin processes: their main module and request socket
// are removed when the process is ready; the folder itself (where the stats
// socket is made for the first service) when the stats connection is made
// or the process ends, and when this process exits before that.
export const folders: Set<string> = new Set<string>();
export function removeFolder(dir: string): void {
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

/** The identity of a process's configuration: a process serves only entries equal to its own. */
export function keyOf(entry: ManifestEntry): string {
  return JSON.stringify([
    entry.name,
    entry.module,
    entry.export,
    entry.apiVersion,
    entry.roles,
    entry.permissions,
  ]);
}

/** How the host starts a plugin's process. */
export interface Launch {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  memoryMiB: number;
  /** The V8 heap ceiling given to the process (at most `memoryMiB`). */
  heapMiB: number;
  /** Checks the plugin's imports first, unless they were checked already. */
  preflight?: PreflightOptions;
}

/** A plugin's process made ready to start: its folder, sockets, token and flags. */
export interface Prepared {
  /** Its private folder (0700), removed when it ends. */
  dir: string;
  /** The request socket, listened on by `listener`. */
  socket: string;
  /** The stats socket, listened on by the bridge Worker of the first service. */
  statsSocket: string;
  /** What the process sends first on its connections. */
  token: string;
  /** Listening on `socket` before the process starts, so it finds it. */
  listener: Deno.Listener;
  launch: Launch;
}

/**
 * Checks an entry and makes its process ready to start (nothing is started).
 *
 * @throws {PluginLoadError} When the entry grants more than this process has,
 * the module is missing, or this process may not start Deno.
 */
export function prepareProcess(entry: ManifestEntry, options: ProcessOptions = {}): Prepared {
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
  const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
  // Private to this user (0700): the socket and the main module.
  const dir = Deno.makeTempDirSync({ prefix: "wiretest-plugin-" });
  folders.add(dir);
  const socket = `${dir}/ipc.sock`;
  const statsSocket = `${dir}/stats.sock`;
  const main = `${dir}/main.js`;
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
  // wiretest's own modules need no import check (preflight() passes them at once).
  const trusted = TRUSTED.some((prefix) => entry.module.startsWith(prefix));
  const launch: Launch = {
    args,
    env: processEnv(entry.permissions),
    cwd,
    memoryMiB,
    heapMiB,
    ...(checked.has(key) || trusted ? {} : {
      preflight: {
        deno: Deno.execPath(),
        configArgs: configArgs(),
        importArgs: importArgs(entry.permissions),
        trusted: TRUSTED,
        read,
      },
    }),
  };
  const listener = Deno.listen({ transport: "unix", path: socket });
  return { dir, socket, statsSocket, token, listener, launch };
}

/**
 * Starts the process (on Linux so that it is killed when this process
 * ends, _parent_death.ts).
 *
 * @throws {Error} When it cannot be started.
 */
export function spawnProcess(launch: Launch): Deno.ChildProcess {
  const launcher = parentDeathLauncher();
  return new Deno.Command(launcher?.command ?? Deno.execPath(), {
    args: launcher ? [...launcher.prefix, Deno.execPath(), ...launch.args] : launch.args,
    clearEnv: true,
    env: launch.env,
    cwd: launch.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A process prepared, and started unless its imports must be checked first. */
export interface Started {
  prepared: Prepared;
  /** The process, once spawned. */
  child?: Deno.ChildProcess;
  /** Why it could not be spawned. */
  error?: string;
}

/**
 * Prepares an entry's process and starts it at once when it needs no
 * import check (wiretest's own plugins, or an entry checked already); the
 * host (`WorkerHandle`) takes it from there.
 *
 * @throws {PluginLoadError} As {@linkcode prepareProcess}.
 */
export function startProcess(entry: ManifestEntry, options: ProcessOptions = {}): Started {
  const prepared = prepareProcess(entry, options);
  if (prepared.launch.preflight) return { prepared };
  try {
    return { prepared, child: spawnProcess(prepared.launch) };
  } catch (error) {
    return { prepared, error: error instanceof Error ? error.message : String(error) };
  }
}
