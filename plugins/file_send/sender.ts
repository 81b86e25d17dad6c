// The sending side: streams a file (never holding it in memory), hashing as
// it goes, and reports what the receiver acknowledged.
import { createHash } from "node:crypto";
import { basename } from "node:path";
import {
  type Conn,
  ConnectionError,
  connectTcp,
  parseHostPort,
  readFull,
  TimeoutError,
} from "../../lib/transport/mod.ts";
import {
  type Context,
  deadlineOf,
  openInputFile,
  type Outcome,
  TIMED_OUT,
  within,
} from "../../lib/plugin/mod.ts";
import { Throughput } from "../../lib/metrics/mod.ts";
import type { FileSenderParams } from "./params.ts";
import {
  type Ack,
  ACK_FIXED,
  decodeAckBody,
  decodeAckFixed,
  encodeHeader,
  encodeTrailer,
  ERROR_CODES,
  FileSendError,
  type FileSendErrorCode,
  nameProblem,
  showPeerText,
} from "./protocol.ts";
import { byteProgress } from "./_progress.ts";
import { readAhead } from "./_read_ahead.ts";

/** Sends one file. */
export async function sendFile(params: FileSenderParams, ctx: Context): Promise<Outcome> {
  // The file first: a path that names nothing is the more basic mistake.
  using file = await openInputFile(params.file);
  const name = params.name ?? basename(params.file);
  if (params.mode === "framed") {
    const problem = nameProblem(name);
    if (problem) {
      throw new FileSendError("bad-name", `Cannot send file as "${name}": ${problem}`, "sender");
    }
  }
  const { hostname, port } = parseHostPort(params.target);
  const size = (await file.stat()).size;
  const deadline = deadlineOf({ timeout: params.timeoutMs, deadline: ctx.deadline });
  const base = { signal: ctx.signal, deadline };
  const io = { ...base, timeout: params.idleTimeoutMs };

  const meter = new Throughput();
  using conn = await connectTcp({ hostname, port, ...io });
  meter.start();
  const hash = createHash("sha256");
  let sent = 0;
  // In framed mode the receiver may refuse early (name, size, existing
  // file): listen for its answer while sending so a refusal stops us.
  const ack = params.mode === "framed" ? readAck(conn, base) : undefined;
  let refusal: Ack | undefined;
  // An "ok" before the trailer left acknowledges bytes the receiver cannot have had.
  let trailerSent = false;
  let earlyOk: number | undefined;
  // The connection ended (or was reset) before any answer, while the sender
  // still had bytes to send or had not yet sent its own end: it was cut.
  const ended: { cut?: { sent: number; cause: unknown } } = {};
  const wasCut = () => ended.cut;
  let finSent = false;
  ack?.then((a) => {
    if (!a.ok) refusal = a;
    else if (!trailerSent) earlyOk = sent;
  }, (error) => {
    if (!finSent && endedWithoutAnswer(error)) ended.cut = { sent, cause: error };
  });

  try {
    if (params.mode === "framed") await conn.write(encodeHeader(name, size), io);
    const progress = byteProgress(ctx, name, size);
    for await (const chunk of readAhead(file, size, params.chunkSize, params.file)) {
      if (refusal || earlyOk !== undefined || ended.cut) break;
      // Hashed while the socket takes the chunk: the write mostly waits for
      // the receiver to drain it.
      const writing = conn.write(chunk, io);
      hash.update(chunk);
      await writing;
      sent += chunk.length;
      meter.add(chunk.length);
      progress(sent);
    }
    const digest = new Uint8Array(hash.digest());
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    if (params.mode === "raw") {
      await conn.closeWrite();
      const peerClosed = await waitForClose(conn, Math.min(params.idleTimeoutMs, 2000));
      meter.stop();
      return outcome(true, { name, size, sent, sha256, meter, facts: { peer_closed: peerClosed } });
    }
    if (earlyOk !== undefined) throw prematureAck(earlyOk, size);
    if (ended.cut) throw cutShort(ended.cut.sent, size, params.target, ended.cut.cause);
    if (!refusal) {
      trailerSent = true;
      await conn.write(encodeTrailer(digest), io);
      // A moment for the answer before the sender's end (FIN) leaves: a
      // connection that closes in it, before the receiver can have seen the
      // end, was cut (`truncated`); one that closes only after it is a
      // receiver that read to the end without a word (`no-ack`).
      await within(ack!.catch(() => {}), Math.min(params.idleTimeoutMs, FIN_GRACE_MS));
      // (Read through a function: the answer's handler may have set it meanwhile.)
      const cutMeanwhile = wasCut();
      if (cutMeanwhile) throw cutShort(sent, size, params.target, cutMeanwhile.cause);
      // Nothing more to send: a receiver that reads to the end (a raw one
      // such as `nc -l`) sees it and closes, so the sender need not wait out
      // its idle timeout to learn that no acknowledgement is coming.
      finSent = true;
      await conn.closeWrite().catch(() => {});
    }
    // The connection ended without a word: the same question as a timeout.
    const answered = ack!.catch((error) => {
      if (error instanceof FileSendError && error.code === "no-ack") {
        throw noAck("before the connection closed", params.target, error);
      }
      throw error;
    });
    const answer = await withIdle(
      answered,
      params.idleTimeoutMs,
      () =>
        noAck(
          `within ${params.idleTimeoutMs} ms`,
          params.target,
          new TimeoutError({
            operation: "read",
            address: params.target,
            timeoutMs: params.idleTimeoutMs,
          }),
        ),
    );
    meter.stop();
    if (!answer.ok) throw rejection(answer);
    checkAck(answer, sent, sha256);
    return outcome(true, { name, size, sent, sha256, meter, facts: { ack: answer } });
  } catch (error) {
    // A write that failed because the receiver refused and closed: report
    // the receiver's reason, not the broken pipe.
    if (!refusal && ack) {
      refusal = await withIdle(ack, 1000, () => new Error("no refusal")).then(
        (a) => a.ok ? undefined : a,
        () => undefined,
      );
    }
    if (refusal) throw rejection(refusal, error);
    // A write the network or the receiver cut off before every byte went.
    if (error instanceof ConnectionError && CUT_CODES.has(error.code)) {
      throw cutShort(sent, size, params.target, error);
    }
    throw error;
  }
}

// How long a framed sender waits for the answer before it sends its FIN.
const FIN_GRACE_MS = 1000;

// Write errors that mean the connection was cut under the sender.
const CUT_CODES: ReadonlySet<string> = new Set(["broken-pipe", "reset", "closed"]);

/** Whether the answer's read failed because the connection ended without one. */
function endedWithoutAnswer(error: unknown): boolean {
  return (error instanceof FileSendError && error.code === "no-ack") ||
    (error instanceof ConnectionError && CUT_CODES.has(error.code));
}

/** The connection ended before the receiver can have had every byte. */
function cutShort(sent: number, size: number, target: string, cause: unknown): FileSendError {
  return new FileSendError(
    "truncated",
    `Cannot send file to ${target}: the connection was cut after ${sent} of ${size} bytes were sent, before the receiver could answer (the network or the receiver closed it early)`,
    "sender",
    { cause },
  );
}

const RAW_HINT = "is the receiver in raw mode? (`--mode raw`)";

/** No acknowledgement came (`how`: before the connection closed, within the idle timeout). */
function noAck(how: string, target: string, cause?: unknown): FileSendError {
  return new FileSendError(
    "no-ack",
    `Cannot send file to ${target}: no acknowledgement ${how} — ${RAW_HINT}`,
    "sender",
    { cause },
  );
}

/** The receiver said "ok" before the sender had sent the whole file and trailer. */
function prematureAck(sent: number, size: number): FileSendError {
  return new FileSendError(
    "ack-mismatch",
    `Cannot send file: the receiver acknowledged it after ${sent} of ${size} bytes, before the sha256 trailer`,
    "sender",
  );
}

/** An "ok" must name the very size and sha256 the sender sent. */
function checkAck(ack: Ack, sent: number, sha256: string): void {
  if (ack.bytes === sent && ack.sha256 === sha256) return;
  // The receiver's words: escaped and cut short, as any peer's text.
  const said = `${showPeerText(JSON.stringify(ack.bytes ?? null), 40)} bytes with sha256 ${
    showPeerText(JSON.stringify(ack.sha256 ?? null), 80)
  }`;
  throw new FileSendError(
    "ack-mismatch",
    `Cannot send file: the receiver acknowledged ${said}, but ${sent} bytes with sha256 "${sha256}" were sent`,
    "sender",
  );
}

function rejection(ack: Ack, cause?: unknown): FileSendError {
  return new FileSendError(
    // A code this sender does not know is the peer's word, not a reason.
    ERROR_CODES.has(ack.code ?? "") ? ack.code as FileSendErrorCode : "rejected",
    `Cannot send file: the receiver refused it: ${showPeerText(String(ack.message), 500)}`,
    "sender",
    { cause },
  );
}

async function readAck(conn: Conn, io: { signal: AbortSignal; deadline?: number }): Promise<Ack> {
  const fixed = new Uint8Array(ACK_FIXED);
  const got = await readFull(conn, fixed, io);
  if (got === 0) {
    throw new FileSendError(
      "no-ack",
      "Cannot send file: the receiver closed the connection without an acknowledgement",
      "sender",
    );
  }
  if (got < ACK_FIXED) {
    throw new FileSendError("truncated", "Cannot send file: acknowledgement cut short", "sender");
  }
  const { ok, length } = decodeAckFixed(fixed);
  const body = new Uint8Array(length);
  if (await readFull(conn, body, io) < length) {
    throw new FileSendError("truncated", "Cannot send file: acknowledgement cut short", "sender");
  }
  return decodeAckBody(ok, body);
}

async function withIdle<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  const result = await within(promise, ms);
  if (result === TIMED_OUT) throw timedOut();
  return result;
}

async function waitForClose(conn: Conn, ms: number): Promise<boolean> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer, { timeout: ms }) !== null) {
      // A raw receiver has nothing to say; drain whatever it sends.
    }
    return true;
  } catch {
    return false;
  }
}

function outcome(
  ok: boolean,
  r: {
    name: string;
    size: number;
    sent: number;
    sha256: string;
    meter: Throughput;
    facts: Record<string, unknown>;
  },
): Outcome {
  const snap = r.meter.snapshot();
  return {
    ok,
    metrics: {
      bytes: r.sent,
      file_bytes: r.size,
      duration_ms: snap.seconds * 1000,
      throughput_mib_s: snap.mibPerSecond,
    },
    facts: { name: r.name, sha256: r.sha256, ...r.facts },
  };
}
