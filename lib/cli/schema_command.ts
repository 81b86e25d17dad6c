// `wiretest schema`: print the JSON Schema of fixture files, built from the
// params schema of every plugin (built-in and from --plugins manifests), for
// editors (`# yaml-language-server: $schema=…`). Isolated (the default), each
// third-party plugin describes itself from its own process: its module is
// never imported into this process (built-in ones are, see _load_plugin.ts).
import { writeStdoutSync } from "../_internal/stdout.ts";
import { checkOutputPath, outputFileError, STDOUT_PATH } from "./_output_file.ts";
import { fixtureJsonSchema } from "../fixture/json_schema.ts";
import type { PluginDescription } from "../plugin/isolation.ts";
import type { JsonSchema, ParamsJsonSchemas } from "../plugin/json_schema.ts";
import type { ManifestEntry } from "../plugin/manifest.ts";
import type { OutcomeDeclaration } from "../plugin/outcome_declaration.ts";
import type { Registry } from "../plugin/registry.ts";
import { EXIT } from "./_exit.ts";
import { parseCommandArgs, UsageError } from "./_flags.ts";
import { describeOnly, registryWith } from "./_load_plugin.ts";

const HELP = `wiretest schema [--plugins manifest.json …] [--output file]

Prints the JSON Schema (draft 2020-12) of fixture files: every plugin's
params are checked under "with:". Point editors at it with a first line
  # yaml-language-server: $schema=path/to/fixture.schema.json

Flags:
  --plugins <manifest>  also include the plugins of this manifest (repeatable)
  --output <file>       write the schema to this file ("-" or none: standard output)
  --no-isolation        import the plugins into this process instead of asking
                        each in a Worker limited to its manifest's permissions
  -h, --help            this help`;

// Plugins described at once (a process each): enough to overlap their start-up,
// few enough that a long manifest does not start a process per entry at once.
const DESCRIBE_AT_ONCE = 4;

export async function schemaCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        plugins: { type: "string", multiple: true },
        output: { type: "string" },
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
  const schema = await fixtureSchemaFor(await registryWith(values.plugins ?? []), {
    isolation: values["no-isolation"] !== true,
  });
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (values.output === undefined || values.output === STDOUT_PATH) {
    writeStdoutSync(text);
  } else {
    checkOutputPath("--output", values.output);
    try {
      await Deno.writeTextFile(values.output, text);
    } catch (error) {
      throw outputFileError("--output", values.output, error);
    }
  }
  return EXIT.ok;
}

/** Options for {@linkcode fixtureSchemaFor}. */
export interface FixtureSchemaOptions {
  /**
   * Describe each third-party plugin in a process limited to its manifest
   * entry's permissions (default `true`); `false` imports every plugin into
   * this process.
   */
  isolation?: boolean;
}

/** The fixture schema for every plugin of a registry (each plugin is described). */
export async function fixtureSchemaFor(
  registry: Registry,
  options: FixtureSchemaOptions = {},
): Promise<JsonSchema> {
  const entries = registry.list();
  const isolated = options.isolation !== false;
  const describe = (entry: ManifestEntry) => describeOnly(registry, entry, isolated);
  const described: PluginDescription[] = new Array(entries.length);
  let next = 0;
  const describeRest = async () => {
    for (let i = next++; i < entries.length; i = next++) described[i] = await describe(entries[i]);
  };
  await Promise.all(
    Array.from({ length: Math.min(DESCRIBE_AT_ONCE, entries.length) }, describeRest),
  );
  const plugins: Record<string, ParamsJsonSchemas> = {};
  const outcomes: Record<string, OutcomeDeclaration> = {};
  for (const d of described) {
    if (d.client?.outcome) outcomes[d.name] = d.client.outcome;
    plugins[d.name] = {
      ...(d.server ? { server: d.server.params } : {}),
      ...(d.client ? { client: d.client.params } : {}),
    };
  }
  const schema = fixtureJsonSchema(plugins, outcomes);
  return { $schema: schema.$schema, title: "wiretest fixture", ...schema };
}
