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
 * Port 0 picks a free port to listen on; it names nothing to connect to.
 * @throws {RangeError} When it is not an integer in 0-65535 (1-65535 to connect).
 */
export function checkPort(port: number, operation: string): void {
  const min = operation === "connect" ? 1 : 0;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(`Cannot ${operation}: port "${port}" is not an integer in ${min}-65535`);
  }
}
