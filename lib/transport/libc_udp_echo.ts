/**
 * A UDP echo on a libc socket in a Worker of its own
 * ({@linkcode openLibcUdp}): each datagram goes back to its sender without
 * an event loop in between.
 *
 * @module
 */
import { toNetError } from "../errors.ts";
import { formatAddress } from "./address.ts";
import { LibcError } from "./libc_udp.ts";
import { workerRefusal } from "./udp_io.ts";
import {
  ECHO_COUNTER_COUNT,
  ECHO_COUNTERS,
  type EchoWorkerReply,
  type EchoWorkerStart,
} from "./_libc_udp_echo_protocol.ts";

/** Counters of a {@linkcode LibcUdpEcho}. */
export interface LibcUdpEchoCounts {
  /** Datagrams received. */
  datagramsIn: number;
  /** Datagrams echoed. */
  datagramsOut: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes echoed. */
  bytesOut: number;
  /** Echoes the kernel refused; the echo goes on. */
  sendErrors: number;
  /** Datagrams counted apart (see {@linkcode LibcUdpEchoApart}): echoed, in no other counter but `sendErrors`. */
  apart: number;
  /**
   * Datagrams the kernel dropped on their way into the echo's socket (its
   * receive buffer full: the echo fell behind a burst), counted neither in
   * nor out; `undefined` where the kernel keeps no count.
   */
  receiveDrops?: number;
}

/** Which datagrams a {@linkcode startLibcUdpEcho} counts apart (a protocol's warm-up, say). */
export interface LibcUdpEchoApart {
  /** A big-endian 32-bit value the datagram starts with. */
  magic: number;
  /** The fewest bytes such a datagram has. */
  minLength: number;
}

/** A running echo started by {@linkcode startLibcUdpEcho}. */
export interface LibcUdpEcho {
  /** The bound address. */
  readonly address: Deno.NetAddr;
  /** `true` when arrivals carry the kernel's receive timestamps. */
  readonly kernelTimestamps: boolean;
  /** The counters now. */
  counts(): LibcUdpEchoCounts;
  /** Set when the loop stopped on a socket error before close(). */
  readonly failure: Error | undefined;
  /** Stops the loop (within 20 ms), closes the socket and the Worker. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an echo on a libc socket in a Worker of its own. Check
 * {@linkcode libcUdpRefusal} first: FFI bypasses the net permission.
 *
 * @param hostname An IP literal to bind.
 * @param port The port (0: a free one).
 * @param reuseAddress Set `SO_REUSEADDR`.
 * @param apart Datagrams to echo but count in `apart` instead of the other
 * counters (send errors excepted).
 * @returns The echo, or `{ refused }` when libc cannot be loaded here or
 * its Worker cannot start (it needs read permission for its module).
 * @throws {ConnectionError} With code `address-in-use` when the port is taken.
 *
 * @example Echoing one datagram
 * ```ts
 * import { bindUdp, libcUdpRefusal, startLibcUdpEcho } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * if (libcUdpRefusal([{ hostname: "127.0.0.1", port: 0 }]) === undefined) {
 *   const echo = await startLibcUdpEcho("127.0.0.1", 0);
 *   assert.ok(!("refused" in echo));
 *   using client = bindUdp();
 *   await client.send(new Uint8Array([7]), echo.address);
 *   assert.deepEqual((await client.receive({ timeout: 2000 })).data, new Uint8Array([7]));
 *   assert.equal(echo.counts().datagramsOut, 1);
 *   await echo.close();
 * }
 * ```
 */
export function startLibcUdpEcho(
  hostname: string,
  port: number,
  reuseAddress = false,
  apart?: LibcUdpEchoApart,
): Promise<LibcUdpEcho | { refused: string }> {
  const where = formatAddress({ transport: "udp", hostname, port });
  const counts = new SharedArrayBuffer(8 * ECHO_COUNTER_COUNT);
  const stop = new SharedArrayBuffer(4);
  const shared = new Float64Array(counts);
  const module = new URL("./_libc_udp_echo_worker.ts", import.meta.url);
  const refused = workerRefusal(module);
  if (refused) return Promise.resolve({ refused });
  const worker = new Worker(module, { type: "module" });
  let ended: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  let failure: Error | undefined;
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      if (!ended) {
        // The Worker did not start (e.g. no read permission for its module):
        // nothing was bound, so this is a path that cannot be taken here.
        resolve({ refused: `the echo's Worker did not start: ${event.message}` });
        return;
      }
      failure = new Error(`Cannot run the libc UDP echo on ${where}: ${event.message}`);
      ended();
    };
    worker.onmessage = ({ data: m }: MessageEvent<EchoWorkerReply>) => {
      if (m.type === "bound") {
        // Until close(), the loop's end is only a failure to record.
        ended = () => worker.terminate();
        resolve({
          address: { transport: "udp", hostname: m.hostname, port: m.port },
          kernelTimestamps: m.kernelTimestamps,
          counts: () => ({
            datagramsIn: shared[ECHO_COUNTERS.IN],
            datagramsOut: shared[ECHO_COUNTERS.OUT],
            bytesIn: shared[ECHO_COUNTERS.BYTES_IN],
            bytesOut: shared[ECHO_COUNTERS.BYTES_OUT],
            sendErrors: shared[ECHO_COUNTERS.SEND_ERRORS],
            apart: shared[ECHO_COUNTERS.APART],
            ...(shared[ECHO_COUNTERS.RECEIVE_DROPS] < 0
              ? {}
              : { receiveDrops: shared[ECHO_COUNTERS.RECEIVE_DROPS] }),
          }),
          get failure() {
            return failure;
          },
          close: () =>
            closing ??= new Promise<void>((done) => {
              const before = ended;
              ended = () => {
                before?.();
                done();
              };
              Atomics.store(new Int32Array(stop), 0, 1);
              // The loop already ended on a failure: nothing will answer.
              if (failure) ended();
            }),
        });
      } else if (m.type === "closed") {
        ended?.();
      } else if (m.type === "refused") {
        worker.terminate();
        resolve({ refused: m.reason });
      } else if (ended) {
        failure = toNetError(new LibcError(m.call, m.errno), "receive", where);
        ended();
      } else {
        worker.terminate();
        reject(toNetError(new LibcError(m.call, m.errno), "listen", where));
      }
    };
    worker.postMessage(
      { hostname, port, reuseAddress, apart, counts, stop } satisfies EchoWorkerStart,
    );
  });
}
