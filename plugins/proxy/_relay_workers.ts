// The Workers the libc relays (_tcp_libc_relay.ts, _udp_libc_relay.ts) run
// in, shared: a Worker costs about 12 MiB and a thread, so one serves up to
// `perWorker` proxies in one ppoll loop rather than one a proxy. The loop
// runs inside the Worker's message handler; a message for it is counted in
// a shared slot first (RELAY_WORKER_PENDING), so the loop yields to take it
// (a new proxy, a new toxic set) within one ppoll timeout.
import { toNetError } from "../../lib/transport/mod.ts";
import { LibcError } from "../../lib/transport/unstable_udp.ts";
import type { Relay } from "./_relay.ts";

/** The slot of a Worker's own shared Int32Array: messages posted, not yet handled. */
export const RELAY_WORKER_PENDING = 0;

/** What every message to a relay Worker carries. */
export interface RelayWorkerMessage {
  /** The proxy it is about. */
  id: number;
  /** Int32Array: RELAY_WORKER_PENDING, the same for every proxy of the Worker. */
  worker: SharedArrayBuffer;
}

/** What a relay Worker says of a proxy: `closed`, `refused` and `error` are its last word. */
export interface RelayWorkerReply {
  type: string;
  id: number;
}

/** The replies every relay Worker sends, beside its own. */
export type CommonRelayReply =
  | { type: "bound"; id: number; hostname: string; port: number }
  | { type: "refused"; id: number; reason: string }
  | { type: "error"; id: number; call: string; errno: number }
  | { type: "closed"; id: number };

/** What a relay does with its Worker's replies, for {@linkcode RelayWorkers.start}. */
export interface RelayStart<Message, Reply> {
  /** The listening address, for a bind error. */
  where: string;
  /** Fixes the proxy's counters once the Worker lets go of them. */
  settle(): void;
  /** The running relay, once the Worker has bound its listener; `finished` settles with its `closed`. */
  bound(
    reply: { hostname: string; port: number },
    slot: RelaySlot<Message>,
    finished: Promise<void>,
  ): Relay;
  /** A reply of the relay's own kind (a TCP hand-off). */
  other?(reply: Reply): void;
}

/** A proxy's side of its Worker. */
export interface RelayMember<Reply extends RelayWorkerReply> {
  onReply(reply: Reply): void;
  /** The Worker failed (an uncaught error) and is gone. */
  onError(message: string): void;
}

/** A message without what its slot adds (each member of a union alike). */
export type Unaddressed<Message> = Message extends unknown ? Omit<Message, "id" | "worker">
  : never;

/** A proxy's place in a Worker: what it posts there. */
export interface RelaySlot<Message> {
  readonly id: number;
  /** Posts a message about this proxy; the Worker's loop yields to take it. */
  post(message: Unaddressed<Message>): void;
}

const FINAL = new Set(["closed", "refused", "error"]);

/** A Worker and the proxies it relays, until their last replies. */
class SharedWorker<Reply extends RelayWorkerReply> {
  readonly worker: Worker;
  readonly pending = new Int32Array(new SharedArrayBuffer(4));
  readonly members = new Map<number, RelayMember<Reply>>();

  constructor(url: URL, onEnd: (shared: SharedWorker<Reply>) => void) {
    this.worker = new Worker(url, { type: "module" });
    const end = () => {
      onEnd(this);
      this.worker.terminate();
    };
    this.worker.onmessage = ({ data: reply }: MessageEvent<Reply>) => {
      const member = this.members.get(reply.id);
      if (FINAL.has(reply.type)) {
        // The Worker holds nothing of this proxy any more.
        this.members.delete(reply.id);
        if (this.members.size === 0) end();
      }
      member?.onReply(reply);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      const members = [...this.members.values()];
      this.members.clear();
      end();
      for (const member of members) member.onError(event.message);
    };
  }
}

/**
 * The Workers of one kind of relay: a proxy joins the fullest Worker with
 * room, else a new one; a Worker ends with its last proxy.
 */
export class RelayWorkers<Message extends RelayWorkerMessage, Reply extends RelayWorkerReply> {
  readonly #url: URL;
  readonly #perWorker: number;
  readonly #workers = new Set<SharedWorker<Reply>>();
  #nextId = 0;

  /**
   * @param url The Worker's module.
   * @param perWorker Most proxies a Worker relays.
   */
  constructor(url: URL, perWorker: number) {
    this.#url = url;
    this.#perWorker = perWorker;
  }

  /** How many Workers run now. */
  get size(): number {
    return this.#workers.size;
  }

  /** Places a proxy in a Worker; `member` hears what the Worker says of it. */
  join(member: RelayMember<Reply>): RelaySlot<Message> {
    let shared: SharedWorker<Reply> | undefined;
    for (const candidate of this.#workers) {
      const size = candidate.members.size;
      if (size < this.#perWorker && (shared === undefined || size > shared.members.size)) {
        shared = candidate;
      }
    }
    if (shared === undefined) {
      shared = new SharedWorker<Reply>(this.#url, (ended) => this.#workers.delete(ended));
      this.#workers.add(shared);
    }
    const id = this.#nextId++;
    shared.members.set(id, member);
    const { worker, pending } = shared;
    return {
      id,
      post: (message) => {
        Atomics.add(pending, RELAY_WORKER_PENDING, 1);
        worker.postMessage({ ...message, id, worker: pending.buffer as SharedArrayBuffer });
      },
    };
  }

  /**
   * Adds a proxy with `add`: resolves with the relay once the Worker has
   * bound it, `{ refused }` when libc or the Worker cannot serve, and
   * rejects with the bind's network error.
   */
  start(
    add: Unaddressed<Message>,
    on: RelayStart<Message, Reply>,
  ): Promise<Relay | { refused: string }> {
    let ended!: () => void;
    const finished = new Promise<void>((resolve) => ended = resolve);
    let started = false;
    return new Promise((resolve, reject) => {
      const onReply = (reply: Reply) => {
        const m = reply as unknown as CommonRelayReply;
        if (m.type === "bound") {
          started = true;
          resolve(on.bound(m, slot, finished));
        } else if (m.type === "refused") {
          on.settle();
          resolve({ refused: m.reason });
        } else if (m.type === "error" && !started) {
          on.settle();
          reject(toNetError(new LibcError(m.call, m.errno), "listen", on.where));
        } else if (m.type === "closed" || m.type === "error") {
          // Closed, or failed while relaying (counted where it can be: the loop ended).
          ended();
        } else on.other?.(reply);
      };
      const onError = (message: string) => {
        if (!started) {
          on.settle();
          resolve({ refused: `the relay's Worker did not start: ${message}` });
        } else ended();
      };
      const slot = this.join({ onReply, onError });
      slot.post(add);
    });
  }
}

/**
 * The Worker's side: runs `loop` inside the message handler and starts it
 * again once no message waits. `handle` takes each message; `loop` relays
 * until {@linkcode messageWaiting} or nothing is left to relay.
 */
export function serveRelayMessages<Message extends RelayWorkerMessage>(
  scope: { onmessage: ((event: MessageEvent) => void) | null },
  handle: (message: Message) => void,
  loop: () => void,
): void {
  let running = false;
  scope.onmessage = (event: MessageEvent<Message>) => {
    const m = event.data;
    pending ??= new Int32Array(m.worker);
    try {
      handle(m);
    } finally {
      if (Atomics.sub(pending, RELAY_WORKER_PENDING, 1) === 1 && !running) {
        running = true;
        try {
          loop();
        } finally {
          running = false;
        }
      }
    }
  };
}

let pending: Int32Array | undefined;

/** In a relay Worker: whether a message waits, so the loop should yield. */
export function messageWaiting(): boolean {
  return pending !== undefined && Atomics.load(pending, RELAY_WORKER_PENDING) !== 0;
}
