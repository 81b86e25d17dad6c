/**
 * file-send: stream a file over TCP and check it arrived whole.
 *
 * - **framed** (default): the sender streams a header (name, size), the bytes
 *   and a sha256 trailer; the receiver writes into a temporary file inside its
 *   directory, verifies size and sha256, renames it into place atomically and
 *   acknowledges. A refused or broken transfer leaves no file behind and both
 *   sides say why. Each side streams through two buffers of one chunk (the
 *   sender reads the next chunk while it sends this one, the receiver writes
 *   one while it receives the next), so memory does not grow with the file.
 * - **raw**: bytes until EOF, like `nc`, `socat` or the classic Python
 *   `send_file`/`receive_file`; the sender reports the sha256 to compare.
 *
 * @example Sending a file to a receiver on loopback
 * ```ts
 * import { runFileSender, startFileReceiver } from "@wiretest/wiretest/plugins/file-send";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const src = await Deno.makeTempFile();
 * await Deno.writeTextFile(src, "hello, file");
 * const receiver = await startFileReceiver({ dir });
 * const outcome = await runFileSender({
 *   file: src,
 *   name: "greeting.txt",
 *   target: `127.0.0.1:${(receiver.address as Deno.NetAddr).port}`,
 * });
 * await receiver.close();
 * assert.equal(outcome.ok, true);
 * assert.equal(await Deno.readTextFile(`${dir}/greeting.txt`), "hello, file");
 * ```
 *
 * @module
 */
import {
  definePlugin,
  type Outcome,
  type Plugin,
  runClient,
  type RunOptions,
  type Service,
  startServer,
} from "../../lib/plugin/mod.ts";
import {
  type FileReceiverOptions,
  type FileReceiverParams,
  fileReceiverParams,
  type FileSenderOptions,
  type FileSenderParams,
  fileSenderParams,
} from "./params.ts";
import { serveReceiver } from "./receiver.ts";
import { sendFile } from "./sender.ts";
import { fileReceiverStats, fileSendOutcome } from "./_outcome.ts";

export * from "./params.ts";
export { FileSendError, type FileSendErrorCode } from "./protocol.ts";

/** The file-send plugin: receiver (server role) and sender (client role). */
const fileSend: Plugin<
  FileReceiverParams,
  FileSenderParams,
  FileReceiverOptions,
  FileSenderOptions
> = definePlugin({
  name: "file-send",
  version: "0.1.0",
  description: "Streams a file over TCP, verified by size and sha256 (framed) or raw until EOF.",
  server: { params: fileReceiverParams, serve: serveReceiver, stats: fileReceiverStats },
  client: {
    params: fileSenderParams,
    run: sendFile,
    positionals: ["file", "target"],
    summary: summarize,
    outcome: fileSendOutcome,
  },
});
export default fileSend;

function summarize(outcome: Outcome): string {
  const m = outcome.metrics;
  const f = outcome.facts;
  const ack = f.ack ? "acknowledged" : "sent raw";
  return `${f.name}: ${m.bytes} bytes ${ack} in ${(m.duration_ms ?? 0).toFixed(1)} ms ` +
    `(${(m.throughput_mib_s ?? 0).toFixed(1)} MiB/s), sha256 ${f.sha256}`;
}

/**
 * Starts a file receiver.
 *
 * @param options Directory, address, mode, limits.
 * @param run Signal, log and progress sinks.
 * @returns The running receiver.
 *
 * @example Receiving into a temporary directory
 * ```ts
 * import { startFileReceiver } from "@wiretest/wiretest/plugins/file-send";
 * import assert from "node:assert/strict";
 *
 * const receiver = await startFileReceiver({ dir: await Deno.makeTempDir() });
 * assert.equal(receiver.stats().files_received, 0);
 * await receiver.close();
 * ```
 */
export function startFileReceiver(
  options: FileReceiverOptions,
  run?: Omit<RunOptions, "timeout" | "deadline">,
): Promise<Service> {
  return startServer(fileSend, options, run);
}

/**
 * Sends a file and returns what happened (never throws for a failed transfer:
 * `ok` is `false` and `error` says why).
 *
 * @param options File, target, mode and limits.
 * @param run Timeout, signal, log and progress sinks.
 * @returns The outcome: bytes, duration, throughput, sha256, the acknowledgement.
 *
 * @example A refused transfer comes back as an outcome
 * ```ts
 * import { runFileSender } from "@wiretest/wiretest/plugins/file-send";
 * import assert from "node:assert/strict";
 *
 * const src = await Deno.makeTempFile();
 * const outcome = await runFileSender({ file: src, name: "../escape", target: "127.0.0.1:9" });
 * assert.equal(outcome.ok, false);
 * assert.match(outcome.error!.message, /path separator/);
 * ```
 */
export function runFileSender(options: FileSenderOptions, run?: RunOptions): Promise<Outcome> {
  return runClient(fileSend, options, run);
}
