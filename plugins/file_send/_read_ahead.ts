// The sender's file reads, one chunk ahead: the next chunk is read (on the
// runtime's blocking threads) while the caller hashes and sends this one.
import { FileSendError } from "./protocol.ts";

/**
 * Yields the first `size` bytes of `file` in chunks of at most `chunkSize`
 * bytes, reading the next chunk while the caller uses the current one. Two
 * buffers in all: a chunk is valid until the caller asks for the next.
 * Throws a {@linkcode FileSendError} `"truncated"` when the file ends early.
 * Ending the loop early waits for the read in flight, so the file may be
 * closed right after.
 */
export async function* readAhead(
  file: Deno.FsFile,
  size: number,
  chunkSize: number,
  path: string,
): AsyncGenerator<Uint8Array, void, void> {
  const length = Math.min(chunkSize, Math.max(size, 1));
  const buffers = [new Uint8Array(length), new Uint8Array(length)];
  let done = 0;
  // Only one read is ever in flight, so `done` is where the next one starts.
  const start = (buffer: Uint8Array): Promise<Uint8Array | null> | undefined => {
    if (done >= size) return undefined;
    const view = buffer.subarray(0, Math.min(buffer.length, size - done));
    const reading = readSome(file, view);
    // Handled here so a failure while the caller is busy is not unhandled;
    // the caller still sees it when it awaits this read.
    reading.catch(() => {});
    return reading;
  };
  let next = start(buffers[0]);
  try {
    for (let i = 1; next; i++) {
      const chunk = await next;
      if (chunk === null) {
        next = undefined;
        throw new FileSendError(
          "truncated",
          `Cannot send file "${path}": it shrank to ${done} bytes while sending`,
          "sender",
        );
      }
      done += chunk.length;
      next = start(buffers[i % 2]);
      yield chunk;
    }
  } finally {
    await next?.catch(() => {});
  }
}

async function readSome(file: Deno.FsFile, view: Uint8Array): Promise<Uint8Array | null> {
  const n = await file.read(view);
  return n === null ? null : view.subarray(0, n);
}
