/**
 * Synchronous writes to standard output, the default sink of the reporters.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes all of `text` to `Deno.stdout` before returning, so report lines
 * keep their order with anything else the process prints and are not lost
 * when the process exits right after.
 *
 * @param text The text, UTF-8 encoded on the way out.
 */
export function writeStdoutSync(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  // writeSync may write less than asked (a pipe that is nearly full).
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}
