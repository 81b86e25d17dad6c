/**
 * A duration field's value as fixtures and the exporter's config read it:
 * milliseconds, or what is wrong with it, worded to follow the field's
 * quoted name (`"timeout" must be more than 0`), so that both files'
 * located problems read alike.
 *
 * @module
 */
import { DURATION_PATTERN, parseDuration } from "./duration.ts";

/** What a value that is not a duration is told. */
export const DURATION_MESSAGE =
  'must be a duration such as "500ms", "1.5s" or "2m", or a number of milliseconds';

/** A duration read: its milliseconds, or the problem. */
export type DurationRead =
  | { readonly ms: number; readonly problem?: undefined }
  | { readonly ms?: undefined; readonly problem: string };

/**
 * Reads a duration field's value.
 *
 * @param value As written: `"1.5s"`, `"20ms"`, or milliseconds.
 * @param options `positive: true` when 0 is refused.
 * @returns The milliseconds, or a problem such as `must be more than 0`.
 */
export function readDuration(value: unknown, options: { positive?: boolean } = {}): DurationRead {
  const shaped = typeof value === "number"
    ? Number.isFinite(value) && value >= 0
    : typeof value === "string" && DURATION_PATTERN.test(value);
  if (!shaped) return { problem: DURATION_MESSAGE };
  let ms: number;
  try {
    ms = parseDuration(value as number | string);
  } catch (error) {
    // Shaped as a duration, it can only be too large to count.
    if (error instanceof RangeError) return { problem: "is too large a duration" };
    throw error;
  }
  if (options.positive && ms === 0) return { problem: "must be more than 0" };
  return { ms };
}
