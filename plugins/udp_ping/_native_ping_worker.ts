// The Worker behind runNativePing(): the whole client run as one blocking
// loop on a libc socket, timestamps taken by the kernel on arrival
// (SO_TIMESTAMPNS) and by clock_gettime right before each sendto. Same
// schedule, timeouts and counting as the event-loop run (_ping_run.ts).
import {
  LibcError,
  type LibcUdp,
  type LibcUdpSocket,
  openLibcUdp,
} from "../../lib/transport/unstable_udp.ts";
import { PingPacket } from "./_packet.ts";
import { PingTally, RTT_SERIES_POINTS, WARM_UP_ANSWERED } from "./_tally.ts";
import { warmUpWaitMs } from "./_warm_up.ts";
import type { NativePingReply, NativePingStart } from "./_native_ping.ts";

// The Worker's own scope (this file runs only as a Worker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, options?: { transfer?: Transferable[] }): void;
};

// Longest blocking wait: how soon a stop (abort) is seen.
const STOP_CHECK_MS = 20;
const PROGRESS_EVERY_MS = 250;
// Most datagrams already queued that the end of a run still counts.
const QUEUED_AT_END = 1024;

scope.onmessage = (event: MessageEvent<NativePingStart>) => {
  const o = event.data;
  const reply = (message: NativePingReply, transfer: Transferable[] = []) =>
    scope.postMessage(message, { transfer });
  reply({ type: "started" });
  const opened = openLibcUdp();
  if (!opened.libc) return reply({ type: "refused", reason: opened.reason });
  const libc = opened.libc;
  let socket: LibcUdpSocket;
  try {
    socket = libc.bind(o.bindHostname, 0);
  } catch (error) {
    libc.close();
    if (!(error instanceof LibcError)) throw error;
    return reply({ type: "bind-error", call: error.call, errno: error.errno });
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.close();
    libc.close();
  };
  try {
    ping(o, libc, socket, reply, close);
  } catch (error) {
    // Closed here whatever failed: a Worker terminated after an uncaught
    // error would leave its socket open (and bound) for the process's life.
    close();
    reply({
      type: "crashed",
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
};

// The run itself, from a bound socket to the "done" reply; `close` closes
// the socket and libc before that reply (the host terminates the Worker
// once it has it).
function ping(
  o: NativePingStart,
  libc: LibcUdp,
  socket: LibcUdpSocket,
  reply: (message: NativePingReply, transfer?: Transferable[]) => void,
  close: () => void,
): void {
  // ICMP port unreachable, reported without connecting the socket (which
  // would hide foreign datagrams): counted per error, the run goes on.
  socket.reportErrors();
  const stop = new Int32Array(o.stop);
  const rtts = new Float64Array(o.count);
  const packet = new PingPacket(o.size, o.id);
  const tally = new PingTally({
    count: o.count,
    packet,
    peer: o.peer,
    timeoutMs: o.timeoutMs,
    record: (rtt) => rtts[tally.received - 1] = rtt,
    log: (message) => reply({ type: "log", message }),
  });
  let failure: { call: string; errno: number } | undefined;
  let kernelOnly = true;
  let progressAt = -Infinity;
  const stopped = () => failure !== undefined || Atomics.load(stop, 0) !== 0;
  const progress = (final: boolean) => {
    const now = libc.now();
    if (!final && now - progressAt < PROGRESS_EVERY_MS) return;
    progressAt = now;
    reply({ type: "progress", done: tally.sent });
  };

  // ICMP errors reported when a wait began: a new one ends a warm-up wait.
  let errorsBefore = 0;
  const waiting = (seq: number) =>
    seq === WARM_UP_ANSWERED
      ? tally.warmUpPending() && socket.errorsReported === errorsBefore
      : seq < 0 || tally.pending(seq);
  // Takes datagrams until `until`, or until ping `seq` (or the warm-up ping,
  // WARM_UP_ANSWERED) is answered, or a stop.
  const waitUntil = (until: number, seq: number) => {
    while (!stopped() && waiting(seq)) {
      const left = until - libc.now();
      if (left <= 0) return;
      let got;
      try {
        got = socket.receive(Math.min(left, STOP_CHECK_MS));
      } catch (error) {
        if (!(error instanceof LibcError)) throw error;
        failure = { call: error.call, errno: error.errno };
        return;
      }
      if (!got) continue;
      if (!got.kernel) kernelOnly = false;
      tally.count(socket.buffer, got.length, got.fromHostname, got.fromPort, got.at);
    }
  };
  const waitAnswered = (seq: number) => waitUntil(tally.sentAt[seq] + o.timeoutMs, seq);
  const send = (seq: number) => {
    const bytes = tally.stamp(seq, libc.now());
    const errno = socket.sendTo(bytes, bytes.length, o.peer.hostname, o.peer.port);
    if (errno === 0) tally.sent++;
    else failure = { call: "sendto", errno };
    progress(false);
  };

  // The warm-up (_warm_up.ts): one ping at a time, each waited for; the
  // first unanswered one (or an ICMP error: nothing listens) ends it.
  const warmUpWait = warmUpWaitMs(o.timeoutMs);
  for (let seq = 0; seq < o.warmUp && !stopped(); seq++) {
    const at = libc.now();
    const bytes = tally.stampWarmUp(seq, at);
    errorsBefore = socket.errorsReported;
    if (socket.sendTo(bytes, bytes.length, o.peer.hostname, o.peer.port) !== 0) break;
    tally.warmUpSent++;
    waitUntil(at + warmUpWait, WARM_UP_ANSWERED);
    if (tally.warmUpPending()) break;
  }
  tally.endWarmUp();
  // Errors the warm-up met are not the timed pings'.
  const warmUpErrors = socket.errorsReported;

  const startedAt = libc.now();
  if (o.intervalMs > 0) {
    // An absolute schedule: a slow wake-up delays one send, not every later one.
    for (let seq = 0; seq < o.count && !stopped(); seq++) {
      waitUntil(startedAt + seq * o.intervalMs, -1);
      if (stopped()) break;
      send(seq);
    }
  } else {
    for (let seq = 0; seq < o.count && !stopped(); seq++) {
      send(seq);
      waitAnswered(seq);
    }
  }
  // Pings time out in the order they were sent: once the newest unanswered
  // one has timed out, all the others have too.
  let newest = tally.issued - 1;
  while (!stopped()) {
    while (newest >= 0 && !tally.pending(newest)) newest--;
    if (newest < 0) break;
    waitAnswered(newest);
    if (tally.pending(newest)) break;
  }
  // What already arrived counts, as on the event-loop path, whose receive
  // loop takes queued datagrams before the run ends.
  for (let i = 0; i < QUEUED_AT_END && !failure; i++) {
    let got;
    try {
      got = socket.receive(0);
    } catch (error) {
      if (!(error instanceof LibcError)) throw error;
      failure = { call: error.call, errno: error.errno };
      break;
    }
    if (!got) break;
    tally.count(socket.buffer, got.length, got.fromHostname, got.fromPort, got.at);
  }
  const endedAt = libc.now();
  // Untimed, and before the socket closes: the socket was new, so all its drops are the run's.
  const drops = socket.drops() ??
    "the kernel counts no drops for this socket (SO_MEMINFO, SO_RXQ_OVFL)";
  progress(true);
  close();
  const received = rtts.slice(0, tally.received);
  reply({
    type: "done",
    local: { hostname: socket.hostname, port: socket.port },
    counts: {
      sent: tally.sent,
      received: tally.received,
      duplicates: tally.duplicates,
      reordered: tally.reordered,
      late: tally.late,
      foreign: tally.foreign,
      malformed: tally.malformed,
      jitter: tally.jitter,
      unreachable: socket.errorsReported - warmUpErrors,
      warmUpSent: tally.warmUpSent,
      warmUpAnswered: tally.warmUpAnswered,
    },
    rtts: received,
    rttBySeq: tally.rttSeries(RTT_SERIES_POINTS),
    durationMs: endedAt - startedAt,
    kernelTimestamps: socket.kernelTimestamps && kernelOnly,
    receiveDrops: drops,
    failure,
  }, [received.buffer]);
}
