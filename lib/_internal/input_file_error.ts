/**
 * The error for a file or directory named by the user (in params, on the
 * command line) that cannot be used, and the words for why.
 *
 * Internal: re-exported from `./plugin` (`lib/plugin/input_file.ts`); shared
 * with the bounded reader of fixtures and manifests.
 *
 * @module
 */
import { escapeControls } from "./escape_controls.ts";

/** Why a file (or directory) named in params cannot be used. */
export type InputFileProblem =
  | "not-found"
  | "is-directory"
  | "not-a-directory"
  | "not-regular"
  | "denied"
  | "name-too-long"
  | "invalid-name"
  | "symlink-loop"
  | "too-large";

/** Options for {@linkcode InputFileError}. */
export interface InputFileErrorOptions extends ErrorOptions {
  /** The path names a directory to use (`true`), not a file to read. */
  directory?: boolean;
  /** Starts the message instead of `Cannot read file "<path>"` (`Cannot load fixture "a.yaml"`). */
  subject?: string;
  /** Says what is wrong instead of the code's usual words (the kind of file, a limit). */
  detail?: string;
}

/**
 * A file named in params does not exist, is a directory, or may not be read
 * (the operating system refused); or a directory named in params does not
 * exist or is not one. The CLI exits with 2 for it, as for any other usage
 * error.
 *
 * @example Recognising the error
 * ```ts
 * import { InputFileError, readInputTextFile } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(readInputTextFile("/nonexistent/ca.pem"), (err: unknown) => {
 *   assert.ok(err instanceof InputFileError);
 *   assert.equal(err.code, "not-found");
 *   assert.equal(err.message, 'Cannot read file "/nonexistent/ca.pem": it does not exist');
 *   return true;
 * });
 * ```
 */
export class InputFileError extends TypeError {
  /** The path as it was given. */
  readonly path: string;
  /** What is wrong with it. */
  readonly code: InputFileProblem;

  /**
   * Creates the error.
   *
   * @param path The path as it was given.
   * @param code What is wrong with it.
   * @param options The underlying error as `cause`; `directory` for a directory to use.
   */
  constructor(path: string, code: InputFileProblem, options: InputFileErrorOptions = {}) {
    const what = options.subject ??
      (options.directory
        ? `Cannot use directory ${quotePath(path)}`
        : `Cannot read file ${quotePath(path)}`);
    super(`${what}: ${options.detail ?? detail(path, code)}`, options);
    this.name = "InputFileError";
    this.path = path;
    this.code = code;
  }
}

/**
 * A path as messages quote it: in double quotes, control characters
 * escaped, at most 60 characters of it shown (then `…` and the length), so
 * an error stays one readable line whatever the path.
 */
export function quotePath(path: string): string {
  const shown = path.length > 60 ? `${path.slice(0, 60)}…` : path;
  // JSON leaves C1 controls and the Unicode line separators raw: a quoted
  // value must not move a terminal's cursor or split a line.
  const quoted = escapeControls(JSON.stringify(shown));
  return path.length > 60 ? `${quoted} (${path.length} characters)` : quoted;
}

function detail(path: string, code: InputFileProblem): string {
  if (code === "is-directory") return "it is a directory";
  if (code === "not-a-directory") return "it is not a directory";
  if (code === "not-regular") return "it is not a regular file";
  if (code === "denied") return "permission denied";
  if (code === "name-too-long") {
    return "the name is too long (Linux allows 255 bytes per name and 4,095 per path)";
  }
  if (code === "invalid-name") {
    return path === "" ? "the path is empty" : "the path contains a NUL character";
  }
  if (code === "symlink-loop") return "its symbolic links form a loop";
  if (code === "too-large") return "it is too large";
  // A relative path that names nothing is most often read from another
  // folder than the user thought: say which.
  const base = isAbsolute(path) ? undefined : currentDir();
  return base === undefined ? "it does not exist" : `it does not exist (relative to "${base}")`;
}

/**
 * What an error of the file system says about a path named by the user,
 * as an {@linkcode InputFileProblem} and, when the code's usual words do not
 * say it, a detail; `undefined` for any other error (a permission the
 * runtime did not grant, say).
 */
export function inputFileProblem(
  path: string,
  error: unknown,
): { code: InputFileProblem; detail?: string } | undefined {
  if (path === "" || path.includes("\0")) return { code: "invalid-name" };
  // A file URL percent-encodes the NUL: the runtime still refuses it.
  if (error instanceof TypeError && /\bNUL\b/.test(error.message)) {
    return { code: "invalid-name", detail: "the path contains a NUL character" };
  }
  if (error instanceof Deno.errors.NotFound) return { code: "not-found" };
  if (error instanceof Deno.errors.IsADirectory) return { code: "is-directory" };
  if (error instanceof Deno.errors.PermissionDenied) return { code: "denied" };
  if (error instanceof Deno.errors.NotADirectory) {
    return { code: "not-found", detail: "a part of its path is not a directory" };
  }
  if (error instanceof Deno.errors.FilesystemLoop) return { code: "symlink-loop" };
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENAMETOOLONG") return { code: "name-too-long" };
  if (code === "ENOENT") return { code: "not-found" };
  if (code === "EACCES" || code === "EPERM") return { code: "denied" };
  return undefined;
}

/** What a file that is not regular is, in words: "a FIFO", "a character device"… */
export function fileKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "of an unknown kind";
}

function currentDir(): string | undefined {
  try {
    return Deno.cwd();
  } catch {
    return undefined; // no read permission for it (an isolated plugin)
  }
}

// node:path's rule for this platform, without node:path (which loads Node's
// compatibility layer in a plugin's process that needs nothing else of it).
function isAbsolute(path: string): boolean {
  if (Deno.build.os !== "windows") return path.startsWith("/");
  return /^(?:[\\/]|[a-zA-Z]:[\\/])/.test(path);
}
