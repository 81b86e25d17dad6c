// What `wiretest serve` and `wiretest run` print when no plugin is named:
// the plugins that have the role the command runs, read from the manifests
// alone (no plugin module is imported to list them).
import { oneLine } from "./_one_line.ts";
import { UsageError } from "./_flags.ts";
import { listPlugins, manifestsFrom } from "./_load_plugin.ts";

/** The command's usage and the plugins it can run, one per line with its description. */
export async function pluginMenu(
  command: "serve" | "run",
  args: readonly string[],
): Promise<string> {
  const role = command === "serve" ? "server" : "client";
  const rows = (await listPlugins(manifestsFrom(args))).filter((p) => p.roles.includes(role));
  const width = Math.max(0, ...rows.map((p) => p.name.length)) + 2;
  const what = command === "serve"
    ? "Starts a plugin's server role and runs until interrupted."
    : "Runs the client role of a plugin, built-in or from a --plugins manifest.";
  return [
    `wiretest ${command} <plugin> [arguments] [flags]`,
    "",
    what,
    "",
    `Plugins with a ${role} role (wiretest ${command} <plugin> --help for its flags):`,
    ...rows.map((p) => `  ${p.name.padEnd(width)}${p.description}`),
    "",
    "Flags:",
    "  --plugins <file>    also load plugins from this manifest (repeatable)",
  ].map(oneLine).join("\n");
}

/** Whether `args` ask for help before any `--`. */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  const head = end === -1 ? args : args.slice(0, end);
  return head.includes("--help") || head.includes("-h");
}

/** The usage error for a command run without a plugin, naming the ones it could run. */
export async function noPluginError(
  command: "serve" | "run",
  args: readonly string[],
): Promise<UsageError> {
  const role = command === "serve" ? "server" : "client";
  const names = (await listPlugins(manifestsFrom(args)))
    .filter((p) => p.roles.includes(role)).map((p) => p.name);
  return new UsageError(
    `Cannot ${command}: name a plugin (${names.join(", ")}; wiretest ${command} --help)`,
  );
}
