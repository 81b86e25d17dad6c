/**
 * Port number checks for every transport that takes a port.
 *
 * @module
 */

/**
 * Checks a port before it reaches the runtime, whose own error names neither
 * the operation nor the value.
 *
 * @param port The port asked for.
 * @param operation What it is for (`"connect"`, `"listen"`), for the message.
 * @throws {RangeError} When it is not an integer in 0-65535.
 */
export function checkPort(port: number, operation: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot ${operation}: port "${port}" is not an integer in 0-65535`);
  }
}
