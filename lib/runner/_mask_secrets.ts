// Params go into reports (JSON lines, HTML): values read from the environment
// are replaced wherever they appear, and long strings are cut, so a report
// neither leaks a token nor grows with a step's payload.

import { redactPasswords } from "../plugin/redact_passwords.ts";

/** What a secret is replaced by. */
export const MASK = "***";
const MAX_STRING = 2000;
const MAX_DEPTH = 20;

/**
 * A JSON-safe copy of `value` with every occurrence of each secret replaced
 * by {@linkcode MASK} in strings and keys, URL passwords too
 * (`http://alice:***@host/`), strings cut to 2000 characters.
 */
export function maskSecrets(value: unknown, secrets: ReadonlySet<string>): unknown {
  // Longest first, so a secret containing another is masked whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const mask = (text: string): string => {
    // URL passwords too: a fixture may write one without an env variable.
    let masked = redactPasswords(text);
    for (const secret of ordered) masked = masked.replaceAll(secret, MASK);
    return masked.length > MAX_STRING
      ? `${masked.slice(0, MAX_STRING)}… (${masked.length - MAX_STRING} more characters)`
      : masked;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return mask(v);
    if (typeof v === "number") {
      // A whole `${env.PORT}` may have become a number.
      return ordered.includes(String(v)) ? MASK : Number.isFinite(v) ? v : String(v);
    }
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "bigint") return mask(String(v));
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (depth >= MAX_DEPTH) return "…";
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    if (typeof v === "object") {
      const out: Record<string, unknown> = Object.create(null);
      for (const [key, item] of Object.entries(v)) out[mask(key)] = walk(item, depth + 1);
      return out;
    }
    return undefined; // functions, symbols: not data
  };
  return walk(value, 0);
}
