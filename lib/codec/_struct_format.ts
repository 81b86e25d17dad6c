// Parser for the Python struct format subset that pack()/unpack() accept.
// Parsed formats are cached, as Python's struct module does, because the same
// few formats are used over and over in a protocol loop.

/** A format code with its repeat count and where it was written. */
export interface FormatItem {
  code: string;
  count: number;
  /** Index of the code character in the format string. */
  position: number;
}

/** A parsed format: byte order, items, total size and number of values. */
export interface ParsedFormat {
  little: boolean;
  items: FormatItem[];
  size: number;
  values: number;
}

/** Standard sizes (Python's sizes when the format starts with <, >, ! or =). */
export const CODE_SIZE: Readonly<Record<string, number>> = {
  x: 1,
  b: 1,
  B: 1,
  "?": 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 4,
  L: 4,
  q: 8,
  Q: 8,
  e: 2,
  f: 4,
  d: 8,
  s: 1,
};

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_SIZE = 0x7fff_ffff;
const CACHE_LIMIT = 256;
const cache = new Map<string, ParsedFormat>();

/** Parses `format`, throwing a SyntaxError that names the bad position. */
export function parseFormat(format: string): ParsedFormat {
  if (typeof format !== "string") {
    throw new TypeError(`Cannot parse format: expected a string, got ${typeof format}`);
  }
  const cached = cache.get(format);
  if (cached) return cached;
  const parsed = parse(format);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(format, parsed);
  return parsed;
}

function parse(format: string): ParsedFormat {
  const fail = (detail: string): never => {
    throw new SyntaxError(`Cannot parse format "${format}": ${detail}`);
  };
  let little = false;
  let i = 1;
  switch (format[0]) {
    case ">":
    case "!":
      break;
    case "<":
      little = true;
      break;
    case "=":
      little = NATIVE_LITTLE;
      break;
    case "@":
      fail(
        `native alignment "@" at position 0 is not supported; use "=" for native order without padding`,
      );
      break;
    default:
      // No prefix: network order (unlike Python, whose default is native and aligned).
      i = 0;
  }
  const items: FormatItem[] = [];
  let size = 0;
  let values = 0;
  while (i < format.length) {
    const ch = format[i];
    // Python ignores whitespace between items, but not inside "4 s".
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\v" || ch === "\f") {
      i++;
      continue;
    }
    let count = 1;
    const countAt = i;
    if (ch >= "0" && ch <= "9") {
      let end = i;
      while (end < format.length && format[end] >= "0" && format[end] <= "9") end++;
      count = Number(format.slice(i, end));
      if (end === format.length) fail(`count at position ${countAt} has no format code after it`);
      if (count > MAX_SIZE) fail(`count at position ${countAt} is too large`);
      i = end;
    }
    const code = format[i];
    const width = CODE_SIZE[code];
    if (width === undefined) {
      if (code === "<" || code === ">" || code === "!" || code === "=" || code === "@") {
        fail(`byte order "${code}" at position ${i} must come first`);
      }
      fail(`unknown format code "${code}" at position ${i}`);
    }
    size += width * count;
    if (size > MAX_SIZE) fail(`the format describes more than ${MAX_SIZE} bytes`);
    // "4s" is one 4-byte value, "3x" three pad bytes and no value.
    if (code === "s") values += 1;
    else if (code !== "x") values += count;
    items.push({ code, count, position: i });
    i++;
  }
  return { little, items, size, values };
}
