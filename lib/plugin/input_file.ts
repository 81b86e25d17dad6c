// Files a plugin reads because its params name them (a file to send, a CA
// bundle, a certificate). A path that names nothing readable is the user's
// mistake, not the peer's: it gets one typed error that says which file and
// why, relative to which folder, so the CLI can report it as a usage error.

export {
  fileKind,
  InputFileError,
  type InputFileErrorOptions,
  type InputFileProblem,
  inputFileProblem,
  quotePath,
} from "../_internal/input_file_error.ts";
import {
  fileKind,
  InputFileError,
  type InputFileErrorOptions,
  inputFileProblem,
} from "../_internal/input_file_error.ts";

/** The most bytes {@linkcode readInputTextFile} reads by default: 16 MiB. */
export const MAX_INPUT_TEXT_BYTES: number = 16 * 1024 * 1024;

/**
 * Opens a file named in params for reading.
 *
 * @param path The path as given (relative to the current directory).
 * @returns The open file; close it (`using`) when done.
 * @throws {InputFileError} When the path is empty or has a NUL character,
 * is too long, does not exist, loops, is a directory or not a regular file (a
 * FIFO, a device such as `/dev/zero`: refused without being opened), or the
 * operating system refuses to open it. Other errors (a permission the
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
  // The kind is checked before opening: opening a FIFO blocks until a
  // writer comes, and a device such as /dev/zero never ends.
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw inputFileError(path, error);
  }
  if (info.isDirectory) throw new InputFileError(path, "is-directory");
  if (!info.isFile) {
    throw new InputFileError(path, "not-regular", {
      detail: `it is ${fileKind(info)}, not a regular file`,
    });
  }
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    throw inputFileError(path, error);
  }
}

/**
 * Reads a text file named in params (a PEM certificate, a CA bundle).
 *
 * @param path The path as given (relative to the current directory).
 * @param maxBytes The most bytes read (default 16 MiB): a larger file is
 * refused (code `too-large`).
 * @returns The file's text.
 * @throws {InputFileError} As {@linkcode openInputFile} does, and when the
 * file holds more than `maxBytes`.
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
export async function readInputTextFile(
  path: string,
  maxBytes: number = MAX_INPUT_TEXT_BYTES,
): Promise<string> {
  using file = await openInputFile(path);
  const tooLarge = () =>
    new InputFileError(path, "too-large", {
      detail: `it is larger than the limit of ${maxBytes} bytes`,
    });
  try {
    if ((await file.stat()).size > maxBytes) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      total += n;
      // The file may grow while it is read.
      if (total > maxBytes) throw tooLarge();
      chunks.push(buffer.slice(0, n));
    }
    const decoder = new TextDecoder();
    return chunks.map((chunk, i) => decoder.decode(chunk, { stream: i < chunks.length - 1 }))
      .join("");
  } catch (error) {
    throw error instanceof InputFileError ? error : inputFileError(path, error);
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
  if (!info.isDirectory) {
    throw new InputFileError(path, "not-a-directory", {
      directory: true,
      detail: info.isFile ? "it is not a directory" : `it is ${fileKind(info)}, not a directory`,
    });
  }
}

function inputFileError(
  path: string,
  error: unknown,
  options: InputFileErrorOptions = {},
): unknown {
  const problem = inputFileProblem(path, error);
  if (problem === undefined) return error;
  return new InputFileError(path, problem.code, {
    ...options,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    cause: error,
  });
}
