// `wiretest report html <events.jsonl…> --output report.html`: the HTML page
// `--reporter html` writes, built after the fact from saved JSON lines
// (`--reporter jsonl`); several files (shards) make one page.
import { writeStdoutSync } from "../_internal/stdout.ts";
import { checkOutputPath, outputFileError, STDOUT_PATH } from "./_output_file.ts";
import { InputFileError, readInputTextFile } from "../plugin/input_file.ts";
import { checkReportEvent } from "./_report_events.ts";
import { dirname } from "node:path";
import { htmlReporter } from "../report/html_reporter.ts";
import type { RunEvent } from "../runner/events.ts";
import { EXIT } from "./_exit.ts";
import { parseCommandArgs, UsageError } from "./_flags.ts";

const HELP = `wiretest report html <events.jsonl> [more.jsonl…] --output <file>

Builds the HTML report (as --reporter html writes it) from JSON-lines reports
saved with --reporter jsonl; the runs of several files (shards) are merged into
one page: counts added up, fixtures listed together, failures first.

Flags:
  --output <file>   where the page goes (its folder is made if missing); "-" for standard output
  -h, --help        this help`;

const EVENT_TYPES = new Set([
  "run-start",
  "fixture-start",
  "step-result",
  "fixture-end",
  "summary",
]);

/**
 * Most bytes of JSON lines one page is made from, all files together: the
 * page holds them as one string (V8's limit is about 512 Mi characters, and
 * escaping may grow the text), and a 1,000-fixture run is about 3 MiB.
 */
const MAX_INPUT_BYTES = 128 * 1024 * 1024;

export async function reportCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs({
      args,
      allowPositionals: true,
      options: { output: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const [format, ...files] = positionals;
  if (format !== "html") {
    throw new UsageError(
      format === undefined
        ? "Cannot make a report: use wiretest report html <events.jsonl> or wiretest report merge <log…>"
        : `Cannot make a "${format}" report: use wiretest report html or wiretest report merge`,
    );
  }
  if (files.length === 0) {
    throw new UsageError("Cannot make a report: name the JSON-lines files (--reporter jsonl)");
  }
  if (values.output === undefined) {
    throw new UsageError('Cannot make a report: give --output <file> (or "-" for standard output)');
  }
  const events: RunEvent[] = [];
  let budget = MAX_INPUT_BYTES;
  for (const file of files) {
    const read = await readEvents(file, budget);
    budget -= read.bytes;
    for (const event of read.events) events.push(event);
  }
  let page = "";
  const reporter = htmlReporter((html) => page += html);
  try {
    for (const event of events) await reporter.onEvent(event);
    await reporter.close?.();
  } catch (error) {
    // Text that escaping grows (every "<" is six characters in the page) can pass V8's string limit.
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(
      `Cannot make a report: the page would be longer than a string may be (${error.message})`,
      { cause: error },
    );
  }
  if (values.output === STDOUT_PATH) {
    writeStdoutSync(page);
    return EXIT.ok;
  }
  checkOutputPath("--output", values.output);
  try {
    await Deno.mkdir(dirname(values.output), { recursive: true });
    await Deno.writeTextFile(values.output, page);
  } catch (error) {
    throw outputFileError("--output", values.output, error);
  }
  return EXIT.ok;
}

async function readEvents(
  file: string,
  budget: number,
): Promise<{ events: RunEvent[]; bytes: number }> {
  let text: string;
  try {
    text = await readInputTextFile(file, budget);
  } catch (error) {
    if (error instanceof InputFileError && error.code === "too-large") {
      throw new UsageError(
        `Cannot read "${file}": the JSON-lines files of one page may hold ${MAX_INPUT_BYTES} bytes together, and this one goes past that`,
        { cause: error },
      );
    }
    // As for every file the CLI is given: `Cannot read file "x": it does not exist (relative to …)`.
    throw new UsageError((error as Error).message, { cause: error });
  }
  const events: RunEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let event: unknown;
    try {
      event = JSON.parse(lines[i]);
    } catch (error) {
      throw new UsageError(`Cannot read "${file}": line ${i + 1} is not JSON`, { cause: error });
    }
    const type = (event as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !EVENT_TYPES.has(type)) {
      throw new UsageError(
        `Cannot read "${file}": line ${i + 1} is not a wiretest event (--reporter jsonl)`,
      );
    }
    try {
      events.push(checkReportEvent(event));
    } catch (error) {
      throw new UsageError(`Cannot read "${file}": line ${i + 1}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (!events.some((e) => e.type === "summary")) {
    throw new UsageError(
      `Cannot read "${file}": it has no "summary" event (is the run complete?)`,
    );
  }
  // Characters, not bytes: the string's own limit is what the budget guards.
  return { events, bytes: text.length };
}
