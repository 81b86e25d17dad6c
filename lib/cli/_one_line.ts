// Messages quote what users and peers sent (arguments, file names, server
// replies). Printed as they are, a line break in one would split an error
// over two lines, or forge a log line; escaped, every message stays one line.
import { escapeControls } from "../_internal/escape_controls.ts";

/** `text` with every control character escaped (`\n`, `\u0007`…). */
export function oneLine(text: string): string {
  return escapeControls(text);
}

/**
 * `text` with every control character escaped but line breaks: for what may
 * span lines (a summary, a help text) but comes from a plugin, which should
 * not be able to move the cursor or recolour the terminal.
 */
export function printable(text: string): string {
  return text.split("\n").map(oneLine).join("\n");
}

/** Runs of this many characters without a space are cut in error lines. */
const LONG_RUN = 100;

/**
 * An error message as the CLI prints it: one line ({@linkcode oneLine}), and
 * any run of 100 or more characters without a space (a 5,000-character host
 * name, a path of 4 KiB quoted by the runtime) cut to its first 60 and its
 * length, so the line says what and where in a readable length.
 */
export function errorLine(message: string): string {
  const short = message.replace(
    new RegExp(`[^\\s]{${LONG_RUN},}`, "g"),
    (run) => `${run.slice(0, 60)}…(${run.length} characters)`,
  );
  return oneLine(short);
}
