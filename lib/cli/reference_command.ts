// `wiretest reference`: every metric and fact of every plugin, as Markdown,
// from what each plugin's roles declare (`outcome`, `stats`). This
// repository's REFERENCE.md is its output for the built-in plugins
// (`deno task reference`); `--check` says whether a file is up to date.
// Isolated (the default), a third-party plugin declares from its own process.
import { writeStdoutSync } from "../_internal/stdout.ts";
import { checkOutputPath, outputFileError, STDOUT_PATH } from "./_output_file.ts";
import type { PluginDescription } from "../plugin/isolation.ts";
import { EXIT } from "./_exit.ts";
import { parseCommandArgs, UsageError } from "./_flags.ts";
import { describeOnly, registryWith } from "./_load_plugin.ts";
import { referenceMarkdown } from "./_reference_markdown.ts";
import { CLIENT_ALIASES } from "./client_aliases.ts";
import { fileURLToPath } from "node:url";

const HELP = `wiretest reference [--plugins manifest.json …] [--output file [--check]]

Prints every metric and fact each plugin's client role reports, and every
counter of its server role's stats, as Markdown: name, unit or type, when
present, meaning — from the declarations of the plugins themselves.

Flags:
  --plugins <manifest>  also include the plugins of this manifest (repeatable)
  --output <file>       write the reference to this file ("-" or none: standard output)
  --check               with --output: write nothing, exit 1 if the file differs
  --no-isolation        import the plugins into this process instead of asking
                        each in a Worker limited to its manifest's permissions
  -h, --help            this help`;

export async function referenceCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        plugins: { type: "string", multiple: true },
        output: { type: "string" },
        check: { type: "boolean" },
        "no-isolation": { type: "boolean" },
        debug: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  if (values.check && (values.output === undefined || values.output === STDOUT_PATH)) {
    throw new UsageError(
      `Cannot check the reference: --check needs --output <file>${
        values.output === STDOUT_PATH ? ', not "-" (standard output)' : ""
      }`,
    );
  }
  const text = await referenceFor(values.plugins ?? [], values["no-isolation"] !== true);
  if (values.output === undefined || values.output === STDOUT_PATH) {
    writeStdoutSync(text);
    return EXIT.ok;
  }
  if (!values.check) {
    checkOutputPath("--output", values.output);
    try {
      await Deno.writeTextFile(values.output, text);
    } catch (error) {
      throw outputFileError("--output", values.output, error);
    }
    return EXIT.ok;
  }
  const current = await Deno.readTextFile(values.output).catch(() => undefined);
  if (current === text) return EXIT.ok;
  console.error(
    `error: Cannot check the reference: "${values.output}" is ${
      current === undefined ? "missing" : "out of date"
    } (write it with: wiretest reference --output ${values.output})`,
  );
  return EXIT.failed;
}

/** The reference for the built-in plugins and those of `manifests`, in registry order. */
export async function referenceFor(
  manifests: readonly string[],
  isolated = true,
): Promise<string> {
  const registry = await registryWith(manifests);
  const described: PluginDescription[] = [];
  for (const entry of registry.list()) {
    described.push(await describeOnly(registry, entry, isolated));
  }
  const commands: Record<string, string> = {};
  for (const [command, plugin] of Object.entries(CLIENT_ALIASES)) commands[plugin] = command;
  return referenceMarkdown(described, commands);
}

// `deno task reference`: this repository's REFERENCE.md, beside deno.json
// whatever folder the task runs from.
if (import.meta.main) {
  const file = fileURLToPath(new URL("../../REFERENCE.md", import.meta.url));
  Deno.exit(await referenceCommand(["--output", file, ...Deno.args]));
}
