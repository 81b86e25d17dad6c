// The Worker behind startLibcUdpEcho(): a blocking receive/send loop on a
// libc socket. Counters go to shared memory so the host reads them at any
// time; the host stops the loop through a shared flag seen within
// STOP_CHECK_MS.
import { LibcError, type LibcUdpSocket, openLibcUdp } from "./libc_udp.ts";
import {
  ECHO_COUNTERS,
  type EchoWorkerReply,
  type EchoWorkerStart,
} from "./_libc_udp_echo_protocol.ts";

// The Worker's own scope (this file runs only as a Worker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

const STOP_CHECK_MS = 20;

scope.onmessage = (event: MessageEvent<EchoWorkerStart>) => {
  const start = event.data;
  const reply = (message: EchoWorkerReply) => scope.postMessage(message);
  const opened = openLibcUdp();
  if (!opened.libc) return reply({ type: "refused", reason: opened.reason });
  let socket: LibcUdpSocket;
  try {
    socket = opened.libc.bind(start.hostname, start.port, start.reuseAddress);
  } catch (error) {
    opened.libc.close();
    if (!(error instanceof LibcError)) throw error;
    return reply({ type: "error", call: error.call, errno: error.errno });
  }
  reply({
    type: "bound",
    hostname: socket.hostname,
    port: socket.port,
    kernelTimestamps: socket.kernelTimestamps,
  });
  const counts = new Float64Array(start.counts);
  const stop = new Int32Array(start.stop);
  const { IN, OUT, BYTES_IN, BYTES_OUT, SEND_ERRORS, APART, RECEIVE_DROPS } = ECHO_COUNTERS;
  // Drops: what each datagram carries (no syscall), and one getsockopt when
  // a wait ends with nothing (no echo is waiting then).
  counts[RECEIVE_DROPS] = socket.drops() ?? -1;
  const countsDrops = counts[RECEIVE_DROPS] >= 0;
  const apartMagic = start.apart?.magic ?? -1;
  const apartMinLength = start.apart?.minLength ?? Infinity;
  const head = new DataView(socket.buffer.buffer);
  let failure: LibcError | undefined;
  try {
    while (Atomics.load(stop, 0) === 0) {
      // Blocked in recvmsg itself: the echo leaves one call sooner than
      // after a poll (the stop flag is still seen within a clock tick more).
      const got = socket.receiveBlocking(STOP_CHECK_MS);
      if (!got) {
        if (countsDrops) counts[RECEIVE_DROPS] = socket.drops() ?? counts[RECEIVE_DROPS];
        continue;
      }
      if (got.drops > counts[RECEIVE_DROPS]) counts[RECEIVE_DROPS] = got.drops;
      const apart = got.length >= apartMinLength && head.getUint32(0) === apartMagic;
      // Counted before it is sent: the sender may have the echo (and read
      // the counters on another thread) before sendto returns here.
      if (apart) counts[APART]++;
      else {
        counts[IN]++;
        counts[BYTES_IN] += got.length;
        counts[OUT]++;
        counts[BYTES_OUT] += got.length;
      }
      // Sent before the next receive: backpressure instead of a queue.
      if (socket.sendTo(socket.buffer, got.length, got.fromHostname, got.fromPort) !== 0) {
        if (!apart) {
          counts[OUT]--;
          counts[BYTES_OUT] -= got.length;
        }
        // One refused echo (full kernel buffer, vanished sender) does not stop the echo.
        counts[SEND_ERRORS]++;
      }
    }
  } catch (error) {
    if (!(error instanceof LibcError)) throw error;
    failure = error;
  } finally {
    if (countsDrops) counts[RECEIVE_DROPS] = socket.drops() ?? counts[RECEIVE_DROPS];
    socket.close();
    opened.libc.close();
  }
  reply(failure ? { type: "error", call: failure.call, errno: failure.errno } : { type: "closed" });
};
