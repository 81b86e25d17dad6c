// Params of the file-send roles. Explicit interfaces keep JSR's public types
// fast; the zod schemas validate fixtures and CLI flags against them.
import { checkHost, parseConnectAddress } from "../../lib/transport/mod.ts";
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "../../lib/plugin/mod.ts";

/** How bytes travel: `framed` (header, bytes, sha256 trailer, acknowledgement) or `raw` (bytes until EOF). */
export type FileSendMode = "framed" | "raw";

/** What a user passes to the receiver (server role). */
export interface FileReceiverOptions {
  /** Directory the received files go into (must exist). */
  dir: string;
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** `framed` (default) or `raw`. */
  mode?: FileSendMode;
  /** Replace an existing file of the same name (default `false`). */
  overwrite?: boolean;
  /** Largest file accepted, in bytes (default 10 GiB). */
  maxBytes?: number;
  /** Give up on a sender silent for this long (default 30000 ms). */
  idleTimeoutMs?: number;
  /**
   * Give up on a sender slower than this many bytes per second (default 240,
   * as the HTTP responder; 0: no minimum). From its first byte, with
   * `idleTimeoutMs` of slack: the sender may fall at most that far behind
   * the rate, and sending fast early buys no more.
   */
  minDataRate?: number;
  /** Refuse (close at once) connections beyond this many open (default 256). */
  maxConnections?: number;
  /** Raw mode: the name to store each received stream under (default `received.bin`). */
  rawName?: string;
}

/** The receiver's params after defaults. */
export interface FileReceiverParams {
  /** Directory the received files go into. */
  dir: string;
  /** Address bound. */
  host: string;
  /** Port bound (0: a free one). */
  port: number;
  /** `framed` or `raw`. */
  mode: FileSendMode;
  /** Whether an existing file may be replaced. */
  overwrite: boolean;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Milliseconds a sender may stay silent. */
  idleTimeoutMs: number;
  /** Lowest rate a sender may send at, in bytes per second (0: none). */
  minDataRate: number;
  /** Most connections open at once. */
  maxConnections: number;
  /** Raw mode: the name each received stream is stored under. */
  rawName: string;
}

/** What a user passes to the sender (client role). */
export interface FileSenderOptions {
  /** Path of the file to send. */
  file: string;
  /** Receiver address, `host:port`. */
  target: string;
  /** `framed` (default) or `raw`. */
  mode?: FileSendMode;
  /** Name announced to the receiver (default: the file's base name). */
  name?: string;
  /** Size of each read and write, in bytes (default 1 MiB). */
  chunkSize?: number;
  /**
   * Give up when a write or the answer makes no progress for this long
   * (default 30000 ms). The kernel wakes a blocked sender only after a good
   * part of what it queued has drained (on loopback, over 600 KiB), so a
   * receiver that drains less than that per `idleTimeoutMs` counts as stopped.
   */
  idleTimeoutMs?: number;
  /** Give up when the whole transfer takes longer (default: no limit besides the run's deadline). */
  timeoutMs?: number;
}

/** The sender's params after defaults. */
export interface FileSenderParams {
  /** Path of the file to send. */
  file: string;
  /** Receiver address, `host:port`. */
  target: string;
  /** `framed` or `raw`. */
  mode: FileSendMode;
  /** Name announced to the receiver (default: the file's base name). */
  name?: string;
  /** Size of each read and write, in bytes. */
  chunkSize: number;
  /** Milliseconds the receiver may stop reading before the send gives up. */
  idleTimeoutMs: number;
  /** Milliseconds the whole transfer may take. */
  timeoutMs?: number;
}

const mode = z.enum(["framed", "raw"]).default("framed")
  .describe("framed: header, bytes, sha256 trailer and acknowledgement; raw: bytes until EOF");

const fileReceiverSchema = z.object({
  dir: z.string().min(1).describe("directory the received files go into (must exist)"),
  host: z.string().superRefine(issueFrom(checkHost)).default("127.0.0.1")
    .describe("address to bind"),
  port: z.number().int().min(0).max(65535).default(0).describe("port to bind (0: a free one)"),
  mode,
  overwrite: z.boolean().default(false).describe("replace an existing file of the same name"),
  maxBytes: z.number().int().min(0).default(10 * 1024 ** 3)
    .describe("largest file accepted, in bytes"),
  idleTimeoutMs: z.number().int().min(1).default(30_000)
    .describe("give up on a sender silent for this long (ms)"),
  minDataRate: z.number().int().min(0).max(1_000_000_000).default(240).describe(
    "give up on a sender slower than this many bytes/s (from its first byte, falling at most idleTimeoutMs behind; 0: no minimum)",
  ),
  maxConnections: z.number().int().min(1).max(1_000_000).default(256)
    .describe("refuse (close at once) connections beyond this many open"),
  rawName: z.string().min(1).default("received.bin")
    .describe("raw mode: the name each received stream is stored under"),
}).strict();

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof fileReceiverSchema, FileReceiverParams, FileReceiverOptions>;

/**
 * Schema of the receiver's params.
 *
 * @example Defaults
 * ```ts
 * import { fileReceiverParams } from "@wiretest/wiretest/plugins/file-send";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(fileReceiverParams, { dir: "/tmp" });
 * assert.equal(params.mode, "framed");
 * assert.equal(params.overwrite, false);
 * ```
 */
export const fileReceiverParams: ParamsSchema<FileReceiverParams, FileReceiverOptions> =
  fileReceiverSchema;

const fileSenderSchema = z.object({
  file: z.string().min(1).describe("path of the file to send"),
  target: z.string().superRefine(issueFrom(parseConnectAddress))
    .describe("receiver address, host:port"),
  mode,
  name: z.string().min(1).optional().describe(
    "name announced to the receiver (default: base name)",
  ),
  // 1 MiB: a quarter of the runtime ops and hash calls of 256 KiB, and 1.4×
  // the throughput of 256 KiB side by side; two buffers of it stay flat.
  chunkSize: z.number().int().min(1).max(16 * 1024 * 1024).default(1024 * 1024)
    .describe("size of each read and write, in bytes"),
  idleTimeoutMs: z.number().int().min(1).default(30_000)
    .describe("give up when a write or the answer makes no progress for this long (ms)"),
  timeoutMs: z.number().int().min(1).optional()
    .describe("give up when the whole transfer takes longer (ms)"),
}).strict();

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof fileSenderSchema, FileSenderParams, FileSenderOptions>;

/**
 * Schema of the sender's params.
 *
 * @example A chunk size of 0 is refused
 * ```ts
 * import { fileSenderParams } from "@wiretest/wiretest/plugins/file-send";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => validateParams(fileSenderParams, { file: "a", target: "127.0.0.1:1", chunkSize: 0 }),
 *   /"chunkSize"/,
 * );
 * ```
 */
export const fileSenderParams: ParamsSchema<FileSenderParams, FileSenderOptions> = fileSenderSchema;

// A transport check as a params refinement: its message is the issue.
function issueFrom(check: (text: string) => unknown) {
  return (text: string, ctx: z.RefinementCtx): void => {
    try {
      check(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  };
}
