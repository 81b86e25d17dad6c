/**
 * {@linkcode ProxyCollection}: the named proxies a control API drives, each
 * listening, relaying to its upstream with its toxics, counting what it did.
 *
 * @module
 */
import { formatAddress, toNetError } from "../../lib/transport/mod.ts";
import { addressOf } from "./params.ts";
import type { Relay } from "./_relay.ts";
import { startTcpRelayOn } from "./_tcp_libc_relay.ts";
import { startUdpRelayOn } from "./_udp_libc_relay.ts";
import type { UdpIo } from "../../lib/transport/unstable_udp.ts";
import { ProxyApiError } from "./proxy_api_error.ts";
import {
  MAX_TOXICS_PER_PROXY,
  parseToxic,
  type ProxyProtocol,
  type Toxic,
  type ToxicStream,
  updateToxic,
} from "./toxics.ts";

/** A proxy as the control API shows it (toxiproxy's shape; `protocol` is wiretest's). */
export interface ProxyJson {
  /** Unique name. */
  name: string;
  /** Where it listens (`host:port`, the real port once started). */
  listen: string;
  /** Where it relays to. */
  upstream: string;
  /** `false`: down (not listening, connections closed). */
  enabled: boolean;
  /** `tcp` or `udp`. */
  protocol: ProxyProtocol;
  /** While enabled: whose sockets relay, `libc` (in a Worker; TCP connections move to the runtime's once a toxic is set) or `deno` (the runtime's). */
  io?: "libc" | "deno";
  /** Its toxics, upstream ones first. */
  toxics: Toxic[];
}

/** What creates a proxy (`POST /proxies`, `/populate`, server params). */
export interface ProxyInput {
  /** Unique name. */
  name: string;
  /** `host:port` to listen on (default `127.0.0.1:0`: loopback, a free port). */
  listen?: string;
  /** `host:port` to relay to. */
  upstream: string;
  /** Start listening at once (default `true`). */
  enabled?: boolean;
  /** `tcp` (default) or `udp`. */
  protocol?: ProxyProtocol;
}

const TCP_COUNTERS = [
  "connections",
  "active",
  "upstream_errors",
  "rejected",
  "aborted",
  "bytes_upstream",
  "bytes_downstream",
  "latency_delayed",
  "bandwidth_delayed_bytes",
  "slow_close_delayed",
  "timeout_dropped_bytes",
  "timeout_closed",
  "reset_peer_resets",
  "slicer_slices",
  "limit_data_closed",
] as const;

const UDP_COUNTERS = [
  "flows",
  "active",
  "rejected",
  "flows_expired",
  "errors",
  "datagrams_upstream",
  "datagrams_downstream",
  "bytes_upstream",
  "bytes_downstream",
  "loss_dropped",
  "loss_runs",
  "duplicate_added",
  "reorder_held",
  "latency_delayed",
  "corrupt_corrupted",
  "truncate_truncated",
  "rate_delayed",
  "rate_dropped",
] as const;

/** Every counter a TCP or UDP proxy keeps, by protocol. */
export const PROXY_COUNTERS: Readonly<Record<ProxyProtocol, readonly string[]>> = {
  tcp: TCP_COUNTERS,
  udp: UDP_COUNTERS,
};

/** One named proxy. */
export class Proxy {
  /** Unique name. */
  readonly name: string;
  /** `tcp` or `udp`. */
  readonly protocol: ProxyProtocol;
  /** What it did so far: connections, bytes per direction, what each toxic did. */
  readonly counters: Record<string, number>;
  #listen: string;
  #upstream: string;
  #enabled = false;
  #relay: Relay | undefined;
  #toxics: Toxic[] = [];
  readonly #seed: number;
  readonly #udpFlowIdleMs: number;
  readonly #maxConnections: number | undefined;
  readonly #udpIo: UdpIo;
  // Start, stop and update one at a time: two enables racing through a
  // relay's start both passed the enabled check and left a relay running.
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Makes a proxy, not yet listening.
   *
   * @param input Name, addresses, protocol.
   * @param seed Seed of its toxics' randomness.
   * @param udpFlowIdleMs UDP flow expiry.
   * @param maxConnections Most client connections (TCP) or flows (UDP) open at once (default: no cap).
   * @param udpIo UDP: `auto` (libc sockets in a Worker where FFI is granted for libc, else
   * the runtime's), `deno` or `libc` (an error where it is refused).
   */
  constructor(
    input: ProxyInput,
    seed: number,
    udpFlowIdleMs: number,
    maxConnections?: number,
    udpIo: UdpIo = "auto",
  ) {
    this.#maxConnections = maxConnections;
    this.#udpIo = udpIo;
    this.name = input.name;
    this.protocol = input.protocol ?? "tcp";
    this.#listen = input.listen || "127.0.0.1:0";
    this.#upstream = input.upstream;
    this.#seed = seed;
    this.#udpFlowIdleMs = udpFlowIdleMs;
    this.counters = Object.fromEntries(PROXY_COUNTERS[this.protocol].map((name) => [name, 0]));
  }

  /** Where it listens (the real port once started). */
  get listen(): string {
    return this.#listen;
  }

  /** Where it relays to. */
  get upstream(): string {
    return this.#upstream;
  }

  /** `false` while down. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The toxics acting on `stream`, in the order added. */
  toxics(stream: ToxicStream): readonly Toxic[] {
    return this.#toxics.filter((t) => t.stream === stream);
  }

  /** Starts listening; a no-op when enabled already. */
  start(): Promise<void> {
    return this.#serially(() => this.#start());
  }

  async #start(): Promise<void> {
    if (this.#enabled) return;
    const options = {
      listen: address(this.#listen, "listen"),
      upstream: address(this.#upstream, "upstream"),
      seed: this.#seed,
    };
    try {
      this.#relay = this.protocol === "tcp"
        ? await startTcpRelayOn(this.#udpIo, this, {
          ...options,
          maxConnections: this.#maxConnections,
        })
        : await startUdpRelayOn(this.#udpIo, this, {
          ...options,
          idleMs: this.#udpFlowIdleMs,
          maxConnections: this.#maxConnections,
        });
    } catch (error) {
      // In the transport's words ("address already in use"), not node's.
      const failure = toNetError(error, "listen", this.#listen);
      const why = failure.message.replace(/^Cannot listen on [^:]*(?::\d+)?: /, "");
      throw new ProxyApiError(
        `Cannot listen on "${this.#listen}" for proxy "${this.name}": ${why}`,
        500,
        { cause: failure },
      );
    }
    this.#listen = formatAddress(this.#relay.listen);
    this.#enabled = true;
  }

  /** Stops listening and closes every connection: the proxy is down. */
  stop(): Promise<void> {
    return this.#serially(() => this.#stop());
  }

  async #stop(): Promise<void> {
    const relay = this.#relay;
    this.#relay = undefined;
    this.#enabled = false;
    await relay?.close();
  }

  /** Applies `listen`, `upstream`, `enabled` as toxiproxy's update does. */
  update(input: { listen?: string; upstream?: string; enabled?: boolean }): Promise<void> {
    return this.#serially(async () => {
      const listen = input.listen ?? this.#listen;
      const upstream = input.upstream ?? this.#upstream;
      const enabled = input.enabled ?? this.#enabled;
      if (listen !== this.#listen || upstream !== this.#upstream) {
        address(listen, "listen");
        address(upstream, "upstream");
        await this.#stop();
        this.#listen = listen;
        this.#upstream = upstream;
      }
      if (enabled) await this.#start();
      else await this.#stop();
    });
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(change, change);
    this.#queue = done.catch(() => {});
    return done;
  }

  /** The toxic named `name`, or a 404. */
  toxic(name: string): Toxic {
    const toxic = this.#toxics.find((t) => t.name === name);
    if (toxic === undefined) throw new ProxyApiError("toxic not found", 404);
    return toxic;
  }

  /** All toxics, upstream ones first (toxiproxy's order). */
  allToxics(): Toxic[] {
    return [...this.toxics("upstream"), ...this.toxics("downstream")];
  }

  /** Adds a toxic from its JSON. */
  addToxic(input: unknown): Toxic {
    const toxic = parseToxic(input, this.protocol);
    if (this.#toxics.some((t) => t.name === toxic.name)) {
      throw new ProxyApiError("toxic already exists", 409);
    }
    if (this.#toxics.length >= MAX_TOXICS_PER_PROXY) {
      throw new ProxyApiError(
        `bad request body: proxy "${this.name}" has ${MAX_TOXICS_PER_PROXY} toxics, the most it takes`,
        400,
      );
    }
    this.#toxics = [...this.#toxics, toxic];
    this.#relay?.sync();
    return toxic;
  }

  /** Updates a toxic's attributes and toxicity (the links roll its toxicity again). */
  updateToxic(name: string, input: unknown): Toxic {
    const updated = updateToxic(this.toxic(name), input, this.protocol);
    this.#toxics = this.#toxics.map((t) => t.name === name ? updated : t);
    this.#relay?.sync();
    return updated;
  }

  /** Removes a toxic. */
  removeToxic(name: string): void {
    this.toxic(name);
    this.#toxics = this.#toxics.filter((t) => t.name !== name);
    this.#relay?.sync();
  }

  /** Removes every toxic. */
  resetToxics(): void {
    this.#toxics = [];
    this.#relay?.sync();
  }

  /** The control API's view. */
  toJSON(): ProxyJson {
    return {
      name: this.name,
      listen: this.#listen,
      upstream: this.#upstream,
      enabled: this.#enabled,
      protocol: this.protocol,
      ...(this.#relay?.io ? { io: this.#relay.io } : {}),
      toxics: this.allToxics(),
    };
  }
}

/** Options of a {@linkcode ProxyCollection}. */
export interface ProxyCollectionOptions {
  /** Seed of every proxy's randomness. */
  seed: number;
  /** Milliseconds a UDP flow may stay silent before it is forgotten. */
  udpFlowIdleMs: number;
  /** Most client connections (TCP) or flows (UDP) a proxy holds open at once (default: no cap). */
  maxConnections?: number;
  /** UDP proxies' sockets: `auto` (default: libc's where FFI is granted for libc), `deno`, `libc`. */
  udpIo?: UdpIo;
}

/** Most proxies one collection holds. */
export const MAX_PROXIES = 1000;

/**
 * The proxies of one control API, by name.
 *
 * @example A TCP proxy in front of a listener
 * ```ts
 * import { ProxyCollection } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const proxies = new ProxyCollection({ seed: 1, udpFlowIdleMs: 60_000 });
 * const proxy = await proxies.add({ name: "web", upstream: "127.0.0.1:9" }, true);
 * assert.match(proxy.listen, /^127\.0\.0\.1:\d+$/);
 * proxy.addToxic({ type: "latency", attributes: { latency: 10 } });
 * assert.equal(proxy.toJSON().toxics[0].name, "latency_downstream");
 * await proxies.close();
 * ```
 */
export class ProxyCollection {
  readonly #proxies = new Map<string, Proxy>();
  readonly #options: ProxyCollectionOptions;
  #index = 0;
  // Changes one at a time (toxiproxy holds a lock too): two creates of one
  // name racing through a listener's start both passed the name check.
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Makes an empty collection.
   *
   * @param options Seed and UDP flow expiry.
   */
  constructor(options: ProxyCollectionOptions) {
    this.#options = options;
  }

  /** Every proxy, by name. */
  all(): Proxy[] {
    return [...this.#proxies.values()];
  }

  /** The proxy named `name`, or a 404. */
  get(name: string): Proxy {
    const proxy = this.#proxies.get(name);
    if (proxy === undefined) throw new ProxyApiError("proxy not found", 404);
    return proxy;
  }

  /** Creates a proxy (409 when the name is taken), started when `enabled`. */
  add(input: ProxyInput, enabled: boolean): Promise<Proxy> {
    return this.#serially(async () => {
      if (this.#proxies.has(input.name)) throw new ProxyApiError("proxy already exists", 409);
      const proxy = this.#create(input);
      if (enabled) await proxy.start();
      this.#proxies.set(proxy.name, proxy);
      return proxy;
    });
  }

  /** `/populate`: keeps a proxy with the same listen and upstream, replaces one that differs. */
  addOrReplace(input: ProxyInput, enabled: boolean): Promise<Proxy> {
    return this.#serially(() => this.#addOrReplace(input, enabled));
  }

  async #addOrReplace(input: ProxyInput, enabled: boolean): Promise<Proxy> {
    const existing = this.#proxies.get(input.name);
    if (existing !== undefined) {
      const same = existing.upstream === input.upstream &&
        (input.listen === undefined || input.listen === existing.listen) &&
        existing.protocol === (input.protocol ?? "tcp");
      if (same) return existing;
      await existing.stop();
      this.#proxies.delete(input.name);
    }
    const proxy = this.#create(input);
    if (enabled) await proxy.start();
    this.#proxies.set(proxy.name, proxy);
    return proxy;
  }

  /** Stops and forgets a proxy. */
  remove(name: string): Promise<void> {
    return this.#serially(async () => {
      const proxy = this.get(name);
      this.#proxies.delete(name);
      await proxy.stop();
    });
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(change, change);
    this.#queue = done.catch(() => {});
    return done;
  }

  /** `/reset`: every proxy enabled, every toxic removed. */
  async reset(): Promise<void> {
    for (const proxy of this.#proxies.values()) {
      await proxy.start();
      proxy.resetToxics();
    }
  }

  /** Counters summed over every proxy. */
  stats(): Record<string, number> {
    const total: Record<string, number> = { proxies: this.#proxies.size };
    for (const proxy of this.#proxies.values()) {
      for (const [key, value] of Object.entries(proxy.counters)) {
        total[key] = (total[key] ?? 0) + value;
      }
    }
    return total;
  }

  /** Stops every proxy. */
  async close(): Promise<void> {
    await Promise.all([...this.#proxies.values()].map((p) => p.stop()));
  }

  #create(input: ProxyInput): Proxy {
    if (this.#proxies.size >= MAX_PROXIES) {
      throw new ProxyApiError(`bad request body: at most ${MAX_PROXIES} proxies`, 400);
    }
    // Each proxy's randomness differs, yet replays: the seed and its creation order.
    return new Proxy(
      input,
      (this.#options.seed + this.#index++) >>> 0,
      this.#options.udpFlowIdleMs,
      this.#options.maxConnections,
      this.#options.udpIo,
    );
  }
}

function address(value: string, field: string): { hostname: string; port: number } {
  try {
    return addressOf(value, field);
  } catch (error) {
    const why = (error as Error).message.replace(/^Cannot [^:]*: /, "");
    throw new ProxyApiError(`bad request body: ${field} must be host:port: ${why}`, 400, {
      cause: error,
    });
  }
}
