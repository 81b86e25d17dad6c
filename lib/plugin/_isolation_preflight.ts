// Before a third-party plugin's process first starts: its module graph, as
// `deno info --json` lists it, checked against its manifest entry. Deno does
// not check a module's static imports, nor its literal `import()`s of local
// files, against `--allow-read` (`import s from "/etc/passwd" with { type:
// "text" }` works with no read grant), so the graph is checked here, before
// any of the plugin's code runs. `deno info` itself runs with
// `--allow-import` limited to the plugin's net grant, so it never downloads
// a module from a host the plugin may not reach.
import { limitSignal } from "../_internal/deadline.ts";
import type { ManifestEntry } from "./manifest.ts";

/** An import the plugin's manifest entry does not allow. */
export interface ImportRefusal {
  /** The import as written. */
  specifier: string;
  /** What it resolved to. */
  resolved: string;
  /** `file:line:column` of the import. */
  at: string;
  /** The grant it would need: `"read"` (a local file) or `"net"` (a remote host). */
  permission: "read" | "net";
  /** The path or `host:port`. */
  target: string;
  /** Set when no grant can allow it (plain `http:` to a host that is not loopback). */
  never?: string;
}

/** How to run `deno info` for a plugin. */
export interface PreflightOptions {
  /** The Deno executable. */
  deno: string;
  /** `--config <file>` or `--no-config`, as the plugin's process gets. */
  configArgs: string[];
  /** `--allow-import=…`, as the plugin's process gets. */
  importArgs: string[];
  /** URL prefixes of wiretest's own code, which a plugin may always import. */
  trusted: string[];
  /** Absolute paths the entry grants read access to, or `true` for all. */
  read: true | string[];
  /** Milliseconds `deno info` may take (default 60 s). */
  timeoutMs?: number;
}

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string; span?: { start: { line: number; character: number } } };
  assertionType?: string;
}

interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/**
 * The first import in the plugin's module graph its entry does not allow,
 * or `undefined` when every import is allowed.
 *
 * @throws {Error} When `deno info` fails or does not answer in time.
 */
export async function preflight(
  entry: ManifestEntry,
  options: PreflightOptions,
): Promise<ImportRefusal | undefined> {
  if (options.trusted.some((prefix) => entry.module.startsWith(prefix))) return undefined;
  const packageDir = new URL("./", entry.module).href;
  const timeoutMs = options.timeoutMs ?? 60_000;
  using limit = limitSignal(
    { timeout: timeoutMs },
    () => new DOMException(`deno info took longer than ${timeoutMs} ms`, "TimeoutError"),
  );
  const output = await new Deno.Command(options.deno, {
    args: [
      "info",
      "--json",
      ...options.configArgs,
      "--no-lock",
      ...options.importArgs,
      entry.module,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: limit.signal,
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
    throw new Error(
      `Cannot check the imports of plugin "${entry.name}": deno info failed: ${text}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules?: InfoModule[] };
  for (const module of info.modules ?? []) {
    // wiretest's own modules import what they need; the plugin's are checked.
    if (options.trusted.some((prefix) => module.specifier.startsWith(prefix))) continue;
    for (const dependency of module.dependencies ?? []) {
      const resolved = dependency.code?.specifier;
      if (resolved === undefined) continue;
      const start = dependency.code?.span?.start;
      const at = `${module.specifier}:${(start?.line ?? 0) + 1}:${(start?.character ?? 0) + 1}`;
      // Text, JSON and bytes are data read from disk, not code: they need a
      // read grant even in the plugin's folder, which may be a checkout's root.
      const data = dependency.assertionType !== undefined;
      const refusal = check(resolved, data ? undefined : packageDir, options);
      if (refusal) return { specifier: dependency.specifier, resolved, at, ...refusal };
    }
  }
  return undefined;
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;

function check(
  resolved: string,
  packageDir: string | undefined,
  options: PreflightOptions,
): Pick<ImportRefusal, "permission" | "target" | "never"> | undefined {
  const url = new URL(resolved);
  switch (url.protocol) {
    case "file:": {
      if (packageDir !== undefined && resolved.startsWith(packageDir)) return undefined;
      if (options.trusted.some((prefix) => resolved.startsWith(prefix))) return undefined;
      const path = decodeURIComponent(url.pathname);
      if (options.read === true) return undefined;
      if (options.read.some((granted) => path === granted || path.startsWith(`${granted}/`))) {
        return undefined;
      }
      return { permission: "read", target: path };
    }
    case "http:":
    case "https:":
    case "jsr:": {
      if (options.trusted.some((prefix) => resolved.startsWith(prefix))) return undefined;
      const host = url.protocol === "jsr:" ? "jsr.io" : url.hostname;
      const port = url.protocol === "jsr:"
        ? "443"
        : url.port || (url.protocol === "http:" ? "80" : "443");
      const target = `${host}:${port}`;
      if (url.protocol === "http:" && !LOOPBACK.test(host)) {
        return { permission: "net", target, never: "plain http: from a host that is not loopback" };
      }
      // The same grant the process gets as --allow-import.
      const granted = options.importArgs.some((arg) =>
        arg === "--allow-import" ||
        (arg.startsWith("--allow-import=") &&
          arg.slice("--allow-import=".length).split(",").some((h) => h === host || h === target))
      );
      return granted ? undefined : { permission: "net", target };
    }
    default:
      // npm:, node:, data: and the like: no file outside the graph, no unlisted host.
      return undefined;
  }
}
