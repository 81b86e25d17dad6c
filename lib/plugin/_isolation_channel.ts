// The host main thread's own connection to an isolated plugin's process:
// requests go out and replies come in over a private Unix socket with no
// thread in between (a process in between cost a wake-up of each thread per
// message). The process is started, watched and heard on stdout/stderr by
// the bridge Worker (_isolation_bridge.ts), which also answers `stats()`.
import type * as Frames from "./_isolation_frames.ts";
import type { Reply } from "./_isolation_protocol.ts";

// The frames' module, loaded once a process is started rather than before:
// its node:v8 is the first Node module the CLI's process needs, and loading
// Node's compatibility layer (4–5 ms) then overlaps the process's own start.
let frames: typeof Frames | undefined;
let loading: Promise<typeof Frames> | undefined;

/** Loads the frames' module (once); {@linkcode loadedFrames} has it from then on. */
export function loadFrames(): Promise<typeof Frames> {
  return loading ??= import("./_isolation_frames.ts").then((module) => frames = module);
}

/** The frames' module, or `undefined` until {@linkcode loadFrames} has loaded it. */
export function loadedFrames(): typeof Frames | undefined {
  return frames;
}

// The replies a plugin's process may send here: the others (stats, output,
// exit, and the host's own events) are not the plugin's to make.
const FROM_PLUGIN = new Set(["ready", "load-error", "log", "progress", "load", "stray", "done"]);

// Once a plugin has printed, its replies wait this long, so what it printed
// during a step (already in the pipe when its answer is sent) is read and
// shown with the step rather than after it.
const SETTLE_MS = 5;

/** Accepts at once; `send` queues frames until the process connects with the token. */
export class PluginChannel {
  #token: string;
  #receive: (reply: Reply) => void;
  #fail: (message: string) => void;
  #listener: Deno.Listener | undefined;
  #conn: Deno.Conn | undefined;
  #writer: Frames.FrameWriter | undefined;
  #pending: Uint8Array[] = [];
  #delayed: Reply[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #printed = false;
  #closed = false;

  /**
   * @param listener Listening on a path in a folder only this user can list.
   * @param token What the process must send first.
   * @param receive Gets each reply the plugin may send, in order.
   * @param fail Told when the connection breaks the protocol.
   */
  constructor(
    listener: Deno.Listener,
    token: string,
    receive: (reply: Reply) => void,
    fail: (message: string) => void,
  ) {
    this.#token = token;
    this.#receive = receive;
    this.#fail = fail;
    this.#listener = listener;
    void this.#accept();
  }

  /** The process printed: its replies now wait for what it printed first. */
  printed(): void {
    this.#printed = true;
  }

  /** Sends a frame (from `encodeFrame`, which throws for what cannot be cloned), in order. */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#writer) this.#writer.write(frame);
    else this.#pending.push(frame);
  }

  /** Stops listening and talking; replies not yet passed on are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#delayed = [];
    clearTimeout(this.#timer);
    this.#closeListener();
    try {
      this.#conn?.close();
    } catch {
      // Closed already.
    }
  }

  async #accept(): Promise<void> {
    const listener = this.#listener!;
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch {
      return;
    }
    // Only the first connection: the process's, or nobody's.
    this.#closeListener();
    if (this.#closed) return conn.close();
    this.#conn = conn;
    try {
      const { chunksOf, FrameWriter, readFrames } = await loadFrames();
      const frames = readFrames(chunksOf(conn));
      const hello = await frames.next();
      const first = hello.value as { type?: unknown; token?: unknown } | undefined;
      if (hello.done || first?.type !== "hello" || first.token !== this.#token) {
        return this.close();
      }
      if (this.#closed) return;
      this.#writer = new FrameWriter(conn);
      for (const frame of this.#pending.splice(0)) this.#writer.write(frame);
      for await (const frame of frames) {
        if (this.#closed) break;
        this.#take(frame as Reply);
      }
    } catch (error) {
      if (!this.#closed) this.#fail(error instanceof Error ? error.message : String(error));
    }
  }

  #take(reply: Reply): void {
    if (typeof reply !== "object" || reply === null || typeof reply.type !== "string") return;
    if (reply.type === "batch" && Array.isArray(reply.messages)) {
      for (const message of reply.messages) this.#take(message);
      return;
    }
    if (!FROM_PLUGIN.has(reply.type)) return;
    if (!this.#printed && this.#delayed.length === 0) return this.#receive(reply);
    if (this.#delayed.push(reply) === 1) {
      this.#timer = setTimeout(() => {
        for (const queued of this.#delayed.splice(0)) this.#receive(queued);
      }, SETTLE_MS);
    }
  }

  #closeListener(): void {
    try {
      this.#listener?.close();
    } catch {
      // Closed already.
    }
    this.#listener = undefined;
  }
}
