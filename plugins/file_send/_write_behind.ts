// The receiver's file writes, one chunk behind: each chunk is written (on the
// runtime's blocking threads) while the caller receives and hashes the next.

/**
 * Writes chunks to a file in order with at most one write in flight, so the
 * caller can fill its next buffer meanwhile; memory stays at the caller's
 * buffers. A failed write aborts {@linkcode WriteBehind.failed} and is thrown
 * by the next {@linkcode WriteBehind.write} or {@linkcode WriteBehind.finish}.
 *
 * Given the file's path, it also starts an `fdatasync` every `syncEvery`
 * bytes (at most one at a time), through a second handle so the writes do
 * not queue behind it: the disk writes while the transfer goes on, and the
 * caller's final sync has at most the last stretch left, whatever the size.
 */
export class WriteBehind {
  #file: Deno.FsFile;
  #path: string | undefined;
  #syncEvery: number;
  #syncer: Deno.FsFile | undefined;
  #inFlight: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #written = 0;
  #syncedAt = 0;
  #failure = new AbortController();

  /**
   * @param file Where the chunks go, from its current position.
   * @param path The file's path, to open the second handle for early syncs.
   * @param syncEvery Bytes written between two early syncs.
   */
  constructor(file: Deno.FsFile, path?: string, syncEvery = Infinity) {
    this.#file = file;
    this.#path = path;
    this.#syncEvery = syncEvery;
  }

  /** Aborts, with the write's error as reason, when a write fails. */
  get failed(): AbortSignal {
    return this.#failure.signal;
  }

  /**
   * Waits for the previous write, then starts writing `chunk`. The caller
   * must leave `chunk` alone until the next `write` or `finish` resolves.
   */
  async write(chunk: Uint8Array): Promise<void> {
    await this.#inFlight;
    this.#check();
    this.#inFlight = this.#writeAll(chunk).catch((error) => this.#fail(error));
  }

  /**
   * Ends the writing: waits for the writes and syncs in flight, closes the
   * second handle, and throws the error of a failed write or sync.
   */
  async finish(): Promise<void> {
    await this.close();
    this.#check();
  }

  /**
   * Waits for what is in flight, whatever its outcome, and closes the second
   * handle: the file may be closed and removed after this.
   */
  async close(): Promise<void> {
    await this.#inFlight;
    await this.#syncing;
    this.#syncer?.close();
    this.#syncer = undefined;
  }

  async #writeAll(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) off += await this.#file.write(chunk.subarray(off));
    this.#written += chunk.length;
    if (
      this.#path !== undefined && this.#syncing === undefined &&
      this.#written - this.#syncedAt >= this.#syncEvery
    ) {
      this.#syncedAt = this.#written;
      this.#syncing = this.#sync(this.#path).catch((error) => this.#fail(error));
    }
  }

  async #sync(path: string): Promise<void> {
    if (this.#syncer === undefined) {
      try {
        this.#syncer = await Deno.open(path, { write: true });
      } catch {
        // Early syncs only shorten the final one (e.g. no descriptor left for
        // a second handle): stop them and let the final sync decide.
        this.#syncEvery = Infinity;
        this.#syncing = undefined;
        return;
      }
    }
    await this.#syncer.syncData();
    this.#syncing = undefined;
  }

  #fail(error: unknown): void {
    if (!this.#failure.signal.aborted) this.#failure.abort(error);
  }

  #check(): void {
    if (this.#failure.signal.aborted) throw this.#failure.signal.reason;
  }
}
