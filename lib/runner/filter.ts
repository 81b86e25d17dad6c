/**
 * `--filter`: choosing fixtures by name.
 *
 * @module
 */

/**
 * Turns a filter into a test on fixture names: `/regex/flags` is a regular
 * expression, anything else a substring (case-sensitive, as `deno test
 * --filter` does).
 *
 * @param text The flag's value.
 * @returns A function telling whether a name is kept.
 * @throws {SyntaxError} When a `/regex/` does not compile.
 *
 * @example Substring and regular expression
 * ```ts
 * import { parseFilter } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseFilter("echo")("tcp echo round trip"), true);
 * assert.equal(parseFilter("Echo")("tcp echo round trip"), false);
 * assert.equal(parseFilter("/^udp/i")("UDP ping"), true);
 * assert.throws(() => parseFilter("/(/"), SyntaxError);
 * ```
 */
export function parseFilter(text: string): (name: string) => boolean {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!regex) return (name) => name.includes(text);
  let compiled: RegExp;
  try {
    compiled = new RegExp(regex[1], regex[2].replaceAll("g", "").replaceAll("y", ""));
  } catch (error) {
    throw new SyntaxError(
      `Cannot parse filter "${text}": ${
        (error as Error).message.replace(/^Invalid regular expression: /, "")
      }`,
      { cause: error },
    );
  }
  return (name) => compiled.test(name);
}
