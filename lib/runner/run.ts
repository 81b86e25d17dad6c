/**
 * Running many fixtures: discovery, shard, filter, a pool of concurrent
 * fixtures, fail-fast, events to reporters, a summary and an exit code.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import type { LogLevel } from "../plugin/types.ts";
import type { Registry } from "../plugin/registry.ts";
import { loadManifest, type LoadManifestOptions } from "../plugin/manifest.ts";
import { pluginGrants } from "./_plugin_grants.ts";
import { confinedRegistry, runConfinement } from "./confine.ts";
import { toSourceUrl } from "../_internal/manifest_source.ts";
import { lockRefusal, readPluginsLock } from "./plugins_lock.ts";
import { discoverFixtures } from "./discover.ts";
import type { FixtureEndEvent, Reporter, RunEvent, RunStartEvent, SummaryEvent } from "./events.ts";
import { parseFilter } from "./filter.ts";
import { type PreparedFixture, prepareFixture } from "./prepare_fixture.ts";
import { runFixture, type RunFixtureOptions } from "./run_fixture.ts";
import { selectShard, type Shard } from "./shard.ts";
import { isolatedExecutor } from "../executor/isolated_executor.ts";
import type { ExecutorFactory } from "../executor/executor.ts";
import { inProcessExecutor } from "../executor/in_process_executor.ts";
import { IsolationPool } from "../plugin/isolation.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** Options for {@linkcode runFixtures}. */
export interface RunFixturesOptions
  extends Pick<RunFixtureOptions, "allowEnv" | "env" | "timeout" | "stepTimeout"> {
  /** Receives the plugins' log lines, each prefixed with its fixture's name and `: `. */
  log?: (level: LogLevel, message: string) => void;
  /** Directories, files or globs (see `discoverFixtures`). Default: `tests/fixtures`, else `.`. */
  paths?: readonly string[];
  /** Receive every event, in order; each is closed after the run. */
  reporters?: readonly Reporter[];
  /** The plugins fixtures may use. Default: `builtinRegistry()`. */
  registry?: Registry;
  /** Extra plugin manifests (paths relative to the working directory, or URLs). */
  plugins?: readonly (string | URL)[];
  /**
   * Run plugins in processes limited to their manifest's permissions, when
   * the platform supports it (default `true`); `false` runs them in-process.
   */
  isolation?: boolean;
  /**
   * The memory ceiling of each isolated plugin's process, in MiB (default
   * 512, at least 64): one whose resident memory goes above it is killed and
   * its role fails with `PluginMemoryError`.
   */
  pluginMemoryMiB?: number;
  /**
   * Manifests (paths relative to the working directory, or URLs) whose
   * `ffi: ["libc"]` grants isolated plugins get, besides the built-in
   * manifest (`--trust-ffi`). FFI escapes every Deno permission; a plugin
   * of any other manifest that asks for it fails to load.
   */
  trustFfi?: readonly (string | URL)[];
  /**
   * Folders isolated plugins may read and write besides the run's temp
   * folder (`--allow-files`). Isolated, a fixture's plugins get their
   * manifest's file grants narrowed to: read its own folder, the run's temp
   * folder (where `WIRETEST_TMP` is made) and these; write the temp folder
   * and these; never a `.git` nor a symlink leading out of them.
   */
  allowFiles?: readonly string[];
  /** Runs plugin roles; overrides `isolation`. */
  executor?: ExecutorFactory;
  /** Fixtures run at once, each with its own services on their own ports (default 1). */
  concurrency?: number;
  /** After the first fixture that does not pass, skip the ones not started. */
  failFast?: boolean;
  /** Keep fixtures whose name contains this text, matches this `/regex/`, or passes this test. */
  filter?: string | ((name: string) => boolean);
  /** Run only this part of the fixtures (see `selectShard`). */
  shard?: Shard;
  /** Stops the run: running fixtures are cancelled, the others skipped. */
  signal?: AbortSignal;
  /** The command line that started the run, for `run-start` (reports show it). */
  command?: readonly string[];
  /**
   * The largest fixture file read, in bytes (default 1 MiB); a larger one
   * is an invalid fixture, and the run goes on.
   */
  maxFixtureBytes?: number;
  /**
   * Milliseconds fetching a manifest over HTTP may take, body included
   * (default 10 s; a fixture's own `timeout`, else `timeout`, shortens it
   * for its `plugins:`). Every manifest is read up to 1 MiB.
   */
  manifestTimeout?: number;
  /** Read manifests and plugin modules over plain `http:` beyond loopback (default `false`). */
  allowHttpPlugins?: boolean;
  /**
   * Manifests any fixture may name in `plugins:` besides those in its own
   * folder tree (the `plugins` manifests count as trusted too).
   */
  trust?: readonly (string | URL)[];
  /**
   * A plugins lock file (see `readPluginsLock`): when given, every manifest
   * the run loads, from `plugins` or a fixture, must have its digest there.
   */
  pluginsLock?: string;
}

/** What a run did. */
export interface RunResult {
  /** The counts. */
  readonly summary: SummaryEvent;
  /** How each fixture ended, in the order they ended. */
  readonly fixtures: readonly FixtureEndEvent[];
  /** 0 all passed, 1 some failed or erred, 2 some were invalid. */
  readonly exitCode: 0 | 1 | 2;
}

/**
 * Runs fixtures and reports them.
 *
 * Fixture files are found (`discoverFixtures`), sharded by sorted path,
 * prepared (everything checkable before running is checked, see
 * `prepareFixture`), filtered by name, then run, up to `concurrency` at a
 * time. Every event goes to every reporter in order; reporters are closed
 * at the end.
 *
 * @param options Paths, reporters, plugins, limits, concurrency, shard, filter.
 * @returns The summary, each fixture's end and the exit code.
 * @throws {Deno.errors.NotFound} When a path given does not exist.
 * @throws {ManifestError} When a manifest in `plugins` is invalid.
 * @throws {Deno.errors.TimedOut} When fetching a manifest in `plugins` takes too long.
 * @throws {TypeError} When `pluginsLock` does not approve a manifest in `plugins`.
 *
 * @example Running two fixtures at once
 * ```ts
 * import { runFixtures } from "@wiretest/wiretest/runner";
 * import type { RunEvent } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * for (const transport of ["tcp", "udp"]) {
 *   await Deno.writeTextFile(join(dir, `${transport}.wire.yaml`), `name: echo over ${transport}
 * services:
 *   echo: { plugin: echo, with: { transport: ${transport} } }
 * steps:
 *   - plugin: echo
 *     with: { target: "\${services.echo.addr}", transport: ${transport}, count: 3 }
 *     expect: { metrics.mismatches: 0 }
 * `);
 * }
 * const events: RunEvent[] = [];
 * const result = await runFixtures({
 *   paths: [dir],
 *   concurrency: 2,
 *   isolation: false,
 *   reporters: [{ onEvent: (e) => void events.push(e) }],
 * });
 * assert.equal(result.exitCode, 0);
 * assert.equal(result.summary.passed, 2);
 * assert.equal(events[0].type, "run-start");
 * assert.equal(events.at(-1)?.type, "summary");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runFixtures(options: RunFixturesOptions = {}): Promise<RunResult> {
  const started = performance.now();
  let files = await discoverFixtures(options.paths ?? []);
  if (options.shard) files = selectShard(files, options.shard);
  let registry = options.registry ?? builtinRegistry();
  const cwd = pathToFileURL(`${Deno.cwd()}/`);
  const manifestOptions: LoadManifestOptions = {
    ...(options.manifestTimeout === undefined ? {} : { timeout: options.manifestTimeout }),
    ...(options.allowHttpPlugins ? { allowHttp: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const lock = options.pluginsLock === undefined
    ? undefined
    : await readPluginsLock(options.pluginsLock);
  const runManifests = await Promise.all(
    (options.plugins ?? []).map((p) => loadManifest(new URL(p, cwd), manifestOptions)),
  );
  for (const manifest of runManifests) {
    const unapproved = lock ? lockRefusal(lock, manifest) : undefined;
    if (unapproved !== undefined) throw new TypeError(`Cannot run fixtures: ${unapproved}`);
  }
  if (runManifests.length > 0) registry = await registry.withManifests(...runManifests);
  const trust = [...(options.plugins ?? []), ...(options.trust ?? [])].map((p) => new URL(p, cwd));
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  // Plugin processes stay warm from fixture to fixture, and all end with the run.
  // Starting a process per role would cost more than the roles (a third of a
  // second of CPU and tens of MiB each): the roles running at once, about
  // two per fixture (a service and a step), share one process per spare core.
  const cores = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);
  // Every fixture's WIRETEST_TMP is made here: the one folder plugins may write.
  using tmp = runTempFolder();
  const allowFiles = options.allowFiles ?? [];
  await using pool = options.executor === undefined && options.isolation !== false
    ? new IsolationPool({
      rolesPerProcess: Math.ceil((2 * concurrency) / cores),
      memoryMiB: options.pluginMemoryMiB,
      trustFfi: (options.trustFfi ?? []).map((m) => toSourceUrl(m).href),
    })
    : undefined;
  const confinement = runConfinement(tmp.path, allowFiles);
  const executor = options.executor ??
    (pool === undefined ? inProcessExecutor : (r: Registry, file?: string) =>
      isolatedExecutor(
        file === undefined ? r : confinedRegistry(r, confinement(file)),
        { pool },
      ));
  const keep = typeof options.filter === "string"
    ? parseFilter(options.filter)
    : options.filter ?? (() => true);
  // Prepared as many at a time as run at a time: reading files and checking
  // params (a message to a process when isolated) overlap, and the order stays.
  const prepared = await inOrder(
    files,
    concurrency,
    (file) =>
      prepareFixture(file, {
        registry,
        executor,
        allowEnv: options.allowEnv ?? [],
        manifests: manifestOptions,
        trust,
        ...(lock ? { lock } : {}),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
        ...(options.maxFixtureBytes === undefined
          ? {}
          : { maxFixtureBytes: options.maxFixtureBytes }),
      }),
  );
  const fixtures = prepared.filter((p) => keep(p.name));

  const reporters = options.reporters ?? [];
  let delivering: Promise<void> = Promise.resolve();
  const emit = (event: RunEvent): Promise<void> => {
    delivering = delivering.then(async () => {
      for (const reporter of reporters) await reporter.onEvent(event);
    });
    return delivering;
  };
  const grants = pluginGrants(
    runManifests,
    fixtures.flatMap((p) => p.status === "ready" ? [p] : []),
  );
  const start: RunStartEvent = {
    type: "run-start",
    time: new Date().toISOString(),
    fixtures: fixtures.length,
    concurrency,
    ...(options.shard ? { shard: { index: options.shard.index, count: options.shard.count } } : {}),
    ...(grants.length > 0 ? { plugins: grants } : {}),
    wiretest: denoJson.version,
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
    },
    ...(options.command ? { command: [...options.command] } : {}),
  };
  const ends: FixtureEndEvent[] = [];
  try {
    await emit(start);
    let next = 0;
    let stopReason: string | undefined;
    const worker = async () => {
      while (next < fixtures.length) {
        const prepared = fixtures[next++];
        if (options.signal?.aborted) stopReason ??= "the run was stopped";
        let end: FixtureEndEvent;
        if (stopReason !== undefined) {
          end = skipped(prepared, stopReason);
          await emit(end);
        } else {
          end = await runFixture(prepared, {
            emit,
            allowEnv: options.allowEnv,
            env: options.env,
            timeout: options.timeout,
            stepTimeout: options.stepTimeout,
            signal: options.signal,
            tmpRoot: tmp.path,
            ...(options.log
              ? { log: (level, message) => options.log!(level, `${prepared.name}: ${message}`) }
              : {}),
          });
          if (options.failFast && end.status !== "passed") {
            stopReason ??= "an earlier fixture did not pass and fail-fast is on";
          }
        }
        ends.push(end);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, fixtures.length) }, worker));
    const count = (status: FixtureEndEvent["status"]) =>
      ends.filter((e) => e.status === status).length;
    const summary: SummaryEvent = {
      type: "summary",
      passed: count("passed"),
      failed: count("failed"),
      errors: count("error"),
      invalid: count("invalid"),
      skipped: count("skipped"),
      total: ends.length,
      durationMs: performance.now() - started,
    };
    await emit(summary);
    return { summary, fixtures: ends, exitCode: exitCodeOf(summary) };
  } finally {
    await delivering.catch(() => {});
    for (const reporter of reporters) await reporter.close?.();
  }
}

/**
 * The exit code of a run: 2 when a fixture was invalid, else 1 when one
 * failed or erred, else 0.
 *
 * @param summary The run's counts.
 * @returns The exit code.
 *
 * @example Invalid fixtures outrank failures
 * ```ts
 * import { exitCodeOf } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * const counts = { passed: 3, failed: 1, errors: 0, invalid: 0, skipped: 0 };
 * assert.equal(exitCodeOf(counts), 1);
 * assert.equal(exitCodeOf({ ...counts, invalid: 1 }), 2);
 * assert.equal(exitCodeOf({ ...counts, failed: 0 }), 0);
 * ```
 */
export function exitCodeOf(
  summary: Pick<SummaryEvent, "passed" | "failed" | "errors" | "invalid" | "skipped">,
): 0 | 1 | 2 {
  if (summary.invalid > 0) return 2;
  return summary.failed > 0 || summary.errors > 0 ? 1 : 0;
}

/** A temp folder removed when disposed. */
function runTempFolder(): Disposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "wiretest-run-" });
  return {
    path,
    [Symbol.dispose]() {
      try {
        Deno.removeSync(path, { recursive: true });
      } catch {
        // Removed already.
      }
    },
  };
}

/** `map(item)` for every item, `limit` at a time; the results in the items' order. */
async function inOrder<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

function skipped(prepared: PreparedFixture, reason: string): FixtureEndEvent {
  const file = prepared.file;
  return {
    type: "fixture-end",
    fixture: { file, name: prepared.name },
    status: "skipped",
    durationMs: 0,
    problems: [{ file, line: 1, column: 1, path: "", message: `${file}:1:1: skipped: ${reason}` }],
  };
}
