/**
 * Synchronous writes to standard output, the default sink of the reporters
 * and of the CLI's long outputs, and the error that says its reader is gone.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Standard output's reader closed it (`wiretest test | head -1`): the CLI
 * stops without a message, as git and grep do when SIGPIPE ends them.
 */
export class StdoutClosedError extends Error {
  override name = "StdoutClosedError";
}

/**
 * Writes all of `text` to `Deno.stdout` before returning, so report lines
 * keep their order with anything else the process prints and are not lost
 * when the process exits right after.
 *
 * @param text The text, UTF-8 encoded on the way out.
 * @throws {StdoutClosedError} when the reader of standard output has closed it.
 */
export function writeStdoutSync(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  try {
    // writeSync may write less than asked (a pipe that is nearly full).
    while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    throw new StdoutClosedError("Cannot write to standard output: its reader closed it", {
      cause: error,
    });
  }
}

/** Whether `error`, or an error in its `cause` chain, is a {@linkcode StdoutClosedError}. */
export function isStdoutClosed(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof StdoutClosedError) return true;
  }
  return false;
}
