/**
 * Prepared client roles kept from scrape to scrape: Prometheus probes the
 * same module and target every interval, and preparing validates params
 * where the plugin runs (a round trip to its process). Bounded; the least
 * recently used is closed first.
 *
 * @module
 */
import type { PreparedClient } from "../executor/executor.ts";

/** Prepared clients by key, at most `limit`. */
export class PreparedClients {
  readonly #limit: number;
  readonly #entries = new Map<string, Promise<PreparedClient>>();

  /**
   * Creates an empty cache.
   *
   * @param limit Entries kept at most.
   */
  constructor(limit = 1024) {
    this.#limit = limit;
  }

  /** Entries kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The prepared client for `key`, prepared with `prepare` when absent. A
   * failed preparation is not kept.
   *
   * @param key What identifies the role and its params.
   * @param prepare Prepares it.
   * @returns The prepared client.
   */
  get(key: string, prepare: () => Promise<PreparedClient>): Promise<PreparedClient> {
    let entry = this.#entries.get(key);
    if (entry) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return entry;
    }
    entry = prepare();
    this.#entries.set(key, entry);
    entry.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    while (this.#entries.size > this.#limit) {
      const [oldest, prepared] = this.#entries.entries().next().value!;
      this.#entries.delete(oldest);
      prepared.then((client) => client.close(), () => {});
    }
    return entry;
  }

  /**
   * Forgets every entry (a reload changed the modules) and closes each once
   * prepared, waiting for the closes `waitMs` at most: a preparation whose
   * plugin process hangs never ends, and must not hold a reload forever.
   *
   * @param waitMs Milliseconds waited for the closes at most.
   */
  async clear(waitMs = 2000): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    const closed = Promise.allSettled(all.map(async (p) => (await p).close()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([closed, new Promise((resolve) => timer = setTimeout(resolve, waitMs))]);
    } finally {
      clearTimeout(timer);
    }
  }
}
