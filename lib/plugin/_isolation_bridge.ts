// Runs in a Worker of the host (with the host's permissions, wiretest's own
// code only): answers a service's `stats()` through a shared buffer, on a
// socket of its own to the plugin's process, so the host's main thread can
// wait for it synchronously, as the Service contract wants. The process is
// started, heard on stdout/stderr and watched by the main thread
// (_isolation_host.ts), which also owns the request/reply socket
// (_isolation_channel.ts); this thread starts after the process, so its
// start-up is not on the way to the plugin's. The plugin's code never runs here.
import { encodeFrame, readFrames } from "./_isolation_frames.ts";
import {
  type Reply,
  type Request,
  STATS_BYTES,
  STATS_HEADER,
  StatsStatus,
} from "./_isolation_protocol.ts";

/** What the host's main thread tells the bridge first. */
export interface BridgeConfig {
  /** The socket this Worker listens on for the process's stats connection. */
  socket: string;
  token: string;
  /** Where stats answers go: header and body, as `STATS_HEADER` and `STATS_BYTES` lay them out. */
  stats: SharedArrayBuffer;
}

/** Bridge → host: the process connected for stats, or the stats socket cannot be listened on. */
export type BridgeReply = { type: "connected" } | { type: "failed"; message: string };

interface Scope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

const scope = globalThis as unknown as Scope;
const WorkerGlobal = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
  .WorkerGlobalScope;

let statsHeader: Int32Array | undefined;
let statsBody: Uint8Array | undefined;
const pending: Uint8Array[] = [];
let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;

if (WorkerGlobal && globalThis instanceof WorkerGlobal) {
  scope.addEventListener("message", (event) => {
    const message = event.data as { type: "bridge"; config: BridgeConfig } | Request;
    if (message.type === "bridge") {
      statsHeader = new Int32Array(message.config.stats, 0, STATS_HEADER / 4);
      statsBody = new Uint8Array(message.config.stats, STATS_HEADER);
      try {
        start(message.config);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        post({ type: "failed", message: `its stats bridge cannot listen: ${detail}` });
      }
    } else {
      send(message);
    }
  });
}

function post(message: BridgeReply): void {
  scope.postMessage(message);
}

function send(request: Request): void {
  const frame = encodeFrame(request);
  if (writer) void writer.write(frame).catch(() => {});
  else pending.push(frame);
}

function start(config: BridgeConfig): void {
  const listener = Deno.listen({ transport: "unix", path: config.socket });
  void accept(listener, config).finally(() => {
    close(listener);
    Deno.remove(config.socket).catch(() => {});
  });
}

/** Accepts the plugin process's stats connection (the first with the right token) and answers. */
async function accept(listener: Deno.Listener, config: BridgeConfig): Promise<void> {
  let conn: Deno.Conn;
  try {
    conn = await listener.accept();
  } catch {
    return;
  }
  const frames = readFrames(conn.readable);
  try {
    const hello = await frames.next();
    const first = hello.value as { type?: unknown; token?: unknown } | undefined;
    if (hello.done || first?.type !== "hello" || first.token !== config.token) {
      conn.close();
      return;
    }
  } catch {
    return;
  }
  close(listener);
  post({ type: "connected" });
  writer = conn.writable.getWriter();
  for (const frame of pending.splice(0)) void writer.write(frame).catch(() => {});
  try {
    for await (const frame of frames) {
      const reply = frame as Reply;
      // Only stats answers come this way; anything else is not the plugin's to send here.
      if (typeof reply === "object" && reply !== null && reply.type === "stats") writeStats(reply);
    }
  } catch {
    // The process is gone, or broke the protocol: stats() then waits in vain, bounded.
  }
}

function writeStats(reply: Extract<Reply, { type: "stats" }>): void {
  if (!statsHeader || !statsBody) return;
  const seq = Number(reply.seq);
  let status = Number(reply.status) as StatsStatus;
  let bytes = new TextEncoder().encode(String(reply.text));
  if (bytes.length > STATS_BYTES) {
    status = StatsStatus.TooLarge;
    bytes = new Uint8Array(0);
  }
  statsBody.set(bytes);
  Atomics.store(statsHeader, 1, bytes.length);
  Atomics.store(statsHeader, 2, status);
  // The sequence last: the host reads the rest once it sees it.
  Atomics.store(statsHeader, 0, seq);
  Atomics.notify(statsHeader, 0);
}

function close(listener: Deno.Listener): void {
  try {
    listener.close();
  } catch {
    // Closed already.
  }
}
