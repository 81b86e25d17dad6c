// Mutations of real fixture files: bytes and lines deleted, repeated and
// swapped, YAML syntax inserted, values given other types, odd characters,
// long lines and deep nesting (around the parser's depth limit).
import type { Random } from "./_random.ts";

const TOKENS = [
  ":",
  ": ",
  "- ",
  "-",
  " ",
  "\n",
  "  ",
  "\t",
  "{",
  "}",
  "[",
  "]",
  ",",
  '"',
  "'",
  "#",
  "&a ",
  "*a",
  "&b ",
  "*b",
  "<<: *a\n",
  "!!str ",
  "!!int ",
  "!!binary ",
  "!!map ",
  "!!seq ",
  "!!set ",
  "!!omap ",
  "!!timestamp ",
  "!local ",
  "!<tag:x> ",
  "? ",
  "|",
  "|-\n",
  ">",
  "%",
  "%TAG ! tag:x:\n",
  "---\n",
  "...\n",
  "$",
  "${",
  "$${",
  "}",
  "${steps.first.ok}",
  "${services.echo.addr}",
  "${env.X}",
  "${steps}",
  "\\",
  "\\u",
  "0",
  "-1",
  "1e999",
  "0x1F",
  "0o17",
  ".inf",
  ".nan",
  "true",
  "null",
  "~",
  "é",
  "😀",
  "\ud800",
  "\u2028",
  "\u200b",
  "\u202e",
  "\u0000",
  "\ufeff",
  "\r",
  "\r\n",
  "\u0085",
  "..",
  "<",
  "<=",
  "==",
  "/",
  "expct",
  "steps",
  "services",
  "with",
  "plugin",
  "name",
  "__proto__",
  "constructor",
];

const VALUES = [
  "123",
  "0",
  "-5",
  "1.5e3",
  "1e999",
  "-1e999",
  "123456789012345678901234567890",
  ".inf",
  "-.inf",
  ".nan",
  "true",
  "false",
  "null",
  "~",
  "",
  "[]",
  "{}",
  "[1, 2]",
  "[[1]]",
  "{ a: 1 }",
  "{ match: 5 }",
  '"text"',
  "'single'",
  '"< 5"',
  '"<< 5"',
  '"10..1"',
  '"/(/"',
  "exists",
  "absent",
  '"${services.echo.addr}"',
  '"${steps.nope.ok}"',
  '"${"',
  "0s",
  "-1s",
  '"1 KiB"',
  "!!binary aGVsbG8=",
  "2001-12-14t21:59:43.10-05:00",
  "!!set { a, b }",
  "&x 1",
  "*x",
  "|\n  block\n  text",
  '"\\u0000"',
  '"\\ud800"',
];

const KEYS = [
  "name",
  "nmae",
  "steps",
  "step",
  "services",
  "plugin",
  "plugins",
  "with",
  "expect",
  "expct",
  "timeout",
  "retries",
  "retryDelay",
  "env",
  "__proto__",
  "constructor",
  "? complex",
  "[a, b]",
  "{a: 1}",
  '"quoted key"',
  "metrics.x",
  "facts[",
  "",
];

function lines(text: string): string[] {
  return text.split("\n");
}

/** One random mutation of `text`. */
export function mutate(text: string, r: Random): string {
  const at = () => r.int(text.length + 1);
  const all = lines(text);
  const line = () => r.int(all.length);
  switch (r.int(18)) {
    case 0: { // delete a span of bytes
      const start = at();
      return text.slice(0, start) + text.slice(start + r.between(1, 12));
    }
    case 1: { // delete lines
      all.splice(line(), r.between(1, 3));
      return all.join("\n");
    }
    case 2: { // duplicate lines (repeated keys, repeated steps)
      const i = line();
      const n = r.between(1, 6);
      all.splice(i, 0, ...all.slice(i, i + n));
      return all.join("\n");
    }
    case 3: { // swap two lines
      const i = line();
      const j = line();
      [all[i], all[j]] = [all[j], all[i]];
      return all.join("\n");
    }
    case 4:
    case 5: { // insert YAML syntax or odd characters
      const start = at();
      return text.slice(0, start) + r.pick(TOKENS) + text.slice(start);
    }
    case 6:
    case 7: { // give a value another type
      const i = line();
      all[i] = all[i].replace(/(:\s*)(\S.*)$/, (_, colon) => colon + r.pick(VALUES));
      return all.join("\n");
    }
    case 8: { // rename a key
      const i = line();
      all[i] = all[i].replace(
        /^(\s*-?\s*)[^\s:#][^:]*:/,
        (_, indent) => `${indent}${r.pick(KEYS)}:`,
      );
      return all.join("\n");
    }
    case 9: { // re-indent a line
      const i = line();
      all[i] = r.pick([
        () => all[i].replace(/^ {1,4}/, ""),
        () => `  ${all[i]}`,
        () => `\t${all[i]}`,
        () => ` ${all[i]}`,
      ])();
      return all.join("\n");
    }
    case 10: { // a very long line
      const i = line();
      const long = r.pick(["x", "a: ", "- ", "${", "é", "[", "9"]).repeat(r.between(100, 3_000));
      all.splice(i, 0, r.chance(0.5) ? `long: ${long}` : long);
      return all.join("\n");
    }
    case 11: { // deep nesting, around the 64-level limit and far past it
      const depth = r.pick([30, 63, 64, 65, 66, 200, 2_000]);
      const nest = r.pick([
        () => "[".repeat(depth) + "1" + "]".repeat(depth),
        () => "{a: ".repeat(depth) + "1" + "}".repeat(depth),
        () => "- ".repeat(depth) + "x",
        () => "{".repeat(depth),
      ])();
      const i = line();
      all[i] = /:\s*\S/.test(all[i])
        ? all[i].replace(/(:\s*)(\S.*)$/, (_, colon) => colon + nest)
        : `${all[i]}${nest}`;
      return all.join("\n");
    }
    case 12: { // swap two bytes
      const i = r.int(text.length);
      const j = r.int(text.length);
      const chars = [...text];
      if (chars.length < 2) return text + text;
      [chars[i % chars.length], chars[j % chars.length]] = [
        chars[j % chars.length],
        chars[i % chars.length],
      ];
      return chars.join("");
    }
    case 13: { // an anchor on one value and aliases elsewhere
      const i = line();
      const j = line();
      all[i] = all[i].replace(/(:\s*)(\S)/, "$1&a $2");
      all[j] = all[j].replace(/(:\s*)\S.*$/, "$1*a");
      return all.join("\n");
    }
    case 14: // other line endings
      return r.chance(0.5) ? text.replaceAll("\n", "\r\n") : text.replaceAll("\n", "\r");
    case 15: { // a byte order mark, a NUL or a control character
      const start = r.chance(0.5) ? 0 : at();
      const char = r.pick(["\ufeff", "\u0000", "\u0007", "\u001b", "\ufffe", "\u00a0"]);
      return text.slice(0, start) + char + text.slice(start);
    }
    case 16: { // quote or unquote a value
      const i = line();
      all[i] = r.chance(0.5)
        ? all[i].replace(/(:\s*)([^"'\s].*)$/, '$1"$2"')
        : all[i].replace(/(:\s*)["'](.*)["']\s*$/, "$1$2");
      return all.join("\n");
    }
    default: { // cut the text short
      return text.slice(0, at());
    }
  }
}

/** `text` after one to four mutations. */
export function mutated(text: string, r: Random): string {
  let out = text;
  const count = r.between(1, 4);
  for (let i = 0; i < count; i++) out = mutate(out, r);
  return out;
}
