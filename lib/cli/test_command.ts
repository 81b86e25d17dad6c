// `wiretest test [paths…]`: discover fixture files, run them, report, and
// exit 0 (all passed), 1 (some failed) or 2 (usage error, invalid fixtures).
import { checkOutputPath, outputFileError, STDOUT_PATH } from "./_output_file.ts";
import { dirname } from "node:path";
import { parseDuration } from "../fixture/duration.ts";
import { parseSize } from "../fixture/size.ts";
import { createReporter, REPORTER_NAMES, type ReporterName } from "../report/create_reporter.ts";
import { DEFAULT_FIXTURE_DIR, discoverFixtures } from "../runner/discover.ts";
import { parseFilter } from "../runner/filter.ts";
import { runFixtures } from "../runner/run.ts";
import { DEFAULT_STEP_TIMEOUT_MS } from "../runner/run_fixture.ts";
import { parseShard } from "../runner/shard.ts";
import type { LogLevel } from "../plugin/types.ts";
import { EXIT } from "./_exit.ts";
import { FixtureMetrics } from "../exporter/fixture_metrics.ts";
import {
  type MetricFamily,
  OPENMETRICS_CONTENT_TYPE,
  renderMetrics,
  TEXT_CONTENT_TYPE,
  wantsOpenMetrics,
} from "../exporter/exposition.ts";
import { checkHost, formatAddress, parseHostPort } from "../transport/address.ts";
import { toNetError } from "../errors.ts";
import { parseCommandArgs, parsePluginMemory, UsageError } from "./_flags.ts";

const HELP = `wiretest test [paths or globs…] [flags]

Runs fixture files (*.wire.yaml, *.wire.yml, *.wire.json) found under the paths
given (default: ${DEFAULT_FIXTURE_DIR} if it exists, else the current directory).
Files are run in sorted order; node_modules and dot-directories are skipped.

Flags:
  --filter <text|/re/>       run fixtures whose name contains the text or matches /re/flags
  --concurrency <n>          fixtures run at once, each with its own ports (default 1)
  --fail-fast                skip the fixtures not started once one does not pass
  --timeout <duration>       limit for each fixture without a timeout of its own (e.g. 2m)
  --step-timeout <duration>  limit for each step attempt without a timeout of its own
                             (default ${DEFAULT_STEP_TIMEOUT_MS / 1000}s)
  --shard <i/n>              run part i of n: the k-th file (sorted, from 0) is in part k mod n + 1
  --reporter <name>          ${REPORTER_NAMES.join(", ")} (default console; repeatable)
  --output <file>            write the --reporter before it to this file instead of standard
                             output (its folder is made if missing; "-" is standard output);
                             with several reporters at most one writes to standard output, e.g.
                             --reporter console --reporter html --output report.html
  --plugins <manifest>       also load plugins from this manifest (repeatable)
  --trust <manifest>         fixtures may name this manifest in plugins: wherever it is
                             (repeatable; else only manifests in their own folder tree)
  --trust-ffi <manifest>     its plugins may load libc through FFI, as built-in udp-ping, echo
                             and proxy do (repeatable; FFI escapes every Deno permission)
  --plugins-lock <file>      load only manifests whose SHA-256 this lock file lists
                             (write it with wiretest plugins --write-lock)
  --allow-http-plugins       read manifests and plugin modules over plain http: beyond loopback
  --manifest-timeout <dur>   limit for fetching a manifest over HTTP (default 10s)
  --allow-env <NAME>         fixtures read this variable from the environment (repeatable);
                             others take their env: default
  --max-fixture-size <size>  larger fixture files are invalid (default 1MiB)
  --allow-files <dir>        plugins may read and write this folder too (repeatable; isolated,
                             they get only their fixture's folder (read) and WIRETEST_TMP)
  --no-isolation             run plugins in this process, not each in a process of its own with
                             its manifest's permissions: fixtures get this process's rights;
                             never for untrusted fixtures
  --plugin-memory-mib <n>    memory ceiling of each plugin's process, MiB (default 512)
  --every <duration>         run the fixtures again and again, this long from start to start,
                             until interrupted (continuous testing)
  --metrics-listen <addr>    with --every: serve the last run's results as Prometheus metrics
                             on host:port (/metrics; loopback unless a host is given)
  --debug                    print plugins' log lines (after the fixture's name) and stack traces
  -h, --help                 this help

Exit codes: 0 all passed, 1 some failed or erred, 2 usage error or invalid fixtures.`;

export async function testCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs({
      args,
      allowPositionals: true,
      tokens: true,
      options: {
        filter: { type: "string" },
        concurrency: { type: "string" },
        "fail-fast": { type: "boolean" },
        timeout: { type: "string" },
        "step-timeout": { type: "string" },
        shard: { type: "string" },
        reporter: { type: "string", multiple: true },
        output: { type: "string", multiple: true },
        plugins: { type: "string", multiple: true },
        trust: { type: "string", multiple: true },
        "trust-ffi": { type: "string", multiple: true },
        "plugins-lock": { type: "string" },
        "allow-http-plugins": { type: "boolean" },
        "manifest-timeout": { type: "string" },
        "allow-env": { type: "string", multiple: true },
        "max-fixture-size": { type: "string" },
        "no-isolation": { type: "boolean" },
        "allow-files": { type: "string", multiple: true },
        "plugin-memory-mib": { type: "string" },
        every: { type: "string" },
        "metrics-listen": { type: "string" },
        debug: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const reporterChoices = chooseReporters(parsed.tokens ?? []);
  const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new UsageError(
      `Cannot use --concurrency "${values.concurrency}": it must be a whole number from 1`,
    );
  }
  const timeout = duration("timeout", values.timeout);
  const stepTimeout = duration("step-timeout", values["step-timeout"]);
  const manifestTimeout = duration("manifest-timeout", values["manifest-timeout"]);
  const shard = flag("shard", values.shard, parseShard);
  const every = duration("every", values.every);
  if (every === 0) {
    throw new UsageError(`Cannot use --every "${values.every}": it must be more than 0`);
  }
  if (values["metrics-listen"] !== undefined && every === undefined) {
    throw new UsageError("Cannot use --metrics-listen without --every");
  }
  const filter = flag("filter", values.filter, parseFilter);
  const maxFixtureBytes = flag("max-fixture-size", values["max-fixture-size"], parseSize);
  const pluginMemory = values["plugin-memory-mib"];
  const pluginMemoryMiB = pluginMemory === undefined ? undefined : parsePluginMemory(pluginMemory);
  for (const name of values["allow-env"] ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`Cannot use --allow-env "${name}": it is not a variable name`);
    }
  }

  let files: string[];
  try {
    files = await discoverFixtures(positionals);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  }
  if (files.length === 0) {
    const where = positionals.length > 0 ? positionals.map((p) => `"${p}"`).join(", ") : "here";
    throw new UsageError(
      `Cannot run fixtures: no *.wire.yaml, *.wire.yml or *.wire.json files in ${where}`,
    );
  }

  const debug = values.debug === true;
  const outputs: { close: () => void }[] = [];
  const writers = reporterChoices.map(({ name, output }) => {
    if (output === undefined) return { name };
    const file = openOutput(output);
    outputs.push(file);
    return { name, write: file.write };
  });
  const metrics = every === undefined ? undefined : new FixtureMetrics();
  const server = values["metrics-listen"] === undefined || !metrics
    ? undefined
    : serveMetrics(values["metrics-listen"], () => metrics.families());
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  Deno.addSignalListener("SIGINT", onSignal);
  if (every !== undefined) Deno.addSignalListener("SIGTERM", onSignal);
  try {
    let exitCode: 0 | 1 | 2 = 0;
    let warned = false;
    for (;;) {
      const started = Date.now();
      // Reporters end with their run: each run gets its own.
      const reporters = writers.map(({ name, write }) =>
        write === undefined ? createReporter(name) : createReporter(name, write)
      );
      if (metrics) reporters.push(metrics.reporter());
      if (values["no-isolation"] === true && !warned) {
        warned = true;
        console.error(
          "warning: --no-isolation: plugins run with this process's rights and fixtures are not confined to their folder; never use it for untrusted fixtures",
        );
      }
      const result = await runFixtures({
        paths: files,
        reporters,
        command: ["wiretest", "test", ...args],
        plugins: values.plugins ?? [],
        trust: values.trust ?? [],
        trustFfi: values["trust-ffi"] ?? [],
        ...(values["plugins-lock"] === undefined ? {} : { pluginsLock: values["plugins-lock"] }),
        allowHttpPlugins: values["allow-http-plugins"] === true,
        ...(manifestTimeout === undefined ? {} : { manifestTimeout }),
        allowEnv: values["allow-env"] ?? [],
        isolation: values["no-isolation"] !== true,
        allowFiles: values["allow-files"] ?? [],
        ...(pluginMemoryMiB === undefined ? {} : { pluginMemoryMiB }),
        concurrency,
        failFast: values["fail-fast"] === true,
        ...(filter ? { filter } : {}),
        ...(shard ? { shard } : {}),
        ...(timeout === undefined ? {} : { timeout }),
        ...(stepTimeout === undefined ? {} : { stepTimeout }),
        ...(maxFixtureBytes === undefined ? {} : { maxFixtureBytes }),
        signal: controller.signal,
        // Plugins log what fixtures often provoke on purpose (a refused file):
        // only --debug shows it, so reports stay readable.
        ...(debug
          ? { log: (level: LogLevel, message: string) => console.error(`${level}: ${message}`) }
          : {}),
      });
      exitCode = result.exitCode;
      if (every === undefined || controller.signal.aborted) return exitCode;
      const wait = Math.max(0, every - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          controller.signal.removeEventListener("abort", done);
          resolve();
        }
        controller.signal.addEventListener("abort", done, { once: true });
      });
      if (controller.signal.aborted) return exitCode;
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    if (every !== undefined) Deno.removeSignalListener("SIGTERM", onSignal);
    await server?.shutdown();
    for (const output of outputs) output.close();
  }
}

// `--metrics-listen`: the last run's results for Prometheus.
function serveMetrics(listen: string, families: () => MetricFamily[]): Deno.HttpServer {
  let hostname: string;
  let port: number;
  try {
    ({ hostname, port } = parseHostPort(listen));
    checkHost(hostname);
  } catch (error) {
    const why = (error as Error).message.replace(/^Cannot [^:]*: /, "");
    throw new UsageError(`Cannot use --metrics-listen: ${why}`, { cause: error });
  }
  try {
    return Deno.serve({ hostname, port, onListen: () => {} }, metricsHandler(families));
  } catch (error) {
    const failure = toNetError(
      error,
      "listen",
      formatAddress({ transport: "tcp", hostname, port }),
    );
    throw new UsageError(failure.message, { cause: failure });
  }
}

function metricsHandler(families: () => MetricFamily[]): (request: Request) => Response {
  return (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("Not Found\n", { status: 404 });
    }
    const open = wantsOpenMetrics(request.headers.get("accept"));
    return new Response(renderMetrics(families(), open), {
      headers: { "content-type": open ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE },
    });
  };
}

/** A reporter and the file it writes to (standard output when none). */
interface ReporterChoice {
  name: ReporterName;
  output?: string;
}

/**
 * Pairs each `--output` with the `--reporter` before it (a lone `--output`
 * before the only reporter is its own): `--reporter console --reporter html
 * --output report.html` shows the console and writes the page.
 */
function chooseReporters(
  tokens: readonly { kind: string; name?: string; value?: string }[],
): ReporterChoice[] {
  const choices: ReporterChoice[] = [];
  let early: string | undefined;
  for (const token of tokens) {
    if (token.kind !== "option" || token.value === undefined) continue;
    if (token.name === "reporter") {
      const name = token.value as ReporterName;
      if (!REPORTER_NAMES.includes(name)) {
        throw new UsageError(
          `Cannot use --reporter "${token.value}": use one of ${REPORTER_NAMES.join(", ")}`,
        );
      }
      choices.push({ name });
    } else if (token.name === "output") {
      const last = choices.at(-1);
      if (last === undefined && early === undefined) early = token.value;
      else if (last !== undefined && last.output === undefined) last.output = token.value;
      else {
        throw new UsageError(
          `Cannot use --output "${token.value}": ${
            last
              ? `--reporter ${last.name} already writes to "${last.output}"`
              : "a second --output"
          }; put each --output after its --reporter`,
        );
      }
    }
  }
  if (choices.length === 0) choices.push({ name: "console" });
  if (early !== undefined) {
    if (choices.length > 1 || choices[0].output !== undefined) {
      throw new UsageError(
        `Cannot use --output "${early}" before --reporter with several reporters: put each --output after its --reporter`,
      );
    }
    choices[0].output = early;
  }
  for (const choice of choices) if (choice.output === STDOUT_PATH) delete choice.output;
  const onStdout = choices.filter((c) => c.output === undefined);
  if (onStdout.length > 1) {
    throw new UsageError(
      `Cannot write reporters ${
        onStdout.map((c) => `"${c.name}"`).join(" and ")
      } both to standard output: give all but one an --output file`,
    );
  }
  const files = choices.flatMap((c) => c.output === undefined ? [] : [c.output]);
  const twice = files.find((file, i) => files.indexOf(file) !== i);
  if (twice !== undefined) {
    throw new UsageError(`Cannot use --output "${twice}" twice: give each reporter its own file`);
  }
  return choices;
}

function duration(name: string, value: string | undefined): number | undefined {
  return flag(name, value, (text) => parseDuration(text));
}

function flag<T>(
  name: string,
  value: string | undefined,
  parse: (text: string) => T,
): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (error) {
    const detail = (error as Error).message.replace(/^Cannot [^:]*: /, "");
    throw new UsageError(`Cannot use --${name} "${value}": ${detail}`, { cause: error });
  }
}

/** A file the report is written to synchronously, so nothing is lost when the process exits. */
function openOutput(path: string): { write: (text: string) => void; close: () => void } {
  let file: Deno.FsFile;
  checkOutputPath("--output", path);
  try {
    // A CI job names reports/<n>.xml before anything made reports/.
    Deno.mkdirSync(dirname(path), { recursive: true });
    file = Deno.openSync(path, { write: true, create: true, truncate: true });
  } catch (error) {
    throw outputFileError("--output", path, error);
  }
  const encoder = new TextEncoder();
  return {
    write: (text) => {
      const bytes = encoder.encode(text);
      for (let offset = 0; offset < bytes.length;) {
        offset += file.writeSync(bytes.subarray(offset));
      }
    },
    close: () => file.close(),
  };
}
