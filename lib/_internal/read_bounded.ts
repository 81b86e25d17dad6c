/**
 * Reading a file that someone else wrote (a fixture, a manifest) without
 * trusting it: only regular files, and never more than a limit.
 *
 * Internal: shared by the fixture loader and the manifest loader; not part
 * of the public API.
 *
 * @module
 */

import { fileKind, InputFileError, inputFileProblem } from "./input_file_error.ts";

/**
 * Reads a regular file of at most `maxBytes` bytes.
 *
 * The type is checked before the file is opened, so a FIFO (whose opening
 * blocks until a writer comes) or a device (`/dev/zero`, endless) is
 * refused without being opened. Symbolic links are followed: what counts is
 * what they point at. The size is checked again while reading, as a file
 * may grow, and some files report no size.
 *
 * @param path The file.
 * @param maxBytes The most bytes read.
 * @param prefix Starts each message, e.g. `Cannot load fixture "a.wire.yaml"`.
 * @returns The bytes.
 * @throws {Deno.errors.NotFound} When there is no such file (as `Deno.stat` throws it).
 * @throws {InputFileError} (a `TypeError`) When it is not a regular file, or
 * its path cannot name one (empty, a NUL character, too long, a loop).
 * @throws {RangeError} When it holds more than `maxBytes`.
 */
export async function readBounded(
  path: string | URL,
  maxBytes: number,
  prefix: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const shown = path instanceof URL ? path.href : path;
  const refuse = (error: unknown) => {
    const problem = inputFileProblem(path instanceof URL ? path.pathname : path, error);
    if (problem === undefined || problem.code === "not-found" && problem.detail === undefined) {
      return error; // NotFound as Deno.stat throws it: callers word it
    }
    return new InputFileError(shown, problem.code, {
      subject: prefix,
      ...(problem.detail === undefined ? {} : { detail: problem.detail }),
      cause: error,
    });
  };
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw refuse(error);
  }
  if (!info.isFile) {
    throw new InputFileError(shown, info.isDirectory ? "is-directory" : "not-regular", {
      subject: prefix,
      detail: `it is ${fileKind(info)}, not a regular file`,
    });
  }
  if (info.size > maxBytes) throw tooLarge(prefix, maxBytes);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw refuse(error);
  }
  using _file = file;
  const chunks: Uint8Array[] = [];
  let total = 0;
  // One byte past the limit tells a file of exactly maxBytes from a larger one.
  const buffer = new Uint8Array(Math.min(maxBytes + 1, 64 * 1024));
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    total += n;
    if (total > maxBytes) throw tooLarge(prefix, maxBytes);
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Reads a body stream of at most `maxBytes` bytes, cancelling it past the
 * limit.
 *
 * @param body The stream (a response's body).
 * @param maxBytes The most bytes read.
 * @param prefix Starts the message of the error.
 * @returns The bytes.
 * @throws {RangeError} When the stream holds more than `maxBytes`.
 */
export async function readStreamBounded(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  prefix: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) throw tooLarge(prefix, maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * A byte count as people read limits: `1 MiB`, `64 KiB`, `100 bytes`.
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatLimit(bytes: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tooLarge(prefix: string, maxBytes: number): RangeError {
  return new RangeError(`${prefix}: it is larger than the limit of ${formatLimit(maxBytes)}`);
}
