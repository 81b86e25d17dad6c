// Files a plugin reads because its params name them (a file to send, a CA
// bundle, a certificate). A path that names nothing readable is the user's
// mistake, not the peer's: it gets one typed error that says which file and
// why, relative to which folder, so the CLI can report it as a usage error.
import { isAbsolute } from "node:path";

/** Why a file (or directory) named in params cannot be used. */
export type InputFileProblem = "not-found" | "is-directory" | "not-a-directory" | "denied";

/** Options for {@linkcode InputFileError}. */
export interface InputFileErrorOptions extends ErrorOptions {
  /** The path names a directory to use (`true`), not a file to read. */
  directory?: boolean;
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
    const what = options.directory
      ? `Cannot use directory "${path}"`
      : `Cannot read file "${path}"`;
    super(`${what}: ${detail(path, code)}`, options);
    this.name = "InputFileError";
    this.path = path;
    this.code = code;
  }
}

function detail(path: string, code: InputFileProblem): string {
  if (code === "is-directory") return "it is a directory";
  if (code === "not-a-directory") return "it is not a directory";
  if (code === "denied") return "permission denied";
  // A relative path that names nothing is most often read from another
  // folder than the user thought: say which.
  const base = isAbsolute(path) ? undefined : currentDir();
  return base === undefined ? "it does not exist" : `it does not exist (relative to "${base}")`;
}

function currentDir(): string | undefined {
  try {
    return Deno.cwd();
  } catch {
    return undefined; // no read permission for it (an isolated plugin)
  }
}

/**
 * Opens a file named in params for reading.
 *
 * @param path The path as given (relative to the current directory).
 * @returns The open file; close it (`using`) when done.
 * @throws {InputFileError} When the path does not exist, is a directory, or
 * the operating system refuses to open it. Other errors (a permission the
 * plugin's manifest entry does not grant) are thrown as they are.
 *
 * @example Reading a file's size
 * ```ts
 * import { openInputFile } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * {
 *   using file = await openInputFile(path);
 *   assert.equal((await file.stat()).size, 5);
 * }
 * await Deno.remove(path);
 * ```
 */
export async function openInputFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw inputFileError(path, error);
  }
  // Opening a directory succeeds; reading it would fail later, less clearly.
  let directory: boolean;
  try {
    directory = (await file.stat()).isDirectory;
  } catch (error) {
    file.close();
    throw inputFileError(path, error);
  }
  if (directory) {
    file.close();
    throw new InputFileError(path, "is-directory");
  }
  return file;
}

/**
 * Reads a text file named in params (a PEM certificate, a CA bundle).
 *
 * @param path The path as given (relative to the current directory).
 * @returns The file's text.
 * @throws {InputFileError} As {@linkcode openInputFile} does.
 *
 * @example Refusing a directory
 * ```ts
 * import { InputFileError, readInputTextFile } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(readInputTextFile(dir), InputFileError);
 * await Deno.writeTextFile(`${dir}/a.pem`, "PEM");
 * assert.equal(await readInputTextFile(`${dir}/a.pem`), "PEM");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readInputTextFile(path: string): Promise<string> {
  const file = await openInputFile(path);
  // The stream closes the file when it ends or fails.
  try {
    return await new Response(file.readable).text();
  } catch (error) {
    throw inputFileError(path, error);
  }
}

/**
 * Checks that a directory named in params exists (a folder to receive
 * files into, say).
 *
 * @param path The path as given (relative to the current directory).
 * @throws {InputFileError} When the path does not exist, is not a directory,
 * or the operating system refuses to look at it.
 *
 * @example Refusing a file where a directory is needed
 * ```ts
 * import { checkInputDirectory, InputFileError } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * await assert.rejects(checkInputDirectory(file), (err: unknown) => {
 *   assert.ok(err instanceof InputFileError);
 *   assert.equal(err.message, `Cannot use directory "${file}": it is not a directory`);
 *   return true;
 * });
 * await checkInputDirectory(Deno.cwd());
 * await Deno.remove(file);
 * ```
 */
export async function checkInputDirectory(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw inputFileError(path, error, { directory: true });
  }
  if (!info.isDirectory) throw new InputFileError(path, "not-a-directory", { directory: true });
}

function inputFileError(
  path: string,
  error: unknown,
  options: InputFileErrorOptions = {},
): unknown {
  const cause = { ...options, cause: error };
  if (error instanceof Deno.errors.NotFound) return new InputFileError(path, "not-found", cause);
  if (error instanceof Deno.errors.IsADirectory) {
    return new InputFileError(path, "is-directory", cause);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new InputFileError(path, "denied", cause);
  }
  return error;
}
