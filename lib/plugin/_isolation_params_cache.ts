// Parsed params kept in an isolated plugin's process, by role and the
// input's canonical text: the host sends the same raw params with every run
// of a prepared role (an exporter's module and target, scrape after scrape),
// and validating them again cost about 0.07 ms a run there. The in-process
// executor validates once per prepared role and copies the result the same
// way. A plugin may change its params as it runs: each hit is a new copy
// (the parsed params kept as JSON text), so no run sees another's changes.
// Only plain JSON inputs and parsed params are cached (their text names
// exactly one value); anything else (undefined, NaN, -0, Dates, typed
// arrays, holes, a transform's URL) is parsed every time.

import { plainJsonText } from "../_internal/plain_json_text.ts";

/** Entries kept at most; the oldest goes first. */
export const PARAMS_CACHE_ENTRIES = 128;
/** Inputs whose canonical text is longer are not cached (a large body param). */
export const PARAMS_CACHE_KEY_CHARS = 16 * 1024;

/**
 * The canonical text of a plain JSON value, or `undefined` when the value is
 * anything else: two inputs with the same text are equal as params.
 */
export function canonicalParams(input: unknown): string | undefined {
  return plainJsonText(input, PARAMS_CACHE_KEY_CHARS);
}

/** Parsed params (as JSON text) by role and canonical input, bounded. */
export class ParamsCache {
  #entries = new Map<string, string>();
  #max: number;

  constructor(maxEntries = PARAMS_CACHE_ENTRIES) {
    this.#max = maxEntries;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The params `parse` gives for `input`, parsed once per role and
   * canonical input and a new copy each time; what `parse` throws is thrown
   * and not kept.
   */
  parse(role: string, input: unknown, parse: (input: unknown) => unknown): unknown {
    const text = canonicalParams(input);
    if (text === undefined) return parse(input);
    const key = `${role}\u0000${text}`;
    const found = this.#entries.get(key);
    if (found !== undefined) {
      // Most recently used last: the oldest is the one evicted.
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return JSON.parse(found);
    }
    const parsed = parse(input);
    const parsedText = canonicalParams(parsed);
    if (parsedText === undefined) return parsed;
    this.#entries.set(key, parsedText);
    if (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return parsed;
  }
}
