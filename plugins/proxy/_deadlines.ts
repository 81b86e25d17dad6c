// Calls due at absolute times (performance.now() milliseconds), earliest
// first: a relay waits for the next one to the microsecond (a ppoll timeout,
// or a timer set early and an event-loop spin), not to a timer's millisecond.
import type { Timer } from "./_udp_toxics.ts";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Deadlines in a binary heap; equal deadlines run in the order they were set. */
export class Deadlines {
  #heap: Pending[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  add(at: number, fn: () => void): Timer {
    const item: Pending = { at, seq: this.#seq++, fn, cancelled: false };
    const h = this.#heap;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
    return { cancel: () => item.cancelled = true };
  }

  /** The earliest deadline not cancelled, or Infinity. */
  next(): number {
    const h = this.#heap;
    while (h.length > 0 && h[0].cancelled) this.#pop();
    return h[0]?.at ?? Infinity;
  }

  /** Runs every call due by `now`. */
  run(now: number): void {
    const h = this.#heap;
    while (h.length > 0 && h[0].at <= now) {
      const item = this.#pop();
      if (!item.cancelled) item.fn();
    }
  }

  #pop(): Pending {
    const h = this.#heap;
    const item = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return item;
  }

  clear(): void {
    this.#heap.length = 0;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
