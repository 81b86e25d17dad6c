// Parsed params kept in an isolated plugin's process, by role and the
// input's canonical text: the host sends the same raw params with every run
// of a prepared role (an exporter's module and target, scrape after scrape),
// and validating them again cost about 0.07 ms a run there. The in-process
// executor validates once per prepared role and reuses the result the same
// way. A plugin may change its params as it runs: each hit is a new copy
// (the parsed params kept as JSON text), so no run sees another's changes.
// Only plain JSON inputs and parsed params are cached (their text names
// exactly one value); anything else (undefined, NaN, -0, Dates, typed
// arrays, holes, a transform's URL) is parsed every time.

/** Entries kept at most; the oldest goes first. */
export const PARAMS_CACHE_ENTRIES = 128;
/** Inputs whose canonical text is longer are not cached (a large body param). */
export const PARAMS_CACHE_KEY_CHARS = 16 * 1024;

/**
 * The canonical text of a plain JSON value, or `undefined` when the value is
 * anything else: two inputs with the same text are equal as params.
 */
export function canonicalParams(input: unknown): string | undefined {
  if (!plain(input, 0)) return undefined;
  const text = JSON.stringify(input);
  return text.length > PARAMS_CACHE_KEY_CHARS ? undefined : text;
}

// Depth bounded: params are a few levels deep; deeper is parsed each time.
function plain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > 8) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!Object.hasOwn(value, i) || !plain(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // Symbol keys and non-enumerable ones would be left out of the text.
      if (Object.getOwnPropertySymbols(value).length > 0) return false;
      const names = Object.getOwnPropertyNames(value);
      if (names.length !== Object.keys(value).length) return false;
      for (const name of names) {
        if (!plain((value as Record<string, unknown>)[name], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
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
