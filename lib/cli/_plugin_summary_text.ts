// What a plugin's summary() may put on the terminal: the contract's one to
// three lines, each bounded and printable. A third-party plugin's lines are
// attributed to it, so its text cannot pass for wiretest's own report lines
// (`ok      …`, `5 passed, 0 failed`).
import { printable } from "./_one_line.ts";

/** Lines of a summary shown at most (the plugin contract says one to three). */
export const MAX_SUMMARY_LINES = 3;
/** Characters of one summary line shown at most. */
export const MAX_SUMMARY_LINE = 500;

/**
 * The summary as printed: control characters escaped, at most
 * {@linkcode MAX_SUMMARY_LINES} lines of {@linkcode MAX_SUMMARY_LINE}
 * characters, and for a third-party plugin each line prefixed by its name.
 */
export function pluginSummaryText(summary: string, plugin: string, builtin: boolean): string {
  const lines = summary.replace(/\r\n?/g, "\n").split("\n").filter((line) => line.trim() !== "");
  const shown = lines.slice(0, MAX_SUMMARY_LINES).map((line) => {
    const text = printable(line);
    const cut = text.length > MAX_SUMMARY_LINE ? `${text.slice(0, MAX_SUMMARY_LINE)}…` : text;
    return builtin ? cut : `${plugin}: ${cut}`;
  });
  if (lines.length > MAX_SUMMARY_LINES) {
    const more = lines.length - MAX_SUMMARY_LINES;
    shown.push(
      `(${more} more line${more === 1 ? "" : "s"} of plugin "${plugin}"'s summary not shown)`,
    );
  }
  return shown.join("\n");
}
