/**
 * Everything checked before a fixture runs: the file, its plugins and
 * manifests, and the params that need no run-time value.
 *
 * @module
 */
import { basename } from "node:path";
import { checkPlugins } from "../fixture/check_plugins.ts";
import { undeclaredExpectations } from "../fixture/undeclared_expectations.ts";
import { FixtureError, FixtureErrors } from "../fixture/fixture_error.ts";
import { locateParamsIssues } from "../fixture/locate_params_issues.ts";
import { readFixture } from "../fixture/read_fixture.ts";
import type { Fixture, PathSegment } from "../fixture/types.ts";
import {
  DEFAULT_MANIFEST_TIMEOUT_MS,
  loadManifest,
  type LoadManifestOptions,
  type Manifest,
} from "../plugin/manifest.ts";
import { canonicalManifest, untrustedReason } from "./_manifest_trust.ts";
import { lockRefusal, type PluginsLock } from "./plugins_lock.ts";
import { ParamsError, type ParamsIssue } from "../plugin/params_schema.ts";
import type { Registry } from "../plugin/registry.ts";
import type { LocatedMessage } from "./events.ts";
import type {
  Executor,
  ExecutorFactory,
  PreparedClient,
  PreparedServer,
} from "../executor/executor.ts";
import { inProcessExecutor } from "../executor/in_process_executor.ts";
import { problemsOf, toProblem } from "./_problems.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import type { OutcomeDeclaration } from "../plugin/outcome_declaration_types.ts";
import { isRecord } from "../_internal/is_record.ts";

/**
 * Environment variables the runner provides to every fixture, without
 * `env:` or `--allow-env`:
 *
 * - `WIRETEST_TMP`: a directory made for the fixture on first use and
 *   removed when it ends (a file-send receiver's `dir`, say);
 * - `WIRETEST_FIXTURE_DIR`: the absolute directory of the fixture file, for
 *   data files next to it.
 *
 * They take precedence over variables of the same name in the environment.
 */
export const RUNNER_ENV: readonly string[] = Object.freeze([
  "WIRETEST_TMP",
  "WIRETEST_FIXTURE_DIR",
]);

/** Options for {@linkcode prepareFixture}. */
export interface PrepareFixtureOptions {
  /**
   * The plugins every fixture may use; a fixture's `plugins:` manifests add
   * to them. Default: `builtinRegistry()`.
   */
  registry?: Registry;
  /** Creates the executor for a fixture's registry. Default: {@linkcode inProcessExecutor}. */
  executor?: ExecutorFactory;
  /** Environment variables `${env.NAME}` may read from the process's environment. */
  allowEnv?: readonly string[];
  /** The largest fixture file read, in bytes (default 1 MiB). */
  maxFixtureBytes?: number;
  /**
   * Limits for reading a fixture's `plugins:` manifests: time and size,
   * plain `http:`, cancellation (see `loadManifest`). A fixture's own
   * `timeout`, else {@linkcode PrepareFixtureOptions.timeout}, shortens the time.
   */
  manifests?: LoadManifestOptions;
  /** The run's limit for a fixture without a `timeout`; it also bounds fetching its manifests. */
  timeout?: number;
  /**
   * Manifests (paths relative to the working directory, or URLs) any
   * fixture may name in `plugins:`. Without them a fixture may only name
   * manifest files in its own folder tree (symbolic links resolved).
   */
  trust?: readonly (string | URL)[];
  /** When given, a manifest whose digest it does not list is refused, wherever it is. */
  lock?: PluginsLock;
}

/** A fixture that can run, with the executor for its plugins. */
export interface ReadyFixture {
  /** It can run. */
  readonly status: "ready";
  /** The file, as given. */
  readonly file: string;
  /** The fixture's `name:`. */
  readonly name: string;
  /** The fixture. */
  readonly fixture: Fixture;
  /** Runs its plugins. */
  readonly executor: Executor;
  /**
   * The roles whose `with:` holds no `${…}`, prepared (params validated)
   * once here; the others are prepared when their variables are resolved.
   */
  readonly roles: PreparedRoles;
  /** The manifests its `plugins:` added, with the permissions they grant. */
  readonly manifests: readonly Manifest[];
}

/** The roles of a fixture prepared before it runs. */
export interface PreparedRoles {
  /** Services by name. */
  readonly services: ReadonlyMap<string, PreparedServer>;
  /** Steps by index. */
  readonly steps: ReadonlyMap<number, PreparedClient>;
  /**
   * The unit each step plugin's client declares for its metrics, by plugin
   * then metric (`{ connect_ms: "ms" }`), for reporters that convert units.
   */
  readonly metricUnits?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** A fixture that cannot run, and every reason, located. */
export interface InvalidFixture {
  /** It cannot run. */
  readonly status: "invalid";
  /** The file, as given. */
  readonly file: string;
  /** Its `name:` when one can be read, else the file's base name. */
  readonly name: string;
  /** Each problem, with file, line, column and field. */
  readonly problems: readonly LocatedMessage[];
}

/** What {@linkcode prepareFixture} found. */
export type PreparedFixture = ReadyFixture | InvalidFixture;

/**
 * Reads a fixture and checks what can be checked before anything runs:
 *
 * - the file itself (as `loadFixture` reads it: a regular file, at most
 *   `maxFixtureBytes`; YAML, shape, expectations, variables);
 * - its `plugins:` manifests;
 * - that every plugin exists and has the role used (`checkPlugins`);
 * - every `with:` against its plugin's params schema. A param holding a
 *   `${…}` variable is checked when the variable is resolved, at run time.
 *
 * Problems never throw: they come back located, so one bad file does not
 * stop a run. They come in one pass: when the file itself has problems, the
 * params of its readable services and steps are still checked, so a
 * wrong-typed param shows with a misspelt field rather than after it is fixed
 * (invalid YAML stops at the syntax errors).
 *
 * @param file The fixture file.
 * @param options The base registry, the executor, allowed environment variables.
 * @returns The ready fixture, or its problems.
 *
 * @example A misspelt plugin is located
 * ```ts
 * import { prepareFixture } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const file = join(dir, "typo.wire.yaml");
 * await Deno.writeTextFile(file, "name: typo\nsteps:\n  - plugin: ecoh\n    with: { target: 127.0.0.1:7 }\n");
 * const prepared = await prepareFixture(file);
 * assert.equal(prepared.status, "invalid");
 * if (prepared.status === "invalid") {
 *   assert.equal(prepared.name, "typo");
 *   const [problem] = prepared.problems;
 *   assert.deepEqual([problem.line, problem.column, problem.path], [3, 13, "steps[0].plugin"]);
 *   assert.match(problem.message, /did you mean "echo"\?/);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function prepareFixture(
  file: string,
  options: PrepareFixtureOptions = {},
): Promise<PreparedFixture> {
  const read = await readFixture(file, {
    maxBytes: options.maxFixtureBytes,
    allowEnv: [...(options.allowEnv ?? []), ...RUNNER_ENV],
  });
  // Unread (missing, a FIFO, a device, too large): the file name will do.
  if (read.status === "unread") return invalid(file, basename(file), problemsOf(read.error, file));
  if (read.status === "unparsed") {
    const { name, error, partial } = read;
    // Params of the readable services and steps are checked too, so every
    // problem of the file shows in one pass, not one kind per attempt.
    if (!(error instanceof FixtureErrors) || !partial) {
      return invalid(file, name, problemsOf(error, file));
    }
    const { problems } = await checkEntries(partial, options);
    return invalid(
      file,
      name,
      new FixtureErrors([...error.errors, ...problems]).errors.map(toProblem),
    );
  }
  const { fixture } = read;
  const { problems, executor, manifests, roles } = await checkEntries(fixture, options);
  if (problems.length > 0 || !executor) {
    return invalid(file, fixture.name, new FixtureErrors(problems).errors.map(toProblem));
  }
  return { status: "ready", file, name: fixture.name, fixture, executor, roles, manifests };
}

/**
 * Checks a fixture's manifests, plugin names and params; the executor is
 * there when the plugins could be loaded. Roles without `${…}` come back
 * prepared, so their params are validated here and nowhere else.
 */
async function checkEntries(
  fixture: Fixture,
  options: PrepareFixtureOptions,
): Promise<{
  problems: FixtureError[];
  executor?: Executor;
  manifests: Manifest[];
  roles: PreparedRoles;
}> {
  const roles = {
    services: new Map<string, PreparedServer>(),
    steps: new Map<number, PreparedClient>(),
  };
  const problems: FixtureError[] = [];
  const manifests: Manifest[] = [];
  const trusted = fixture.plugins.length === 0
    ? new Set<string>()
    : new Set(await Promise.all((options.trust ?? []).map(canonicalManifest)));
  const fixtureLimit = fixture.timeout ?? options.timeout;
  const timeout = Math.min(
    options.manifests?.timeout ?? DEFAULT_MANIFEST_TIMEOUT_MS,
    fixtureLimit ?? Infinity,
  );
  for (const [index, spec] of fixture.plugins.entries()) {
    try {
      const refused = await untrustedReason(spec, fixture.file, trusted);
      if (refused !== undefined) throw new TypeError(refused);
      const manifest = await loadManifest(spec, { ...options.manifests, timeout });
      const unapproved = options.lock ? lockRefusal(options.lock, manifest) : undefined;
      if (unapproved !== undefined) throw new TypeError(unapproved);
      manifests.push(manifest);
    } catch (error) {
      const at = fixture.source.locate(["plugins", index]);
      problems.push(
        new FixtureError(at, `"${at.path}" cannot be used: ${message(error)}`, { cause: error }),
      );
    }
  }
  let registry = options.registry ?? builtinRegistry();
  if (problems.length === 0 && manifests.length > 0) {
    try {
      registry = await registry.withManifests(...manifests);
    } catch (error) {
      const at = fixture.source.locate(["plugins"]);
      problems.push(
        new FixtureError(at, `"plugins" cannot be used: ${message(error)}`, { cause: error }),
      );
    }
  }
  if (problems.length > 0) return { problems, manifests, roles };
  problems.push(...checkPlugins(fixture, registry.list()));
  const executor = (options.executor ?? inProcessExecutor)(registry, fixture.file);
  const unusable = new Set(problems.map((p) => p.path));
  const entries = [
    ...fixture.services.map((s) => ({ entry: s, role: "server" as const, target: s.name })),
    ...fixture.steps.map((s) => ({ entry: s, role: "client" as const, target: s.index })),
  ];
  // All at once: checks of isolated plugins then reach their process in one message.
  const failures = await Promise.all(entries.map(async ({ entry, role, target }) => {
    const at = fixture.source.locate([...entry.path, "plugin"]);
    if (unusable.has(at.path)) return undefined;
    try {
      const prepared = await executor.prepare(entry.plugin, role, entry.with);
      // A `${…}` value is not known yet: this was a check of the rest, and
      // the role is prepared again once its variables are resolved.
      if (hasTemplate(entry.with)) await prepared.close();
      else if (prepared.role === "server") roles.services.set(target as string, prepared);
      else roles.steps.set(target as number, prepared);
      return undefined;
    } catch (error) {
      return { at, error };
    }
  }));
  for (const [index, { entry, target }] of entries.entries()) {
    const failure = failures[index];
    if (failure === undefined) continue;
    const { at, error } = failure;
    if (error instanceof ParamsError) {
      const issues = error.issues.filter((issue) => !dependsOnVariable(entry.with, issue));
      if (issues.length > 0) {
        const kept = new ParamsError(error.message, { issues, cause: error });
        problems.push(...locateParamsIssues(fixture, target, kept));
      }
    } else {
      problems.push(
        new FixtureError(
          at,
          `"${at.path}" names plugin "${entry.plugin}", which cannot be used: ${message(error)}`,
          { cause: error },
        ),
      );
    }
  }
  // A plugin that failed to load cannot describe itself; one whose params
  // were wrong loaded fine.
  const broken = new Set(
    entries.filter((_, i) =>
      failures[i] !== undefined && !(failures[i]?.error instanceof ParamsError)
    )
      .map(({ entry }) => entry.plugin),
  );
  const declared = await checkDeclaredKeys(fixture, registry, executor, broken);
  problems.push(...declared.errors);
  return { problems, executor, manifests, roles: { ...roles, metricUnits: declared.units } };
}

/**
 * Expectations on metrics and facts a plugin never reports (its outcome
 * declaration says what it reports): `metrics.erors: absent` would always
 * pass. Built-ins are wiretest's own code, read here; a third-party plugin
 * describes itself where it runs (its own process when isolated), and one
 * that declares nothing cannot be checked. The same declarations give the
 * units of the steps' metrics.
 */
async function checkDeclaredKeys(
  fixture: Fixture,
  registry: Registry,
  executor: Executor,
  broken: ReadonlySet<string>,
): Promise<{ errors: FixtureError[]; units: Map<string, Readonly<Record<string, string>>> }> {
  const builtins = builtinRegistry();
  type ClientFacts = { outcome?: OutcomeDeclaration; loadIgnores?: readonly string[] };
  const declarations = new Map<string, Promise<ClientFacts | undefined>>();
  const declarationOf = (plugin: string) => {
    let found = declarations.get(plugin);
    if (found === undefined) {
      const builtin = builtins.has(plugin) &&
        registry.get(plugin).module === builtins.get(plugin).module;
      found = builtin
        ? builtins.load(plugin).then((p) => p.client)
        : executor.describe(plugin).then((d) => d.client, () => undefined);
      declarations.set(plugin, found);
    }
    return found;
  };
  const errors: FixtureError[] = [];
  const units = new Map<string, Readonly<Record<string, string>>>();
  for (const step of fixture.steps) {
    if (!registry.has(step.plugin) || broken.has(step.plugin)) continue;
    if (step.load !== undefined) {
      // A param the plugin's load session does not use would be silently ignored.
      const ignores = (await declarationOf(step.plugin))?.loadIgnores ?? [];
      const given = isRecord(step.with) ? Object.keys(step.with) : [];
      for (const key of given.filter((k) => ignores.includes(k))) {
        errors.push(
          new FixtureError(
            fixture.source.locate([...step.path, "with", key], { key: true }),
            `"${
              [...step.path, "with", key].join(".").replace(/\.(\d+)\./, "[$1].")
            }" belongs to a single run of plugin "${step.plugin}" and would be ignored under load (size the load with its load: block)`,
          ),
        );
      }
      // Its expectations are on load metrics, checked when it was parsed.
      continue;
    }
    const outcome = (await declarationOf(step.plugin))?.outcome;
    if (outcome && !units.has(step.plugin)) {
      // Metric names come from the plugin: a map without a prototype.
      const byMetric: Record<string, string> = Object.create(null);
      for (const metric of outcome.metrics) byMetric[metric.name] = metric.unit;
      units.set(step.plugin, byMetric);
    }
    if (outcome && step.expect.length > 0) {
      errors.push(...undeclaredExpectations(step.expect, step.plugin, outcome));
    }
  }
  return { errors, units };
}

function invalid(file: string, name: string, problems: LocatedMessage[]): InvalidFixture {
  return { status: "invalid", file, name, problems };
}

/**
 * Whether a params issue may come from a `${…}` variable not yet resolved:
 * it is about a templated value, something inside it, or an object holding
 * one (a check across fields). Unknown keys are never about values.
 */
function dependsOnVariable(params: unknown, issue: ParamsIssue): boolean {
  if (issue.code === "unknown_param") return false;
  return templatedPaths(params, []).some((path) => {
    const n = Math.min(path.length, issue.path.length);
    for (let i = 0; i < n; i++) if (path[i] !== issue.path[i]) return false;
    return true;
  });
}

const VARIABLE = /(?:^|[^$])\$\{/;

/** Whether interpolation may change a value: any `${` (a variable, or `$${` for a literal). */
function hasTemplate(value: unknown): boolean {
  if (typeof value === "string") return value.includes("${");
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (isRecord(value)) return Object.values(value).some(hasTemplate);
  return false;
}

function templatedPaths(value: unknown, path: PathSegment[]): PathSegment[][] {
  if (typeof value === "string") return VARIABLE.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => templatedPaths(item, [...path, i]));
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([key, item]) => templatedPaths(item, [...path, key]));
  }
  return [];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
