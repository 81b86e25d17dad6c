// What the TCP and UDP relays share: how they are started and driven.

/** Where a relay listens and where it forwards. */
export interface RelayOptions {
  /** Address to listen on (port 0: a free one). */
  listen: { hostname: string; port: number };
  /** Where traffic goes. */
  upstream: { hostname: string; port: number };
  /** Seed of the toxics' randomness. */
  seed: number;
  /**
   * Most connections (TCP) or flows (UDP) open at once; beyond it connections
   * are closed at once, datagrams from new sources dropped (`rejected`).
   */
  maxConnections?: number;
}

/** A running relay. */
export interface Relay {
  /** The address it listens on, with the real port. */
  readonly listen: Deno.NetAddr;
  /** Whose sockets relay. */
  readonly io?: "libc" | "deno";
  /** Re-reads the proxy's toxics on every open connection or flow. */
  sync(): void;
  /** Stops listening and closes every connection or flow. */
  close(): Promise<void>;
}
