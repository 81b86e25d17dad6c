// The receiving side: accepts senders, streams each file into a temporary
// file inside the destination directory, verifies it and renames it into
// place atomically. A failed transfer leaves nothing behind.
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type Conn,
  ConnectionError,
  listenTcp,
  readFull,
  serveConnections,
  TimeoutError,
} from "../../lib/transport/mod.ts";
import { checkInputDirectory, type Context, type Service } from "../../lib/plugin/mod.ts";
import type { FileReceiverParams } from "./params.ts";
import {
  decodeHeaderFixed,
  decodeName,
  encodeAck,
  FileSendError,
  HEADER_FIXED,
  hex,
  MAX_NAME_BYTES,
  nameProblem,
  quoteName,
  startsWith,
  TEMP_FILE,
  TRAILER_MAGIC,
  TRAILER_SIZE,
} from "./protocol.ts";
import { byteProgress } from "./_progress.ts";
import { WriteBehind } from "./_write_behind.ts";
import { MinDataRateConn } from "./_min_data_rate_conn.ts";
import { BufferBudget } from "./_buffer_budget.ts";

// Each of the two receive buffers, at most: large enough that reads, writes
// and hash updates are few, small enough that memory stays flat.
const BUFFER_SIZE = 1024 * 1024;
// The first buffer of a transfer. Buffers double with each chunk that fills
// one, up to BUFFER_SIZE: a sender that announces 1 GiB and then holds costs
// this much, not two megabytes.
const FIRST_BUFFER_SIZE = 4 * 1024;
// Largest single read from the socket.
const READ_SIZE = 256 * 1024;
// The receive buffers of all transfers together: past it, buffers stop
// growing. 256 senders that each sent 2 MiB fast and paused took the
// receiver from 65 to 530 MB without it (an isolated plugin is stopped at
// 512 MiB), to 180–245 MB with it; one transfer alone still gets its full
// buffers.
const BUFFER_BUDGET = 64 * 1024 * 1024;
// Bytes written between two early syncs: the sync before the acknowledgement
// then writes at most this much, however large the file.
const SYNC_EVERY = 64 * 1024 * 1024;
// How long a refused sender may keep sending before the connection closes.
const LINGER_MS = 1000;

/** Starts the receiver. */
export async function serveReceiver(params: FileReceiverParams, ctx: Context): Promise<Service> {
  await checkInputDirectory(params.dir);
  await sweepStaleTemps(params.dir, ctx);
  const listener = listenTcp({ hostname: params.host, port: params.port });
  const own = { files_received: 0, bytes_received: 0, rejected: 0 };
  const budget = new BufferBudget(BUFFER_BUDGET);

  const receive = async (conn: Conn) => {
    try {
      const bytes = await receiveOne(conn, params, ctx, budget);
      own.files_received++;
      own.bytes_received += bytes;
    } catch (error) {
      own.rejected++;
      ctx.log("warn", localMessage(error as Error));
      await lingerClose(conn, Math.min(params.idleTimeoutMs, LINGER_MS));
    }
  };

  const server = serveConnections(listener, receive, {
    // Beyond it, a connection is closed as soon as accepted: memory and
    // descriptors stay bounded however many senders connect and hold.
    maxConnections: params.maxConnections,
    // close() closes every connection at once: a transfer cut short leaves nothing behind.
    drainTimeout: 0,
    // Out of file descriptors (or the like) is not forever: connections that
    // end free some. Say so once per run of failures, not at every retry.
    onAcceptError: (error, failures) => {
      if (failures === 1) ctx.log("warn", `accept failed: ${error.message}`);
    },
  });

  let closed: Promise<void> | undefined;
  return {
    address: listener.addr,
    stats: () => {
      const s = server.stats();
      return { connections: s.accepted, connections_refused: s.rejected, ...own };
    },
    close: () => closed ??= server.close().then(() => {}),
  };
}

/** Receives one transfer; resolves with the number of bytes stored. */
async function receiveOne(
  accepted: Conn,
  params: FileReceiverParams,
  ctx: Context,
  budget: BufferBudget,
): Promise<number> {
  const io = { timeout: params.idleTimeoutMs, signal: ctx.signal, budget };
  const conn = new MinDataRateConn(accepted, params.minDataRate, params.idleTimeoutMs);
  if (params.mode === "raw") return await receiveRaw(conn, params, ctx, io);
  try {
    return await receiveFramed(conn, params, ctx, io);
  } catch (error) {
    const failure = asFailure(error, params.idleTimeoutMs);
    // Tell the sender why, if the connection still carries bytes. The
    // message names no server path: those are for the local log only.
    await conn.write(
      encodeAck({ ok: false, code: failure.code, message: failure.message }),
      { timeout: 1000 },
    ).catch(() => {});
    throw failure;
  }
}

/**
 * What the receiver logs: the message the sender was told and, for a
 * storage failure, the system's own words (which name server paths).
 */
function localMessage(error: Error): string {
  if (error instanceof FileSendError && error.code === "io" && error.cause instanceof Error) {
    return `${error.message} (${error.cause.message})`;
  }
  return error.message;
}

/**
 * Half-closes after a failed transfer (and its refusal) and reads what the
 * sender still had in flight, for `ms` at most. Closing with unread bytes
 * would send a reset, which can destroy the refusal before a sender that is
 * still writing reads it.
 */
async function lingerClose(conn: Conn, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const scratch = new Uint8Array(64 * 1024);
  try {
    await conn.closeWrite();
    while (await conn.read(scratch, { deadline }) !== null) {
      // Discarded: the transfer is refused.
    }
  } catch {
    // Timed out, reset or closed: the connection is closed next anyway.
  }
}

async function receiveFramed(
  conn: Conn,
  params: FileReceiverParams,
  ctx: Context,
  io: Io,
): Promise<number> {
  const fixed = new Uint8Array(HEADER_FIXED);
  if (await readFull(conn, fixed, io) < HEADER_FIXED) {
    throw new FileSendError(
      "truncated",
      "Cannot receive file: connection closed in the header",
      "receiver",
    );
  }
  const { nameLength, size } = decodeHeaderFixed(fixed);
  // Refused unread: a 64 KiB name is neither buffered nor quoted in the log.
  if (nameLength > MAX_NAME_BYTES) {
    throw new FileSendError(
      "bad-name",
      `Cannot receive file: its name is ${nameLength} bytes, longer than ${MAX_NAME_BYTES}`,
      "receiver",
    );
  }
  const nameBytes = new Uint8Array(nameLength);
  if (await readFull(conn, nameBytes, io) < nameLength) {
    throw new FileSendError(
      "truncated",
      "Cannot receive file: connection closed in the header",
      "receiver",
    );
  }
  const name = decodeName(nameBytes);
  const problem = nameProblem(name);
  if (problem) {
    throw new FileSendError(
      "bad-name",
      `Cannot receive file ${quoteName(name)}: ${problem}`,
      "receiver",
    );
  }
  if (size > params.maxBytes) {
    throw new FileSendError(
      "too-large",
      `Cannot receive file "${name}": ${size} bytes exceed the limit of ${params.maxBytes}`,
      "receiver",
    );
  }
  await checkTarget(params, name, "file");
  ctx.log("info", `receiving "${name}" (${size} bytes)`);
  const stored = await intoTempFile(params, name, async (out, hash) => {
    const progress = byteProgress(ctx, name, size);
    let done = 0;
    await receiveInto(
      out,
      hash,
      Math.min(BUFFER_SIZE, Math.max(size, 1)),
      io,
      async (buffer, reads) => {
        if (done === size) return null;
        const chunk = buffer.subarray(0, Math.min(buffer.length, size - done));
        const n = await fill(conn, chunk, reads);
        if (n < chunk.length) {
          throw new FileSendError(
            "truncated",
            `Cannot receive file "${name}": connection closed after ${done + n} of ${size} bytes`,
            "receiver",
          );
        }
        done += n;
        progress(done);
        return chunk;
      },
    );
    const trailer = new Uint8Array(TRAILER_SIZE);
    const got = await readFull(conn, trailer, io);
    if (got < TRAILER_SIZE) {
      throw new FileSendError(
        "truncated",
        `Cannot receive file "${name}": connection closed before the sha256 trailer`,
        "receiver",
      );
    }
    if (!startsWith(trailer, TRAILER_MAGIC)) {
      throw new FileSendError(
        "oversize",
        `Cannot receive file "${name}": the sender sent more than the ${size} bytes it announced`,
        "receiver",
      );
    }
    const expected = hex(trailer.subarray(4));
    const actual = hash.digest("hex");
    if (expected !== actual) {
      throw new FileSendError(
        "sha256-mismatch",
        `Cannot receive file "${name}": sha256 ${actual} does not match the sender's ${expected}`,
        "receiver",
      );
    }
    return { size, sha256: actual };
  });
  // The file is in place whatever happens to the acknowledgement: a sender
  // that vanished now is told nothing, but the transfer counts as received.
  await conn.write(
    encodeAck({ ok: true, message: `stored "${name}"`, bytes: stored.size, sha256: stored.sha256 }),
    io,
  ).catch((error) => {
    ctx.log("warn", `stored "${name}" but could not acknowledge it: ${(error as Error).message}`);
  });
  return stored.size;
}

async function receiveRaw(
  conn: Conn,
  params: FileReceiverParams,
  ctx: Context,
  io: Io,
): Promise<number> {
  const name = params.rawName;
  const problem = nameProblem(name);
  if (problem) {
    throw new FileSendError("bad-name", `Cannot store ${quoteName(name)}: ${problem}`, "receiver");
  }
  await checkTarget(params, name, "raw stream");
  return (await intoTempFile(params, name, async (out, hash) => {
    const progress = byteProgress(ctx, name);
    let total = 0;
    await receiveInto(out, hash, BUFFER_SIZE, io, async (buffer, reads) => {
      const n = await fill(conn, buffer, reads);
      if (n === 0) {
        progress(total, true);
        return null;
      }
      total += n;
      if (total > params.maxBytes) {
        throw new FileSendError(
          "too-large",
          `Cannot receive raw stream "${name}": more than ${params.maxBytes} bytes`,
          "receiver",
        );
      }
      progress(total);
      return buffer.subarray(0, n);
    });
    const sha256 = hash.digest("hex");
    ctx.log("info", `received raw stream "${name}": ${total} bytes, sha256 ${sha256}`);
    return { size: total, sha256 };
  })).size;
}

type Hash = ReturnType<typeof createHash>;
type Io = { timeout: number; signal: AbortSignal; budget: BufferBudget };

/**
 * Streams a transfer into `out` through two buffers: `next` fills one from
 * the socket (returning the chunk to store, or `null` at the end) while the
 * other is written, and hashed as it is written. A failed write aborts the
 * read in progress. Buffers start at 4 KiB and double with each chunk
 * that fills one, up to `bufferSize`: memory follows the bytes that arrive,
 * not the size announced.
 */
async function receiveInto(
  out: Sink,
  hash: Hash,
  bufferSize: number,
  io: Io,
  next: (buffer: Uint8Array, io: Io) => Promise<Uint8Array | null>,
): Promise<void> {
  const reads = { ...io, signal: AbortSignal.any([io.signal, out.failed]) };
  let size = Math.min(FIRST_BUFFER_SIZE, bufferSize);
  let held = footprint(size);
  io.budget.take(held);
  try {
    // The second buffer only once a transfer needs it: most files are one chunk.
    const buffers: Uint8Array[] = [];
    for (let i = 0;; i++) {
      // The buffer written two chunks ago: `write` below waited for it.
      const slot = i % 2;
      if (!(buffers[slot]?.length >= size)) buffers[slot] = new Uint8Array(size);
      const chunk = await next(buffers[slot], reads);
      if (chunk === null) break;
      await out.write(chunk);
      hash.update(chunk);
      const grown = Math.min(size * 2, bufferSize);
      if (chunk.length === buffers[slot].length && grown > size) {
        if (io.budget.tryTake(footprint(grown) - held)) {
          size = grown;
          held = footprint(grown);
        }
      }
    }
  } finally {
    io.budget.release(held);
  }
}

/** What a transfer with buffers of `size` holds: two of them and the connection's read buffer. */
function footprint(size: number): number {
  return 2 * size + Math.min(size, READ_SIZE);
}

/** Where {@linkcode receiveInto} writes: the temporary file, opened at the first write. */
interface Sink {
  /** Aborts, with the write's error as reason, when a write fails. */
  readonly failed: AbortSignal;
  /** Writes a chunk behind (see {@linkcode WriteBehind.write}). */
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * Runs `fill` on a fresh temporary file beside the target, then moves it into
 * place (without replacing an existing file unless `overwrite`). Any failure
 * removes the temporary file, once nothing is in flight on it. The file is
 * created at the first body byte (a sender that holds after its header costs
 * no descriptor for it) and locked while it is written, so a receiver
 * starting later can tell it from one a killed receiver left.
 */
async function intoTempFile(
  params: FileReceiverParams,
  name: string,
  fill: (out: Sink, hash: Hash) => Promise<{ size: number; sha256: string }>,
): Promise<{ size: number; sha256: string }> {
  const target = join(params.dir, name);
  // A fixed, short name: `.<name>.<uuid>.part` would pass NAME_MAX for long names.
  const temp = join(params.dir, `.wiretest-${crypto.randomUUID()}.part`);
  let file: Deno.FsFile | undefined;
  let out: WriteBehind | undefined;
  let placed = false;
  const failure = new AbortController();
  const open = async (): Promise<WriteBehind> => {
    if (out) return out;
    file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
    await file.lock(true);
    const opened = new WriteBehind(file, temp, SYNC_EVERY);
    opened.failed.addEventListener("abort", () => failure.abort(opened.failed.reason));
    return out = opened;
  };
  const sink: Sink = {
    failed: failure.signal,
    write: async (chunk) => await (await open()).write(chunk),
  };
  try {
    const stored = await fill(sink, createHash("sha256")).catch((error) => {
      throw asFailure(error, params.idleTimeoutMs);
    });
    // An empty file has had no write: it is created now.
    await (await open()).finish();
    await file!.syncData();
    // Still open, so still locked, while it is moved into place.
    if (params.overwrite) {
      await Deno.rename(temp, target);
    } else {
      // link() fails when the target exists, so a file that appeared while we
      // received is never replaced.
      try {
        await Deno.link(temp, target);
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) {
          throw new FileSendError(
            "exists",
            `Cannot store "${name}": it exists and overwrite is off`,
            "receiver",
          );
        }
        throw error;
      }
      await Deno.remove(temp);
    }
    placed = true;
    return stored;
  } catch (error) {
    throw asFailure(error, params.idleTimeoutMs);
  } finally {
    await out?.close();
    file?.close();
    if (!placed) await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Removes temporary files that no live receiver holds: what a receiver
 * killed mid-transfer left behind. A live transfer keeps its file locked.
 */
async function sweepStaleTemps(dir: string, ctx: Context): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !TEMP_FILE.test(entry.name)) continue;
    const path = join(dir, entry.name);
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(path, { write: true });
      if (!await file.tryLock(true)) continue;
      await Deno.remove(path);
      ctx.log("info", `removed "${entry.name}", left by an interrupted transfer`);
    } catch (error) {
      // Gone meanwhile: a transfer that just finished moved it into place.
      if (error instanceof Deno.errors.NotFound) continue;
      ctx.log("warn", `could not remove "${entry.name}": ${(error as Error).message}`);
    } finally {
      file?.close();
    }
  }
}

/**
 * Reads until `buffer` is full or the stream ends; returns the bytes read.
 * Each read asks for at most {@linkcode READ_SIZE}: a connection keeps a
 * scratch buffer as large as its largest read under a timeout.
 */
async function fill(conn: Conn, buffer: Uint8Array, io: Io): Promise<number> {
  let off = 0;
  while (off < buffer.length) {
    const n = await conn.read(buffer.subarray(off, off + READ_SIZE), io);
    if (n === null) break;
    off += n;
  }
  return off;
}

/**
 * Refuses, before any body byte, a name taken by a file unless `overwrite`,
 * and always one taken by a directory, FIFO, socket or device: renaming onto
 * those fails (or replaces what is no file) only after the whole body came.
 * A symbolic link is replaced, never followed.
 */
async function checkTarget(params: FileReceiverParams, name: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(join(params.dir, name));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isFile && !info.isSymlink) {
    const kind = info.isDirectory ? "a directory" : "not a regular file";
    throw new FileSendError(
      "exists",
      `Cannot receive ${what} "${name}": it exists and is ${kind}, which is never replaced`,
      "receiver",
    );
  }
  if (!params.overwrite) {
    throw new FileSendError(
      "exists",
      `Cannot receive ${what} "${name}": it exists and overwrite is off`,
      "receiver",
    );
  }
}

/** Gives every failure a file-send code the sender can act on. */
function asFailure(error: unknown, idleMs: number): FileSendError {
  if (error instanceof FileSendError) return error;
  if (error instanceof TimeoutError) {
    return new FileSendError(
      "stalled",
      `Cannot receive file: the sender stalled for ${idleMs} ms`,
      "receiver",
      { cause: error },
    );
  }
  if (error instanceof ConnectionError) {
    return new FileSendError("truncated", `Cannot receive file: ${error.message}`, "receiver", {
      cause: error,
    });
  }
  // Only the system's reason goes to the sender: Deno's messages name the
  // paths involved (`…: rename '/srv/in/.wiretest-….part' -> '/srv/in/a'`).
  return new FileSendError("io", `Cannot store file: ${systemReason(error)}`, "receiver", {
    cause: error,
  });
}

/** "No space left on device (os error 28)" without the paths after it, or the error's class. */
function systemReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const os = /^[^:'"]*\(os error \d+\)/.exec(message);
  if (os) return os[0];
  // Deno's own permission check: its message names the path, which stays here.
  if (
    error instanceof Error && (error.name === "NotCapable" || error.name === "PermissionDenied")
  ) {
    return "the receiver is not permitted to write there";
  }
  return error instanceof Error ? error.name : "unknown error";
}
