// `wiretest new plugin <name>`: scaffold a plugin folder that passes its own
// test at once — the module, a loopback test, a manifest entry, a fixture and
// a deno.json that imports wiretest from JSR, or, when this CLI runs from a
// local copy (a checkout), from that copy through "links", so the plugin's own
// test passes offline and against the code that generated it.
import { inputFileProblem, quotePath } from "../_internal/input_file_error.ts";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { PLUGIN_NAME } from "../plugin/plugin_name.ts";
import { EXIT } from "./_exit.ts";
import { errorLine, oneLine } from "./_one_line.ts";
import { parseCommandArgs, UsageError } from "./_flags.ts";
import { moduleSource } from "./_scaffold/module_template.ts";
import { pluginNames, type Roles } from "./_scaffold/names.ts";
import { denoJsonSource, fixtureSource, manifestSource } from "./_scaffold/project_files.ts";
import { testSource } from "./_scaffold/test_template.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

const HELP =
  `wiretest new plugin <name> [--dir <path>] [--roles server,client] [--wiretest <checkout> | --jsr]

Creates a plugin folder that passes its own test at once:
  mod.ts            the plugin: params schemas, server and/or client role
  mod_test.ts       its test, over real loopback sockets (deno test -A)
  manifest.json     the entry that registers it (--plugins manifest.json)
  <name>.wire.yaml  a fixture that uses it (when it has a client role)
  deno.json         imports @wiretest/wiretest, tasks test and wiretest

Flags:
  --dir <path>          folder to create (default: ./<name>); must be new or empty
  --roles <list>        server, client or server,client (default: server,client)
  --wiretest <path>     use the wiretest checkout at <path> (works offline)
  --jsr                 use the JSR package even when this CLI runs from a checkout
  -h, --help            this help

Run from a checkout (deno task wiretest new plugin …), the plugin uses that
checkout through "links" in its deno.json; run from JSR, it imports from JSR.
Either way its imports name jsr:@wiretest/wiretest, so removing "links" is
all it takes to publish against the JSR package.

The name is kebab-case (e.g. "redis-ping") and must not be a built-in plugin's.`;

// The name becomes a folder, a file name (`<name>.wire.yaml`) and identifiers:
// long enough for any real protocol's name, far from file-name limits.
const MAX_NAME_LENGTH = 64;

/** The folder cannot be made or written (exit 1, where usage errors exit 2). */
class ScaffoldError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ScaffoldError";
  }
}

/**
 * Runs `wiretest new <what> …` and returns the exit code: 0 created, 1 the
 * folder could not be written (not empty, no permission), 2 usage error.
 * Errors are printed as one line on stderr.
 */
export async function newCommand(args: string[]): Promise<number> {
  try {
    return await scaffold(args);
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    console.error(`error: ${errorLine(err.message)}`);
    return err instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
}

async function scaffold(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs({
      args,
      options: {
        dir: { type: "string" },
        roles: { type: "string" },
        wiretest: { type: "string" },
        jsr: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        // Accepted for every command by `wiretest`; errors here are one line either way.
        debug: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const [what, name, ...extra] = positionals;
  if (what !== "plugin") {
    const detail = what === undefined
      ? "say what to create"
      : `"${what}" is not something it makes`;
    throw new UsageError(`Cannot create: ${detail} (wiretest new plugin <name>)`);
  }
  if (name === undefined) {
    throw new UsageError(`Cannot create plugin: name it (wiretest new plugin <name>)`);
  }
  if (extra.length > 0) {
    const list = extra.map((e) => `"${e}"`).join(", ");
    throw new UsageError(`Cannot create plugin "${name}": unexpected argument ${list}`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new UsageError(
      `Cannot create plugin "${
        oneLine(name.slice(0, 40))
      }…": the name is longer than ${MAX_NAME_LENGTH} characters`,
    );
  }
  if (!PLUGIN_NAME.test(name)) {
    throw new UsageError(
      `Cannot create plugin "${name}": the name is not kebab-case (e.g. "redis-ping")`,
    );
  }
  if (builtinRegistry().has(name)) {
    throw new UsageError(
      `Cannot create plugin "${name}": a built-in plugin has that name, and manifests cannot redefine it`,
    );
  }
  const roles = parseRoles(name, values.roles);
  if (values.jsr && values.wiretest !== undefined) {
    throw new UsageError(`Cannot create plugin "${name}": use --jsr or --wiretest, not both`);
  }
  const checkout = values.wiretest !== undefined
    ? await checkCheckout(name, values.wiretest)
    : values.jsr
    ? undefined
    : await runningCheckout();
  const dir = resolve(values.dir ?? name);
  await prepareDir(name, dir);

  const names = pluginNames(name);
  const files: [string, string][] = [
    [
      "deno.json",
      denoJsonSource({
        range: jsrRange(denoJson.version),
        zod: denoJson.imports.zod,
        unstable: denoJson.unstable,
        checkout,
      }),
    ],
    ["manifest.json", manifestSource(names, roles)],
    ["mod.ts", moduleSource(names, roles)],
    ["mod_test.ts", testSource(names, roles)],
  ];
  const fixture = fixtureSource(names, roles);
  if (fixture !== undefined) files.push([`${name}.wire.yaml`, fixture]);
  for (const [file, text] of files) {
    try {
      await Deno.writeTextFile(join(dir, file), text, { createNew: true });
    } catch (error) {
      throw new ScaffoldError(
        `Cannot create plugin "${name}": cannot write "${join(dir, file)}": ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  }
  await format(dir);

  const shown = displayPath(dir);
  console.log(`Created plugin "${name}" (${describeRoles(roles)}) in ${shown}:`);
  for (const [file] of files) console.log(`  ${file}`);
  if (fixture === undefined) {
    console.log("  (no fixture: fixture steps run client roles, and this plugin has none)");
  }
  console.log(`\nNext:\n  cd ${shown}\n  deno task test`);
  if (roles.server) {
    console.log(`  deno task wiretest serve ${name} --plugins manifest.json`);
  }
  if (roles.client) {
    console.log(`  deno task wiretest run ${name} --help --plugins manifest.json`);
  }
  return EXIT.ok;
}

function parseRoles(name: string, text: string | undefined): Roles {
  if (text === undefined) return { server: true, client: true };
  const list = text.split(",").map((r) => r.trim()).filter((r) => r !== "");
  const unknown = list.find((r) => r !== "server" && r !== "client");
  if (unknown !== undefined || list.length === 0) {
    const detail = unknown === undefined ? "the list is empty" : `"${unknown}" is not a role`;
    throw new UsageError(
      `Cannot create plugin "${name}": --roles ${detail} (use server, client or server,client)`,
    );
  }
  return { server: list.includes("server"), client: list.includes("client") };
}

// `^0.1` for 0.1.x (a 0.x minor may break), `^1` from 1.0 on.
function jsrRange(version: string): string {
  const [major, minor] = version.split(".");
  return major === "0" ? `^0.${minor}` : `^${major}`;
}

async function checkCheckout(name: string, path: string): Promise<string> {
  const dir = resolve(path);
  let config: { name?: unknown };
  try {
    config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
  } catch (error) {
    throw new UsageError(
      `Cannot create plugin "${name}": --wiretest "${path}" has no readable deno.json`,
      { cause: error },
    );
  }
  if (config.name !== "@wiretest/wiretest") {
    throw new UsageError(
      `Cannot create plugin "${name}": --wiretest "${path}" is not a wiretest checkout (its deno.json names "${config.name}")`,
    );
  }
  return dir;
}

/**
 * The folder of the checkout this CLI runs from, or `undefined` when it runs
 * from JSR (an `https:` URL) or from anything that is not a readable wiretest
 * checkout (a compiled binary's embedded files).
 */
async function runningCheckout(): Promise<string | undefined> {
  const root = new URL("../../", import.meta.url);
  if (root.protocol !== "file:") return undefined;
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
    return config.name === denoJson.name ? fileURLToPath(root).replace(/\/$/, "") : undefined;
  } catch {
    return undefined;
  }
}

// Where the plugin goes is an argument: a place it cannot go is a usage error.
async function prepareDir(name: string, dir: string): Promise<void> {
  const cannot = (detail: string, cause?: unknown) =>
    new UsageError(`Cannot create plugin "${name}" in ${quotePath(displayPath(dir))}: ${detail}`, {
      cause,
    });
  if (dir === "" || dir.includes("\0")) {
    throw cannot(dir === "" ? "the path is empty" : "the path contains a NUL character");
  }
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw cannot(fsDetail(dir, error), error);
  }
  if (info === undefined) {
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (error) {
      throw cannot(`cannot create the directory: ${fsDetail(dir, error)}`, error);
    }
    return;
  }
  if (!info.isDirectory) throw cannot("it exists and is not a directory");
  for await (const _ of Deno.readDir(dir)) throw cannot("the directory is not empty");
}

function fsDetail(path: string, error: unknown): string {
  const problem = inputFileProblem(path, error);
  if (problem?.detail !== undefined) return problem.detail;
  if (problem?.code === "name-too-long") {
    return "the name is too long (Linux allows 255 bytes per name and 4,095 per path)";
  }
  if (problem?.code === "symlink-loop") return "its symbolic links form a loop";
  if (problem?.code === "denied") return "permission denied";
  return (error as Error)?.message ?? String(error);
}

// The templates follow `deno fmt` closely, but where lines break depends on
// the name's length: let the formatter have the last word. Without it (a
// compiled binary, no permission) the code is just as valid.
async function format(dir: string): Promise<void> {
  try {
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", dir],
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // Formatting is a courtesy.
  }
}

function describeRoles(roles: Roles): string {
  if (roles.server && roles.client) return "server and client roles";
  return roles.server ? "server role" : "client role";
}

function displayPath(path: string): string {
  const rel = relative(Deno.cwd(), path);
  if (rel === "") return ".";
  return rel.startsWith("..") || isAbsolute(rel) ? path : `./${rel}`;
}

if (import.meta.main) {
  Deno.exit(await newCommand(Deno.args));
}
