/**
 * JSON text that parses back to a value equal to the one it was made from,
 * for keeping a value as text (a cache key, a copy made again per use).
 *
 * @module
 */

/**
 * The JSON text of a plain JSON value (plain objects and dense arrays of
 * strings, booleans, null and finite numbers other than -0, at most 9
 * levels deep), or `undefined` when the value is anything else or its text
 * is longer than `maxChars`.
 *
 * @param value Anything.
 * @param maxChars Longest text given.
 * @returns The text, or `undefined`.
 */
export function plainJsonText(value: unknown, maxChars: number): string | undefined {
  if (!plain(value, 0)) return undefined;
  const text = JSON.stringify(value);
  return text.length > maxChars ? undefined : text;
}

// Depth bounded: params are a few levels deep; deeper is not plain here.
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
