/**
 * The `wiretest` command line.
 *
 * ```sh
 * deno run -A jsr:@wiretest/wiretest/cli --help
 * ```
 *
 * Commands load lazily, so `wiretest --help` does not import every plugin.
 *
 * @example Running the CLI from code
 * ```ts
 * import { main } from "@wiretest/wiretest/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["--version"]), 0);
 * ```
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

import { EXIT } from "./_exit.ts";
import { isStdoutClosed } from "../_internal/stdout.ts";
import { errorLine, oneLine } from "./_one_line.ts";
import { CLIENT_ALIASES } from "./client_aliases.ts";

const MAX_SHORT_GROUP = 64;

/** The modules `lazy()` imports (types only: no module graph is walked for them). */
interface LazyModules {
  "./serve_command.ts": typeof import("./serve_command.ts");
  "./proxy_command.ts": typeof import("./proxy_command.ts");
  "./test_command.ts": typeof import("./test_command.ts");
  "./exporter_command.ts": typeof import("./exporter_command.ts");
  "./report_merge_command.ts": typeof import("./report_merge_command.ts");
  "./report_command.ts": typeof import("./report_command.ts");
  "./schema_command.ts": typeof import("./schema_command.ts");
  "./reference_command.ts": typeof import("./reference_command.ts");
  "./new_command.ts": typeof import("./new_command.ts");
  "./load_command.ts": typeof import("./load_command.ts");
  "./plugins_command.ts": typeof import("./plugins_command.ts");
  "./_early_plugin.ts": typeof import("./_early_plugin.ts");
  "./client_command.ts": typeof import("./client_command.ts");
}

/**
 * Imports one of the CLI's modules when a command needs it. The specifier is
 * computed on purpose: Deno walks the module graph behind every literal
 * `import()` when the program starts (every command's, about 290 modules and
 * their npm packages: 10–20 ms before `main()` runs), a computed one only
 * when it is imported, so each command pays for its own modules alone.
 */
function lazy<P extends keyof LazyModules>(path: P): Promise<LazyModules[P]> {
  return import(new URL(path, import.meta.url).href);
}

const HELP = `wiretest ${denoJson.version}: test network protocols over the wire

Usage: wiretest <command> [arguments] [flags]

Commands:
  test [paths…] [flags]       run fixture files (*.wire.yaml): exit 0 passed, 1 failed, 2 invalid
  exporter --config <file>    Prometheus exporter (blackbox_exporter's /probe protocol)
  report html <jsonl…> --output <file>
                              an HTML report from saved --reporter jsonl files (shards merged)
  schema [--output file]      print the JSON Schema of fixture files (for editors)
  serve <plugin> [flags]      start a plugin's server role and run until interrupted
  proxy [--config file]       fault-injection proxy, toxiproxy's control API on 127.0.0.1:8474
  echo <host:port>            echo round trips, verified byte for byte (plugin "echo")
  probe <url>                 HTTP/1.1 request with phase timings and TLS facts ("http-probe")
  ping <host:port>            UDP round trips: RTT percentiles, loss, jitter ("udp-ping")
  send <file> <host:port>     stream a file, verified by sha256 ("file-send")
  run <plugin> [args] [flags] run the client role of any plugin, built-in or third-party
  load <plugin> [params]      a client role as load: --vus/--rate, --duration, --stage…
  report merge <log…>         add load shards' HdrHistogram interval logs, one summary
  plugins                     list the plugins in the manifest(s)
  reference [--output file]   every metric and fact of every plugin, as Markdown
  new plugin <name>           scaffold a plugin folder that passes its own test

Common flags:
  --json                      print the whole outcome as JSON
  --plugins <file>            also load plugins from this manifest (repeatable)
  --debug                     print stack traces and plugin log lines
  --no-isolation              run plugins in-process instead of in a process limited to
                              the permissions their manifest entry grants
  --plugin-memory-mib <n>     memory ceiling of a plugin's process, MiB (default 512)
  --no-ffi                    UDP through Deno's sockets: no plugin loads libc (udp-ping,
                              echo's UDP server and proxy's relays otherwise do: io "libc")
  --trust-ffi <file>          plugins of this manifest may load libc through FFI too
                              (FFI escapes every Deno permission; built-ins only otherwise)
  -h, --help                  help for a command (wiretest echo --help)
  -V, --version               print the version

Exit codes: 0 success, 1 the exchange failed, 2 usage error, 141 standard output closed early.`;

/**
 * `args` without `--no-ffi` (before any `--`), which every command takes:
 * it revokes this process's FFI permission, so neither it nor a plugin
 * process it starts (which never gets more than this one has) loads libc.
 */
function withoutNoFfi(args: string[]): string[] {
  const end = args.indexOf("--");
  const flags = end === -1 ? args : args.slice(0, end);
  if (!flags.includes("--no-ffi")) return args;
  Deno.permissions.revokeSync({ name: "ffi" });
  return [...flags.filter((arg) => arg !== "--no-ffi"), ...(end === -1 ? [] : args.slice(end))];
}

/**
 * Runs the CLI with `args` and returns the exit code (it does not exit).
 *
 * @param args Command-line arguments, without the program name.
 * @returns The exit code: 0 success, 1 failure, 2 usage error, 141 standard
 *   output closed by its reader.
 *
 * @example Asking for help
 * ```ts
 * import { main } from "@wiretest/wiretest/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["no-such-command"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  args = withoutNoFfi(args);
  const [command, ...rest] = args;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    console.log(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "-V" || command === "--version") {
    console.log(`wiretest ${denoJson.version}`);
    return EXIT.ok;
  }
  const debug = args.includes("--debug");
  // node:util's parseArgs takes quadratic time over a long group of short
  // options ("-xxxx…": 7 s for 100,000 characters); none is longer than "-h".
  const group = args.find((arg) => /^-[^-]/.test(arg) && arg.length > MAX_SHORT_GROUP);
  if (group !== undefined) {
    console.error(
      `error: Cannot parse arguments: "${oneLine(group.slice(0, 40))}…" is not an option`,
    );
    return EXIT.usage;
  }
  try {
    if (command === "serve") {
      const { serveCommand } = await lazy("./serve_command.ts");
      return await serveCommand(rest);
    }
    if (command === "proxy") {
      const { proxyCommand } = await lazy("./proxy_command.ts");
      return await proxyCommand(rest);
    }
    if (command === "test") {
      const { testCommand } = await lazy("./test_command.ts");
      return await testCommand(rest);
    }
    if (command === "exporter") {
      const { exporterCommand } = await lazy("./exporter_command.ts");
      return await exporterCommand(rest);
    }
    if (command === "report" && rest[0] === "merge") {
      const { reportMergeCommand } = await lazy("./report_merge_command.ts");
      return await reportMergeCommand(rest.slice(1));
    }
    if (command === "report") {
      const { reportCommand } = await lazy("./report_command.ts");
      return await reportCommand(rest);
    }
    if (command === "schema") {
      const { schemaCommand } = await lazy("./schema_command.ts");
      return await schemaCommand(rest);
    }
    if (command === "reference") {
      const { referenceCommand } = await lazy("./reference_command.ts");
      return await referenceCommand(rest);
    }
    if (command === "new") {
      const { newCommand } = await lazy("./new_command.ts");
      return await newCommand(rest);
    }
    if (command === "load") {
      const { loadCommand } = await lazy("./load_command.ts");
      return await loadCommand(rest);
    }
    if (command === "plugins") {
      const { pluginsCommand } = await lazy("./plugins_command.ts");
      return await pluginsCommand(rest);
    }
    if (command === "run" || Object.hasOwn(CLIENT_ALIASES, command)) {
      const [name, pluginArgs] = command === "run"
        ? [rest[0], rest.slice(1)]
        : [CLIENT_ALIASES[command], rest];
      // A built-in plugin's process starts while the command's modules load.
      const { earlyPool } = await lazy("./_early_plugin.ts");
      const early = earlyPool(name, pluginArgs);
      try {
        const { clientCommand } = await lazy("./client_command.ts");
        return await clientCommand(name, pluginArgs, command, await early);
      } finally {
        await (await early)?.close();
      }
    }
    console.error(
      `error: Cannot run "${oneLine(command)}": unknown command (see wiretest --help)`,
    );
    return EXIT.usage;
  } catch (error) {
    return reportError(error, debug);
  }
}

/** Prints an error as one line (a stack too with `--debug`) and picks the exit code. */
function reportError(error: unknown, debug: boolean): number {
  // Nobody reads what is left (`| head -1`): stop quietly, as git and grep do.
  if (isStdoutClosed(error)) return EXIT.stdoutClosed;
  const err = error instanceof Error ? error : new Error(String(error));
  const problems = (err as { problems?: unknown }).problems;
  if (Array.isArray(problems) && problems.length > 1) {
    // A config with several located problems: one line each, as fixtures print them.
    console.error(`error: ${errorLine(err.message.split("\n")[0])}`);
    for (const problem of problems) console.error(`  ${oneLine(String(problem))}`);
  } else {
    console.error(`error: ${errorLine(err.message)}`);
  }
  if (debug && err.stack) console.error(err.stack);
  const usage = err.name === "UsageError" || err.name === "ParamsError" ||
    err.name === "ManifestError" || err.name === "UnknownPluginError" ||
    err.name === "PluginLoadError" || err.name === "FixtureErrors" ||
    err.name === "InputFileError" || err.name === "ExporterConfigError";
  return usage ? EXIT.usage : EXIT.failed;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
