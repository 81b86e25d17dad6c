// A small seeded generator (mulberry32): the same seed gives the same faults,
// so a failing fixture replays them. Not for anything secret.

/** Random numbers in [0, 1) from a 32-bit seed. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A generator for one connection or flow: the same seed and salts give the same numbers. */
export function seededRandom(seed: number, ...salts: number[]): SeededRandom {
  let h = seed >>> 0;
  for (const salt of salts) {
    h = Math.imul(h ^ (salt >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
  }
  return new SeededRandom(h);
}
