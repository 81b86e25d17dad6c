/**
 * The exporter's HTTP server: `/probe` runs a module against a target and
 * answers its metrics, `/metrics` the exporter's own, `/-/reload` rereads
 * the config (an invalid one keeps the old). blackbox_exporter's protocol:
 * Prometheus scrapes `/probe?module=…&target=…` with its relabelling config.
 *
 * @module
 */
import { stringify } from "yaml";
import { judgeStep } from "../fixture/judge_step.ts";
import type { FixtureStep } from "../fixture/types.ts";
import { ParamsError } from "../plugin/params_schema.ts";
import { redactPasswords } from "../plugin/redact_passwords.ts";
import { toNetError } from "../errors.ts";
import { formatAddress } from "../transport/address.ts";
import { readInputTextFile } from "../plugin/input_file.ts";
import { undeclaredExpectations } from "../fixture/undeclared_expectations.ts";
import type { MetricDeclaration } from "../plugin/outcome_declaration_types.ts";
import type { LogLevel, Outcome } from "../plugin/types.ts";
import type { Executor, PreparedClient } from "../executor/executor.ts";
import {
  type ExporterConfig,
  ExporterConfigError,
  type ExporterModule,
  readExporterConfig,
} from "./config.ts";
import {
  type MetricFamily,
  OPENMETRICS_CONTENT_TYPE,
  renderMetrics,
  TEXT_CONTENT_TYPE,
  wantsOpenMetrics,
} from "./exposition.ts";
import { MAX_OUTCOME_METRICS, probeMetrics } from "./probe_metrics.ts";
import { processMetrics } from "./process_metrics.ts";
import { PreparedClients } from "./prepared_clients.ts";
import { goQuote, printableText } from "./go_quote.ts";
import { stringifyRounded } from "../_internal/round_float.ts";
import { paramsIssueDetail } from "../_internal/params_issue_detail.ts";
import { goParseFloat } from "./go_parse_float.ts";

/** Options for {@linkcode startExporter}. */
export interface ExporterOptions {
  /** The YAML config file (read now and on every reload). */
  readonly configFile: string;
  /** Where to listen (default `127.0.0.1:9115`, loopback only). */
  readonly hostname?: string;
  /** Port (default 9115; 0 for any free one). */
  readonly port?: number;
  /** Runs the modules' plugins (isolated, normally); its `describe` names their metrics. */
  readonly executor: Executor;
  /** Seconds taken off Prometheus' scrape timeout, as blackbox's `--timeout-offset` (default 0.5). */
  readonly timeoutOffsetSeconds?: number;
  /** Probes running at once at most (default 16); more wait their turn within their timeout. */
  readonly maxConcurrentProbes?: number;
  /** Receives the exporter's own log lines. */
  readonly log?: (level: LogLevel, message: string) => void;
}

/** A running exporter. */
export interface Exporter extends AsyncDisposable {
  /** Where it listens. */
  readonly hostname: string;
  /** Its port. */
  readonly port: number;
  /** Rereads the config; on a problem, keeps the old one and throws. */
  reload(): Promise<void>;
  /** Stops listening, waits for running probes. */
  close(): Promise<void>;
}

/** Default module when a scrape names none, as blackbox_exporter's. */
export const DEFAULT_MODULE = "http_2xx";
/** Default listen port, blackbox_exporter's. */
export const DEFAULT_PORT = 9115;
/** Scrape timeout assumed when Prometheus sends none (blackbox's 120 s). */
const DEFAULT_SCRAPE_TIMEOUT_S = 120;
// Why a finished probe's controller aborts (what it started ends): one
// reason for all, as an aborted DOMException with its stack costs tens of µs.
const PROBE_OVER = new DOMException("The probe is over", "AbortError");
/**
 * Longest probe timeout, seconds: the longest a timer can wait (2^31 - 1 ms).
 * A longer one (`X-Prometheus-Scrape-Timeout-Seconds: 1e308`) would make
 * every timer built on the deadline fire at once, failing the probe unrun.
 */
export const MAX_PROBE_TIMEOUT_S = 2_147_483;
/** Time a plugin's process has to check a module's params on load or reload. */
const CHECK_MS = 10_000;
/** Characters of a scrape's module or target quoted back in a 400 at most. */
const QUOTED_PARAM_CHARS = 200;
/** Patterns of a module's `targets` a 400 names at most, and characters of each. */
const LISTED_PATTERNS = 10;
const LISTED_PATTERN_CHARS = 120;
/** Time between the probe's own deadline and giving up waiting for its process. */
const ANSWER_GRACE_MS = 150;

interface Counters {
  probes: Map<string, number>;
  probeSeconds: Map<string, number>;
  badRequests: Map<string, number>;
  inFlight: number;
  reloadOk: boolean;
  reloadAt: number;
}

/**
 * Starts the exporter.
 *
 * @param options Config file, listen address, executor.
 * @returns The running exporter.
 * @throws {ExporterConfigError} When the config has problems (each located).
 * @throws {ConnectionError} When it cannot listen (code `address-in-use`, `address-not-available`…).
 */
export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const log = options.log ?? (() => {});
  const offset = options.timeoutOffsetSeconds ?? 0.5;
  const limit = new Semaphore(options.maxConcurrentProbes ?? 16);
  let config = await loadConfig(options);
  const counters: Counters = {
    probes: new Map(),
    probeSeconds: new Map(),
    badRequests: new Map(),
    inFlight: 0,
    reloadOk: true,
    reloadAt: Date.now() / 1000,
  };
  const running = new Set<Promise<unknown>>();
  const prepared = new PreparedClients();
  const reloadNow = async () => {
    try {
      config = await loadConfig(options);
      await prepared.clear();
      counters.reloadOk = true;
      counters.reloadAt = Date.now() / 1000;
      log("info", `Loaded config "${options.configFile}" (${config.modules.size} modules)`);
    } catch (error) {
      counters.reloadOk = false;
      // Whoever reads the log must know which config is serving.
      // One log line per located problem: a log line is one line (its
      // newlines escaped), and a list run together on one is unreadable.
      const [first, ...problems] = String((error as Error).message).split("\n");
      log("error", `Reload refused, the previous config stays: ${first}`);
      for (const problem of problems) log("error", problem);
      throw error;
    }
  };
  // One reload at a time, in the order asked: in a SIGHUP storm while the
  // file is rewritten, a slow earlier reload must not finish last and put
  // back the config the file no longer has.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<void> => {
    const next = reloading.then(reloadNow, reloadNow);
    reloading = next.catch(() => {});
    return next;
  };
  const bad = (reason: string, message: string) => {
    counters.badRequests.set(reason, (counters.badRequests.get(reason) ?? 0) + 1);
    // A target's URL password is not echoed back (nor kept in logs), and
    // nothing unprintable (a plugin's message may quote the target).
    return new Response(`${printableText(redactPasswords(message))}\n`, {
      status: 400,
      headers: { "content-type": "text/plain" },
    });
  };

  const probe = async (request: Request, url: URL): Promise<Response> => {
    const moduleName = url.searchParams.get("module") || DEFAULT_MODULE;
    const module = config.modules.get(moduleName);
    if (!module) {
      return bad("unknown_module", `Unknown module ${goQuote(moduleName, QUOTED_PARAM_CHARS)}`);
    }
    const target = url.searchParams.get("target") ?? "";
    if (target === "") return bad("missing_target", "Target parameter is missing");
    if (module.targets && !module.targets.some((pattern) => pattern.test(target))) {
      return bad(
        "target_not_allowed",
        `Target ${goQuote(target, QUOTED_PARAM_CHARS)} is not allowed by module ${
          goQuote(moduleName)
        }: ${allowedTargets(module.targetPatterns ?? [])}`,
      );
    }
    let timeoutSeconds: number;
    try {
      timeoutSeconds = probeTimeoutSeconds(
        firstValue(request.headers.get("x-prometheus-scrape-timeout-seconds")),
        module.timeoutMs,
        offset,
      );
    } catch (error) {
      // blackbox answers 500; the mistake is the scraper's, not the exporter's.
      return bad(
        "malformed_timeout",
        `Failed to parse timeout from Prometheus header: ${(error as Error).message}`,
      );
    }
    const params = { ...module.with, [module.targetParam]: probeTarget(module, target) };
    const lines: string[] = [];
    const debug = url.searchParams.get("debug") === "true";
    // The log is shown only with debug=true: other scrapes format none of it.
    const note = !debug ? () => {} : (level: LogLevel, message: string) => {
      lines.push(
        `ts=${new Date().toISOString()} level=${level} module=${moduleName} target=${
          JSON.stringify(target)
        } msg=${JSON.stringify(message)}`,
      );
    };
    const started = performance.now();
    const deadline = Date.now() + timeoutSeconds * 1000;
    note("debug", `Beginning probe (plugin "${module.plugin}", timeout ${timeoutSeconds} s)`);
    const client = () =>
      prepared.get(
        JSON.stringify([moduleName, params]),
        // Bounded by this scrape's deadline: a plugin's process stuck in
        // its params check is then killed, and the next scrape gets a fresh one.
        () =>
          boundedPrepare(
            (signal) => options.executor.prepare(module.plugin, "client", params, { signal }),
            deadline - Date.now(),
            new DOMException("The probe's timeout passed", "TimeoutError"),
          ),
      );
    const task = runProbe(client, deadline, limit, note, counters, request.signal);
    running.add(task);
    let outcome: Outcome;
    try {
      outcome = await task;
    } catch (error) {
      if (error instanceof ParamsError) {
        const onTarget = error.issues.some((issue) => issue.path[0] === module.targetParam);
        if (onTarget) {
          return bad(
            "malformed_target",
            `Cannot probe target ${goQuote(target, QUOTED_PARAM_CHARS)} with module ${
              goQuote(moduleName)
            }: ${
              error.issues.filter((i) => i.path[0] === module.targetParam).map((i) => i.message)
                .join("; ")
            }`,
          );
        }
      }
      outcome = { ok: false, metrics: {}, facts: {}, error: describe(error) };
    } finally {
      running.delete(task);
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const judged = judgeStep(stepOf(module), outcome);
    const success = judged.every((r) => r.pass);
    for (const result of judged) {
      note(result.pass ? "debug" : "error", result.message);
    }
    if (outcome.error) note("error", `${outcome.error.name}: ${outcome.error.message}`);
    const reported = Object.keys(outcome.metrics).length;
    if (reported > MAX_OUTCOME_METRICS) {
      note(
        "warn",
        `The outcome has ${reported} metrics: only the first ${MAX_OUTCOME_METRICS} are exported`,
      );
    }
    note(
      success ? "debug" : "error",
      `Probe ${success ? "succeeded" : "failed"} (duration_seconds=${durationSeconds.toFixed(6)})`,
    );
    const key = `${moduleName}\u0000${success ? "success" : "failure"}`;
    counters.probes.set(key, (counters.probes.get(key) ?? 0) + 1);
    counters.probeSeconds.set(
      moduleName,
      (counters.probeSeconds.get(moduleName) ?? 0) + durationSeconds,
    );
    const families = probeMetrics({
      plugin: module.plugin,
      outcome,
      success,
      failedDueToRegex: judged.some((r) => !r.pass && /^facts\.(body_text|headers)\b/.test(r.key)),
      durationSeconds,
      timeoutSeconds,
      declarations: await declarations(options.executor, module.plugin, deadline),
      target: String(params[module.targetParam]),
    });
    if (debug) {
      return new Response(redactPasswords(debugText(module, lines, families, outcome)), {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    return metricsResponse(request, families);
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === "/probe") return await probe(request, url);
    if (url.pathname === "/metrics") {
      return metricsResponse(request, [
        ...ownMetrics(counters, prepared.size),
        ...processMetrics(),
      ]);
    }
    if (url.pathname === "/-/reload") {
      if (request.method !== "POST" && request.method !== "PUT") {
        return new Response("This endpoint requires a POST request.\n", { status: 405 });
      }
      try {
        await reload();
        return new Response("OK\n");
      } catch (error) {
        return new Response(`failed to reload config: ${(error as Error).message}\n`, {
          status: 500,
        });
      }
    }
    if (url.pathname === "/-/healthy") return new Response("Healthy\n");
    if (url.pathname === "/") {
      return new Response(
        `wiretest exporter: modules ${[...config.modules.keys()].join(", ")}\n` +
          "GET /probe?module=<module>&target=<target>[&debug=true], GET /metrics, POST /-/reload\n",
      );
    }
    return new Response("Not Found\n", { status: 404 });
  };

  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORT;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
  } catch (error) {
    await prepared.clear();
    throw toNetError(error, "listen", formatAddress({ transport: "tcp", hostname, port }));
  }
  const address = server.addr as Deno.NetAddr;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      await server.shutdown();
      await Promise.allSettled([...running]);
      await prepared.clear();
    })();
  return {
    hostname: address.hostname,
    port: address.port,
    reload,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * What a module's `targets` allow, for the 400 that refuses a target: its
 * patterns as the config writes them, the first {@linkcode LISTED_PATTERNS},
 * each cut to {@linkcode LISTED_PATTERN_CHARS} characters.
 */
function allowedTargets(patterns: readonly string[]): string {
  const listed = patterns.slice(0, LISTED_PATTERNS).map((p) => goQuote(p, LISTED_PATTERN_CHARS));
  const more = patterns.length - listed.length;
  return `a target must match ${patterns.length === 1 ? "its pattern" : "one of its patterns"} ${
    listed.join(", ")
  }${more > 0 ? ` and ${more} more` : ""}`;
}

/**
 * The first value of a header sent more than once, as Go's `Header.Get`
 * takes it: Deno joins the lines with ", ". A line's own comma ("3,5")
 * stays: to Go that is one value, not a number.
 */
function firstValue(header: string | null): string | null {
  if (header === null) return null;
  const joint = header.indexOf(", ");
  return joint === -1 ? header : header.slice(0, joint).trim();
}

/**
 * The seconds a probe may take: the scrape's timeout (Prometheus'
 * `X-Prometheus-Scrape-Timeout-Seconds`, 120 without) minus `offset`, or the
 * module's timeout when shorter, exactly as blackbox_exporter's
 * `getTimeout`, at most {@linkcode MAX_PROBE_TIMEOUT_S}.
 *
 * @param header The header's value, if sent.
 * @param moduleTimeoutMs The module's timeout, if any.
 * @param offset Seconds kept for answering.
 * @returns Seconds.
 * @throws {SyntaxError} When the header is not a number as Go's
 * `strconv.ParseFloat` reads one (`1_000` and `0x1p2` are), or is NaN.
 * @throws {RangeError} When it is out of a float64's range (`1e400`).
 */
export function probeTimeoutSeconds(
  header: string | null,
  moduleTimeoutMs: number | undefined,
  offset: number,
): number {
  let timeout = 0;
  if (header !== null && header !== "") {
    // As blackbox reads it (±Inf then gives the module's timeout).
    timeout = goParseFloat(header);
    if (Number.isNaN(timeout)) {
      throw new SyntaxError(
        `${
          goQuote(header)
        } is not a number of seconds (blackbox_exporter takes it as NaN and fails the probe at once)`,
      );
    }
  }
  if (timeout === 0) timeout = DEFAULT_SCRAPE_TIMEOUT_S;
  const max = timeout - offset;
  const module = (moduleTimeoutMs ?? 0) / 1000;
  return Math.min((module < max && module > 0) || max < 0 ? module : max, MAX_PROBE_TIMEOUT_S);
}

// blackbox's http prober takes "host:port/path" without a scheme as http.
function probeTarget(module: ExporterModule, target: string): string {
  if (
    module.plugin === "http-probe" && module.targetParam === "url" &&
    !/^[a-z][a-z0-9+.-]*:\/\//i.test(target)
  ) {
    return `http://${target}`;
  }
  return target;
}

// A plugin's metric declarations, asked once (where the plugin runs).
// A plugin's metric declarations as asked of its process, and (once it
// answered) the answer itself.
interface Declarations {
  readonly asked: Promise<readonly MetricDeclaration[] | undefined>;
  answered: boolean;
  answer?: readonly MetricDeclaration[];
}
const declared = new WeakMap<Executor, Map<string, Declarations>>();
// Waited for until the probe's deadline at most: a plugin's process that
// hangs never answers, and the scrape must still be answered (its metrics
// then named from their suffixes). A failed answer is asked again next time.
// Once answered, the answer is taken as is: no timer raced per probe.
async function declarations(
  executor: Executor,
  plugin: string,
  deadline: number,
): Promise<readonly MetricDeclaration[] | undefined> {
  let byPlugin = declared.get(executor);
  if (!byPlugin) declared.set(executor, byPlugin = new Map());
  let found = byPlugin.get(plugin);
  if (!found) {
    const entry: Declarations = {
      answered: false,
      asked: executor.describe(plugin).then((d) => {
        entry.answer = d.client?.outcome?.metrics;
        entry.answered = true;
        return entry.answer;
      }, () => {
        if (byPlugin.get(plugin) === entry) byPlugin.delete(plugin);
        return undefined;
      }),
    };
    byPlugin.set(plugin, found = entry);
  }
  if (found.answered) return found.answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      found.asked,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(
          () => resolve(undefined),
          Math.max(0, deadline - Date.now()) + ANSWER_GRACE_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `prepare` with a signal that aborts with `reason` after `ms`, its timer cleared once settled. */
function boundedPrepare(
  prepare: (signal: AbortSignal) => Promise<PreparedClient>,
  ms: number,
  reason: DOMException,
): Promise<PreparedClient> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason), Math.max(0, ms));
  return prepare(controller.signal).finally(() => clearTimeout(timer));
}

/** The outcome of a probe whose run did not end within its timeout and grace. */
function lateOutcome(): Outcome {
  return {
    ok: false,
    metrics: {},
    facts: {},
    error: { name: "TimeoutError", message: "The probe did not end within its timeout" },
  };
}

async function runProbe(
  client: () => Promise<PreparedClient>,
  deadline: number,
  limit: Semaphore,
  note: (level: LogLevel, message: string) => void,
  counters: Counters,
  scrape: AbortSignal,
): Promise<Outcome> {
  const controller = new AbortController();
  // One timer at a time: the deadline's, which aborts the probe and then
  // arms the grace after it (the answer's own end), so a probe sets one
  // timer, not two.
  let giveUp: ((outcome: Outcome) => void) | undefined;
  let timer = setTimeout(() => {
    controller.abort(new DOMException("The probe's timeout passed", "TimeoutError"));
    timer = setTimeout(() => giveUp?.(lateOutcome()), ANSWER_GRACE_MS);
  }, Math.max(0, deadline - Date.now()));
  // A scraper that hung up wants no answer: its probe stops, and leaves its
  // place in the queue, or scrapes abandoned by the thousand (each waiting up
  // to its timeout) would hold every slot while Prometheus' own wait behind.
  const hungUp = () =>
    controller.abort(new DOMException("The scraper closed the connection", "AbortError"));
  if (scrape.aborted) hungUp();
  else scrape.addEventListener("abort", hungUp, { once: true });
  let release: (() => void) | undefined;
  try {
    release = await limit.acquire(controller.signal);
    counters.inFlight++;
    // Params are validated where the plugin runs, with this scrape's target,
    // once per module and target (kept for the next scrapes).
    const run = (async () =>
      await (await client()).run({ signal: controller.signal, deadline, log: note }))();
    // The answer must reach Prometheus before its own timeout even when the
    // plugin's process is slow to end: stop waiting shortly after the deadline.
    const late = new Promise<Outcome>((resolve) =>
      giveUp = resolve
    );
    try {
      return await Promise.race([run, late]);
    } finally {
      // A run still going ends on the abort; its result is not wanted.
      run.catch(() => {});
    }
  } finally {
    clearTimeout(timer);
    scrape.removeEventListener("abort", hungUp);
    if (release) {
      counters.inFlight--;
      release();
    }
    if (!controller.signal.aborted) controller.abort(PROBE_OVER);
  }
}

function stepOf(module: ExporterModule): FixtureStep {
  const location = { ...module.location, path: `modules.${module.name}` };
  return {
    index: 0,
    name: module.name,
    plugin: module.plugin,
    with: module.with,
    retries: 0,
    retryDelay: 0,
    expect: module.expect,
    path: ["modules", module.name],
    location,
  };
}

async function loadConfig(options: ExporterOptions): Promise<ExporterConfig> {
  let text: string;
  try {
    // Regular files only, bounded: a FIFO or /dev/zero is refused unopened.
    text = await readInputTextFile(options.configFile, 2 ** 20);
  } catch (error) {
    // "Cannot read file "x": it does not exist" → "it does not exist": the
    // config error names the file.
    const why = (error as Error).message.replace(/^Cannot read file "[^"]*": /, "");
    throw new ExporterConfigError(options.configFile, [why], {
      cause: error,
    });
  }
  const read = readExporterConfig(text, options.configFile);
  const config = read.config;
  const problems = read.problems.map((e) => ({
    line: e.line,
    column: e.column,
    text: `${e.file}:${e.line}:${e.column}: ${e.detail}`,
  }));
  const push = (text: string) => {
    const [, line, column] = /:(\d+):(\d+): /.exec(text) ?? [];
    problems.push({ line: Number(line ?? 0), column: Number(column ?? 0), text });
  };
  // Modules with problems of their own are checked too: every problem at once.
  for (const module of [...config.modules.values(), ...read.incomplete]) {
    const at = (path: (string | number)[], key = false) => {
      const l = config.source.locate(["modules", module.name, ...path], { key });
      return `${l.file}:${l.line}:${l.column}`;
    };
    try {
      // The target comes with each scrape: check everything else now.
      const sample = module.targetParam === "url" ? "http://127.0.0.1/" : "127.0.0.1:1";
      const prepared = boundedPrepare(
        (signal) =>
          options.executor.prepare(module.plugin, "client", {
            ...module.with,
            [module.targetParam]: sample,
          }, { signal }),
        CHECK_MS,
        new DOMException("The params check's time passed", "TimeoutError"),
      );
      // A plugin's process that hangs must not hold the start or a reload.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const client = await Promise.race([
        prepared,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `Plugin "${module.plugin}" did not check the module's params within ${CHECK_MS} ms`,
                ),
              ),
            CHECK_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      await client.close();
    } catch (error) {
      if (error instanceof ParamsError) {
        const unknownTarget = error.issues.find((issue) =>
          issue.path.length === 1 && issue.path[0] === module.targetParam &&
          issue.code === "unknown_param"
        );
        // A required param left empty: the one the target was meant for.
        const missing = error.issues.filter((issue) =>
          issue.path.length === 1 && issue.code === "missing_param"
        );
        for (const issue of error.issues) {
          // A param the plugin does not have cannot take the target: every
          // scrape would answer 400 with no word of which param.
          if (issue === unknownTarget) {
            const suggestion = issue.suggestion ??
              (missing.length === 1 ? String(missing[0].path[0]) : undefined);
            // At its `target:`, or the module when the default param was taken.
            push(
              `${
                at(["target"])
              }: "modules.${module.name}" puts the scrape's target in param "${module.targetParam}", which plugin "${module.plugin}" does not have${
                suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`
              }: name one of its params with "target:"`,
            );
            continue;
          }
          // Which param the target fills is the problem above: the param it
          // was meant for is not missing twice over.
          if (unknownTarget && missing.includes(issue)) continue;
          if (issue.path[0] === module.targetParam) continue;
          // Worded and located as a fixture's: an unknown param at its key.
          push(
            `${
              at(["with", ...issue.path], issue.code === "unknown_param")
            }: "modules.${module.name}.with${
              issue.path.map((p) => typeof p === "number" ? `[${p}]` : `.${p}`).join("")
            }" ${paramsIssueDetail(module.plugin, issue)}`,
          );
        }
      } else {
        push(`${at(["plugin"])}: "modules.${module.name}.plugin" ${lowerFirst(error)}`);
        continue;
      }
    }
    // `metrics.stauts: 200` could never hold: refused like a fixture's.
    if (module.expect.length === 0) continue;
    const declared = await options.executor.describe(module.plugin).then(
      (d) => d.client?.outcome,
      () => undefined,
    );
    if (declared === undefined) continue;
    for (const e of undeclaredExpectations(module.expect, module.plugin, declared)) {
      push(`${e.file}:${e.line}:${e.column}: ${e.detail}`);
    }
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line - b.line) || (a.column - b.column));
    throw new ExporterConfigError(options.configFile, problems.map((p) => p.text));
  }
  return config;
}

function lowerFirst(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `cannot be used: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

function describe(error: unknown): Outcome["error"] {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
}

function metricsResponse(request: Request, families: readonly MetricFamily[]): Response {
  const open = wantsOpenMetrics(request.headers.get("accept"));
  return new Response(renderMetrics(families, open), {
    headers: { "content-type": open ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE },
  });
}

function debugText(
  module: ExporterModule,
  lines: readonly string[],
  families: readonly MetricFamily[],
  outcome: Outcome,
): string {
  return `Logs for the probe:\n${lines.join("\n")}\n\n\n` +
    `Metrics that would have been returned:\n${renderMetrics(families)}\n\n\n` +
    `Outcome:\n${stringifyRounded(outcome, 2)}\n\n\n` +
    `Module configuration:\n${
      stringify({
        plugin: module.plugin,
        target: module.targetParam,
        with: module.with,
        ...(module.timeoutMs === undefined ? {} : { timeout: `${module.timeoutMs}ms` }),
        ...(module.targets ? { targets: module.targets.map((r) => r.source) } : {}),
        ...(module.expect.length
          ? { expect: Object.fromEntries(module.expect.map((e) => [e.key, e.source])) }
          : {}),
      })
    }`;
}

function ownMetrics(counters: Counters, preparedClients: number): MetricFamily[] {
  return [
    {
      name: "wiretest_exporter_probes_total",
      help: "Probes run, by module and result",
      type: "counter",
      samples: [...counters.probes].map(([key, value]) => {
        const [module, result] = key.split("\u0000");
        return { labels: { module, result }, value };
      }),
    },
    {
      name: "wiretest_exporter_probe_duration_seconds_total",
      help: "Seconds spent probing, by module",
      type: "counter",
      samples: [...counters.probeSeconds].map(([module, value]) => ({ labels: { module }, value })),
    },
    {
      name: "wiretest_exporter_bad_requests_total",
      help: "Probe requests refused with 400, by reason",
      type: "counter",
      samples: [...counters.badRequests].map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: "wiretest_exporter_probes_in_flight",
      help: "Probes running now",
      type: "gauge",
      samples: [{ value: counters.inFlight }],
    },
    {
      name: "wiretest_exporter_prepared_clients",
      help:
        "Module and target pairs whose prepared client is kept for the next scrape (at most 1024)",
      type: "gauge",
      samples: [{ value: preparedClients }],
    },
    {
      name: "wiretest_exporter_config_last_reload_successful",
      help: "Whether the last config reload succeeded",
      type: "gauge",
      samples: [{ value: counters.reloadOk ? 1 : 0 }],
    },
    {
      name: "wiretest_exporter_config_last_reload_success_timestamp_seconds",
      help: "When the config was last loaded successfully",
      type: "gauge",
      samples: [{ value: counters.reloadAt }],
    },
  ];
}

/** At most `size` holders at once; waiters give up when their signal aborts. */
class Semaphore {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Cannot limit probes: "${size}" is not a positive integer`);
    }
    this.#free = size;
  }
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal.removeEventListener("abort", quit);
          resolve();
        };
        const quit = () => {
          this.#waiting = this.#waiting.filter((w) => w !== go);
          reject(signal.reason);
        };
        this.#waiting.push(go);
        signal.addEventListener("abort", quit, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
