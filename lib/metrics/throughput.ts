/**
 * Byte and operation counters over a timed interval.
 *
 * @module
 */

const BYTES_PER_MIB = 1024 * 1024;

/** The numbers of a {@linkcode Throughput} at one instant. */
export interface ThroughputSnapshot {
  /** Bytes counted. */
  bytes: number;
  /** Operations counted (messages, requests, datagrams…). */
  ops: number;
  /** Seconds from `start()` to `stop()`, or to now while running; 0 before `start()`. */
  seconds: number;
  /** `bytes / seconds`, or 0 when `seconds` is 0. */
  bytesPerSecond: number;
  /** `bytesPerSecond / 1048576` (MiB/s), or 0 when `seconds` is 0. */
  mibPerSecond: number;
  /** `ops / seconds`, or 0 when `seconds` is 0. */
  opsPerSecond: number;
}

/**
 * Counts bytes and operations between {@linkcode Throughput.start} and
 * {@linkcode Throughput.stop}, timed with `performance.now()`, and gives the
 * rates. It can be read while running (rates so far) or after stopping
 * (fixed). Rates are 0 when no time has passed (never started): a rate cannot
 * be computed then, and 0 keeps metrics plain numbers that fail any
 * "at least" expectation.
 *
 * @example Counting a transfer
 * ```ts
 * import { Throughput } from "@wiretest/wiretest/metrics";
 * import assert from "node:assert/strict";
 *
 * const throughput = new Throughput().start();
 * throughput.add(65536);
 * throughput.add(65536);
 * throughput.stop();
 *
 * const { bytes, ops, seconds, bytesPerSecond } = throughput.snapshot();
 * assert.equal(bytes, 131072);
 * assert.equal(ops, 2);
 * assert.equal(bytesPerSecond, seconds > 0 ? bytes / seconds : 0);
 * ```
 */
export class Throughput {
  #bytes = 0;
  #ops = 0;
  #start: number | undefined;
  #stop: number | undefined;

  /**
   * Starts a new measurement now: counts go back to 0 and the clock runs
   * until {@linkcode Throughput.stop}.
   *
   * @returns This counter, so `new Throughput().start()` reads naturally.
   *
   * @example Starting, then reading while running
   * ```ts
   * import { Throughput } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const throughput = new Throughput().start();
   * assert.equal(throughput.running, true);
   * assert.ok(throughput.seconds >= 0);
   * ```
   */
  start(): this {
    this.#bytes = 0;
    this.#ops = 0;
    this.#start = performance.now();
    this.#stop = undefined;
    return this;
  }

  /**
   * Stops the clock; later reads give the same rates. Stopping again, or
   * before starting, changes nothing.
   *
   * @returns This counter.
   *
   * @example The interval is fixed once stopped
   * ```ts
   * import { Throughput } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const throughput = new Throughput().start().stop();
   * const seconds = throughput.seconds;
   * assert.equal(throughput.seconds, seconds);
   * assert.equal(throughput.running, false);
   * ```
   */
  stop(): this {
    if (this.#start !== undefined && this.#stop === undefined) this.#stop = performance.now();
    return this;
  }

  /**
   * Counts bytes and operations.
   *
   * @param bytes Bytes transferred: a non-negative integer.
   * @param ops Operations they make up (default 1; 0 for a partial read).
   * @throws {RangeError} When either is negative, fractional or not a safe integer.
   *
   * @example Counting partial reads as one operation
   * ```ts
   * import { Throughput } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const throughput = new Throughput().start();
   * throughput.add(1000, 0);
   * throughput.add(24);
   * assert.equal(throughput.bytes, 1024);
   * assert.equal(throughput.ops, 1);
   * ```
   */
  add(bytes: number, ops: number = 1): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`Cannot count bytes: "${bytes}" is not a non-negative integer`);
    }
    if (!Number.isSafeInteger(ops) || ops < 0) {
      throw new RangeError(`Cannot count operations: "${ops}" is not a non-negative integer`);
    }
    this.#bytes += bytes;
    this.#ops += ops;
  }

  /** `true` between `start()` and `stop()`. */
  get running(): boolean {
    return this.#start !== undefined && this.#stop === undefined;
  }

  /** Bytes counted. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Operations counted. */
  get ops(): number {
    return this.#ops;
  }

  /** Seconds from `start()` to `stop()` (or now while running); 0 before `start()`. */
  get seconds(): number {
    if (this.#start === undefined) return 0;
    return ((this.#stop ?? performance.now()) - this.#start) / 1000;
  }

  /** Bytes per second; 0 when no time has passed. */
  get bytesPerSecond(): number {
    return this.snapshot().bytesPerSecond;
  }

  /** Mebibytes (2^20 bytes) per second; 0 when no time has passed. */
  get mibPerSecond(): number {
    return this.snapshot().mibPerSecond;
  }

  /** Operations per second; 0 when no time has passed. */
  get opsPerSecond(): number {
    return this.snapshot().opsPerSecond;
  }

  /**
   * Every number at one instant, all rates over the same `seconds`.
   *
   * @returns A plain object, safe to keep after more is counted.
   *
   * @example Reading the rates while the transfer goes on
   * ```ts
   * import { Throughput } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const throughput = new Throughput().start();
   * throughput.add(2 * 1024 * 1024);
   * const snapshot = throughput.snapshot();
   * throughput.add(1);
   * assert.equal(snapshot.bytes, 2 * 1024 * 1024);
   * assert.equal(snapshot.mibPerSecond * 1024 * 1024, snapshot.bytesPerSecond);
   * ```
   */
  snapshot(): ThroughputSnapshot {
    const seconds = this.seconds;
    const bytesPerSecond = seconds > 0 ? this.#bytes / seconds : 0;
    return {
      bytes: this.#bytes,
      ops: this.#ops,
      seconds,
      bytesPerSecond,
      mibPerSecond: bytesPerSecond / BYTES_PER_MIB,
      opsPerSecond: seconds > 0 ? this.#ops / seconds : 0,
    };
  }
}
