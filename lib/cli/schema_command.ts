// `wiretest schema`: print the JSON Schema of fixture files, built from the
// params schema of every plugin (built-in and from --plugins manifests), for
// editors (`# yaml-language-server: $schema=…`).
import { parseArgs } from "node:util";
import { fixtureJsonSchema } from "../fixture/json_schema.ts";
import {
  type JsonSchema,
  paramsJsonSchema,
  type ParamsJsonSchemas,
} from "../plugin/json_schema.ts";
import type { Registry } from "../plugin/registry.ts";
import { EXIT } from "./_exit.ts";
import { UsageError } from "./_flags.ts";
import { registryWith } from "./_load_plugin.ts";

const HELP = `wiretest schema [--plugins manifest.json …] [--output file]

Prints the JSON Schema (draft 2020-12) of fixture files: every plugin's
params are checked under "with:". Point editors at it with a first line
  # yaml-language-server: $schema=path/to/fixture.schema.json

Flags:
  --plugins <manifest>  also include the plugins of this manifest (repeatable)
  --output <file>       write the schema to this file instead of standard output
  -h, --help            this help`;

export async function schemaCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        plugins: { type: "string", multiple: true },
        output: { type: "string" },
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
  const schema = await fixtureSchemaFor(await registryWith(values.plugins ?? []));
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (values.output === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(text));
  } else {
    await Deno.writeTextFile(values.output, text);
  }
  return EXIT.ok;
}

/** The fixture schema for every plugin of a registry (each plugin is loaded). */
export async function fixtureSchemaFor(registry: Registry): Promise<JsonSchema> {
  const plugins: Record<string, ParamsJsonSchemas> = {};
  for (const entry of registry.list()) {
    plugins[entry.name] = paramsJsonSchema(await registry.load(entry.name));
  }
  const schema = fixtureJsonSchema(plugins);
  return { $schema: schema.$schema, title: "wiretest fixture", ...schema };
}
