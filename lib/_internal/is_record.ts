/**
 * The one test for "a plain object to read fields from", shared by every
 * module that reads untyped input (fixtures, schemas, manifests, params).
 *
 * @module
 */

/**
 * Whether `value` is an object that is not an array (nor null): one whose
 * fields can be read by name.
 *
 * @param value Anything, typically parsed input.
 * @returns Whether it is such an object.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
