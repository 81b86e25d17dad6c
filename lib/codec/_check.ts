// Value checks shared by ByteWriter and pack(), so both reject the same
// values with the same words. `what` is the message head ("Cannot write u8").

/** Integer kinds that fit in a JavaScript number. */
export type IntKind = "i8" | "u8" | "i16" | "u16" | "i32" | "u32";

/** Integer kinds that need a bigint. */
export type BigIntKind = "i64" | "u64";

const INT_RANGE: Record<IntKind, readonly [number, number]> = {
  i8: [-0x80, 0x7f],
  u8: [0, 0xff],
  i16: [-0x8000, 0x7fff],
  u16: [0, 0xffff],
  i32: [-0x8000_0000, 0x7fff_ffff],
  u32: [0, 0xffff_ffff],
};

const BIGINT_RANGE: Record<BigIntKind, readonly [bigint, bigint]> = {
  i64: [-(1n << 63n), (1n << 63n) - 1n],
  u64: [0n, (1n << 64n) - 1n],
};

/** Names the type of a value the way an error message should. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return "Uint8Array";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Returns `value` when it is an integer in the range of `kind`. */
export function checkInt(value: unknown, kind: IntKind, what: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what}: expected a number, got ${typeName(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new TypeError(`${what}: "${value}" is not an integer`);
  }
  const [min, max] = INT_RANGE[kind];
  if (value < min || value > max) {
    throw new RangeError(`${what}: "${value}" is out of range ${min} to ${max}`);
  }
  return value;
}

/** Returns `value` when it is a bigint in the range of `kind`. */
export function checkBigInt(value: unknown, kind: BigIntKind, what: string): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`${what}: expected a bigint, got ${typeName(value)}`);
  }
  const [min, max] = BIGINT_RANGE[kind];
  if (value < min || value > max) {
    throw new RangeError(`${what}: "${value}" is out of range ${min} to ${max}`);
  }
  return value;
}

/**
 * Returns `value` when it is a number that the float of `bits` can hold.
 * Like Python's struct, a finite value that rounds to infinity is refused
 * rather than silently turned into infinity.
 */
export function checkFloat(value: unknown, bits: 16 | 32 | 64, what: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what}: expected a number, got ${typeName(value)}`);
  }
  if (bits !== 64 && Number.isFinite(value)) {
    const rounded = bits === 32 ? Math.fround(value) : Math.f16round(value);
    if (!Number.isFinite(rounded)) {
      throw new RangeError(`${what}: "${value}" is too large for a ${bits}-bit float`);
    }
  }
  return value;
}

/** Returns `value` when it is a Uint8Array. */
export function checkBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${what}: expected a Uint8Array, got ${typeName(value)}`);
  }
  return value;
}

/**
 * Returns `value` when it is a non-negative safe integer. `what` names the
 * operation and the option ("Cannot read bytes: length").
 */
export function checkSize(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} "${String(value)}" is not a non-negative integer`);
  }
  return value;
}

/** Returns whether `endian` (default big) means little-endian, or throws. */
export function isLittle(endian: unknown, what: string): boolean {
  if (endian === undefined || endian === "big") return false;
  if (endian === "little") return true;
  throw new TypeError(`${what}: endian "${String(endian)}" is not "big" or "little"`);
}

/** Returns whether `unterminated` (default "error") means to emit trailing bytes, or throws. */
export function emitsUnterminated(unterminated: unknown, what: string): boolean {
  if (unterminated === undefined || unterminated === "error") return false;
  if (unterminated === "emit") return true;
  throw new TypeError(`${what}: unterminated "${String(unterminated)}" is not "error" or "emit"`);
}
