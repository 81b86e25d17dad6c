// Runs in a Worker of the host (with the host's permissions, wiretest's own
// code only): starts one isolated plugin's Deno process, captures its stdout
// and stderr as escaped, bounded log lines, watches its resident memory, and
// answers `stats()` through a shared buffer on a socket of its own (so the
// main thread can wait for it synchronously, as the Service contract wants).
// Requests and replies go between the main thread and the process directly
// (_isolation_channel.ts), without this thread in between. The plugin's code
// never runs here.
import type { ManifestEntry } from "./manifest.ts";
import { encodeFrame, readFrames } from "./_isolation_frames.ts";
import { type ImportRefusal, preflight, type PreflightOptions } from "./_isolation_preflight.ts";
import {
  type MemoryExceeded,
  type Reply,
  type Request,
  STATS_BYTES,
  STATS_HEADER,
  StatsStatus,
} from "./_isolation_protocol.ts";
import { escapeOutput } from "./_isolation_output.ts";

/** What the host's main thread tells the bridge first. */
export interface BridgeConfig {
  entry: ManifestEntry;
  deno: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** The socket this Worker listens on for the process's stats connection. */
  socket: string;
  token: string;
  /** Where stats answers go: header and body, as `STATS_HEADER` and `STATS_BYTES` lay them out. */
  stats: SharedArrayBuffer;
  memoryMiB: number;
  /** The V8 heap ceiling given to the process (at most `memoryMiB`). */
  heapMiB: number;
  /** Checks the plugin's imports first, unless they were checked already. */
  preflight?: PreflightOptions;
  /** Bytes of output kept from the process before the rest is dropped. */
  outputBytes: number;
}

/** Bridge → host: the process's events (the plugin's replies come by the channel). */
export type BridgeReply =
  | Extract<Reply, { type: "output" | "exited" }>
  | { type: "spawned"; pid: number }
  | { type: "refused"; refusal: ImportRefusal }
  | { type: "checked" }
  | { type: "failed"; message: string };

const WATCH_MS = 100;

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
      start(message.config).catch((error) => {
        post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
      });
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

async function start(config: BridgeConfig): Promise<void> {
  if (config.preflight) {
    const refusal = await preflight(config.entry, config.preflight);
    if (refusal) return post({ type: "refused", refusal });
    post({ type: "checked" });
  }
  const listener = Deno.listen({ transport: "unix", path: config.socket });
  const child = new Deno.Command(config.deno, {
    args: config.args,
    clearEnv: true,
    env: config.env,
    cwd: config.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  post({ type: "spawned", pid: child.pid });
  const output = new Output(config.outputBytes);
  const stdout = output.capture(child.stdout, "stdout");
  const stderr = output.capture(child.stderr, "stderr");
  let memory: MemoryExceeded | undefined;
  const watchdog = setInterval(() => {
    const rssMiB = residentMiB(child.pid);
    if (rssMiB !== undefined && rssMiB > config.memoryMiB && !memory) {
      memory = { limitMiB: config.memoryMiB, kind: "rss", rssMiB };
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }, WATCH_MS);
  void accept(listener, config).finally(() => {
    close(listener);
    Deno.remove(config.socket).catch(() => {});
  });
  const status = await child.status;
  clearInterval(watchdog);
  close(listener);
  await Promise.allSettled([stdout, stderr]);
  const tail = output.tail;
  // V8 prints its last GCs, then "Fatal JavaScript out of memory: Reached
  // heap limit", and traps; the process often dies before the second line is out.
  if (
    !memory &&
    /heap out of memory|Allocation failed|Reached heap limit|<--- Last few GCs --->/i.test(tail)
  ) {
    memory = { limitMiB: config.heapMiB, kind: "heap" };
  }
  post({
    type: "exited",
    code: status.code,
    signal: status.signal,
    stderr: tail,
    ...(memory ? { memory } : {}),
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

/** Resident memory of a process in MiB, from /proc (Linux); `undefined` elsewhere. */
function residentMiB(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The plugin process's output as log lines: escaped, attributed by the host, bounded. */
class Output {
  #left: number;
  #dropped = false;
  tail = "";

  constructor(bytes: number) {
    this.#left = bytes;
  }

  async capture(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (name === "stderr") this.tail = (this.tail + text).slice(-4096);
      if (this.#left <= 0) {
        if (!this.#dropped) {
          this.#dropped = true;
          post({
            type: "output",
            stream: name,
            line: "(more output than wiretest keeps: the rest is dropped)",
          });
        }
        continue;
      }
      this.#left -= chunk.length;
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > 4096) {
        lines.push(partial);
        partial = "";
      }
      for (const line of lines) post({ type: "output", stream: name, line: escapeOutput(line) });
    }
    if (partial) post({ type: "output", stream: name, line: escapeOutput(partial) });
  }
}
