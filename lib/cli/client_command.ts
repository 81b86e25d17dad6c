// `wiretest echo|probe|ping|send|run`: run a plugin's client role once and
// print a summary (or the whole outcome with --json).
import type { IsolationPool } from "../plugin/isolation.ts";
import type { LogLevel, Outcome, Progress } from "../plugin/types.ts";
import { namedByFlags } from "./_flag_issues.ts";
import {
  commonFlagsHelp,
  flagsHelp,
  flagSpecs,
  parseFlags,
  UsageError,
  usageLine,
} from "./_flags.ts";
import { outcomeHelp } from "./_outcome_help.ts";
import { openPlugin } from "./_load_plugin.ts";
import { asksForHelp, noPluginError, pluginMenu } from "./_plugin_menu.ts";
import { progressDisplay } from "./_progress.ts";
import { EXIT } from "./_exit.ts";
import { errorLine, oneLine, printable } from "./_one_line.ts";
import { pluginSummaryText } from "./_plugin_summary_text.ts";
import { builtinManifestUrl } from "../../plugins/builtin_manifest.ts";
import { stringifyRounded } from "../_internal/round_float.ts";

export async function clientCommand(
  pluginName: string | undefined,
  args: string[],
  command: string,
  pool?: IsolationPool,
): Promise<number> {
  if (!pluginName || pluginName.startsWith("-")) {
    // Only `run` gets here: the other client commands name their plugin.
    const all = pluginName === undefined ? args : [pluginName, ...args];
    if (!asksForHelp(all)) throw await noPluginError("run", all);
    console.log(await pluginMenu("run", all));
    return EXIT.ok;
  }
  // Isolated, the flags, the params check and the summary all come from the
  // plugin's process: its module is never imported into this process.
  await using plugin = await openPlugin(pluginName, args, pool);
  const { name, client: role } = plugin.described;
  if (!role) {
    throw new UsageError(`Cannot run plugin "${name}": it has no client role`);
  }
  const specs = flagSpecs(role.params);
  const positionals = role.positionals;
  const { params, common } = parseFlags(args, specs, positionals);
  if (common.help) {
    const usage = command === "run" ? `run ${name}` : command;
    console.log(
      printable(
        `${usageLine(usage, positionals)}\n\n` +
          `${plugin.described.description}\n\nFlags:\n${flagsHelp(specs, positionals)}` +
          commonFlagsHelp() + outcomeHelp(role),
      ),
    );
    return EXIT.ok;
  }
  // Params are checked where the plugin runs, with the run (`lazy`): its
  // process validates them before the role starts, as a separate check
  // would, without a round trip first. A ParamsError then rejects `run`.
  const named = (error: unknown) => {
    throw namedByFlags(error, `plugin "${name}" (client)`, specs, positionals);
  };
  await using prepared = await plugin.executor.prepare(name, "client", params, { lazy: true })
    .catch(named);
  const debug = common.debug === true;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  Deno.addSignalListener("SIGINT", onSignal);
  const progress = await progressDisplay();
  let outcome: Outcome;
  try {
    const options = {
      signal: controller.signal,
      log: (level: LogLevel, message: string) => {
        if (debug || level === "warn" || level === "error") {
          console.error(`${level}: ${oneLine(message)}`);
        }
      },
      progress: (p: Progress) => progress.update(p),
    };
    outcome = await prepared.run(options).catch(named);
  } finally {
    progress.stop();
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  if (common.json) {
    console.log(stringifyRounded(outcome, 2));
  } else {
    // A failure before anything was measured has nothing to summarise.
    const measured = Object.values(outcome.metrics).some((v) => v !== 0);
    if (outcome.ok || measured) {
      const own = role.summary ? await pluginSummary(prepared, outcome) : undefined;
      const builtin = plugin.entry.source === builtinManifestUrl;
      const summary = own === undefined
        ? genericSummary(outcome)
        : pluginSummaryText(own, name, builtin);
      const shown = withoutError(summary, outcome.error?.message);
      if (shown) console.log(printable(shown));
    }
    if (outcome.error) console.error(`error: ${errorLine(outcome.error.message)}`);
  }
  if (outcome.ok) return EXIT.ok;
  // A file named on the command line that cannot be read is a usage error.
  return outcome.error?.name === "InputFileError" ? EXIT.usage : EXIT.failed;
}

// The error goes to stderr once: a summary line repeating it (udp-ping's
// "Cannot ping…", http-probe's "failed: …") would print it twice.
function withoutError(summary: string | undefined, error: string | undefined): string | undefined {
  if (!summary || error === undefined || error === "") return summary;
  return summary.split("\n").filter((line) => !line.endsWith(error)).join("\n");
}

// The run's result must reach the user even when the plugin's summary
// cannot be had (it throws, or its process cannot load again after a timeout
// ended the one that ran): then the generic line stands in.
async function pluginSummary(
  plugin: { summary(outcome: Outcome): Promise<string | undefined> },
  outcome: Outcome,
): Promise<string | undefined> {
  try {
    return await plugin.summary(outcome);
  } catch (error) {
    console.error(`warn: ${oneLine(`Cannot summarise the outcome: ${errorText(error)}`)}`);
    return undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function genericSummary(outcome: Outcome): string {
  const metrics = Object.entries(outcome.metrics)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`);
  return `${outcome.ok ? "ok" : "failed"}${metrics.length ? `: ${metrics.join(" ")}` : ""}`;
}
