/**
 * Fixtures as `Deno.test`s: one test per fixture, one test step per fixture
 * step, so `deno test` stays the runner.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Registry } from "../plugin/registry.ts";
import { discoverFixtures } from "../runner/discover.ts";
import type { LocatedMessage } from "../runner/events.ts";
import type { ExecutorFactory } from "../executor/executor.ts";
import { parseFilter } from "../runner/filter.ts";
import { type PreparedFixture, prepareFixture } from "../runner/prepare_fixture.ts";
import { runFixture, type StepRun } from "../runner/run_fixture.ts";
import { inProcessExecutor } from "../executor/in_process_executor.ts";
import { isolatedExecutor } from "../executor/isolated_executor.ts";
import { confinedRegistry, runConfinement } from "../runner/confine.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

/** Options for {@linkcode testFixtures}. */
export interface TestFixturesOptions {
  /** The plugins fixtures may use. Default: `builtinRegistry()`. */
  registry?: Registry;
  /** Extra plugin manifests (paths relative to the working directory, or URLs). */
  plugins?: readonly (string | URL)[];
  /**
   * Manifests any fixture may name in `plugins:` besides those in its own
   * folder tree (`plugins` count as trusted too).
   */
  trust?: readonly (string | URL)[];
  /** Environment variables fixtures may read besides their own `env:`. */
  allowEnv?: readonly string[];
  /**
   * Run plugins in permission-restricted processes (default `false`: in the
   * test's process, where `deno test`'s own permissions apply).
   */
  isolation?: boolean;
  /**
   * Isolated: folders plugins may read and write besides the fixtures' temp
   * folder (see `RunFixturesOptions.allowFiles`: isolated plugins are
   * confined to their fixture's folder, the temp folder and these).
   */
  allowFiles?: readonly string[];
  /** Runs plugin roles; overrides `isolation`. */
  executor?: ExecutorFactory;
  /** Register only fixtures whose name contains this text or matches this `/regex/`. */
  filter?: string;
  /** Milliseconds each fixture may take when it has no `timeout:`. */
  timeout?: number;
  /** Milliseconds each step attempt may take when it has no `timeout:` (default 30000). */
  stepTimeout?: number;
  /** Permissions of each test (default: those of `deno test`). */
  permissions?: Deno.PermissionOptions;
  /** Registers a test. Default: `Deno.test`. */
  register?: (definition: Deno.TestDefinition) => void;
}

/**
 * Registers every fixture under `paths` as a `Deno.test` named after the
 * fixture, with one `t.step` per fixture step (named after the step).
 *
 * - A step whose expectations fail fails its test step with each failing
 *   expectation's message (`file:line:column: "key" is …, expected …`).
 * - An invalid fixture registers a test that fails with every problem,
 *   located.
 * - Services, timeouts and retries work as in `wiretest test`.
 *
 * Call it at the top level of a test module (with `await`): tests must be
 * registered before `deno test` starts running them.
 *
 * ```ts ignore
 * // tests/fixtures_test.ts, run by `deno test -A`
 * import { testFixtures } from "@wiretest/wiretest/testing";
 *
 * await testFixtures("tests/fixtures");
 * ```
 *
 * @param paths Directories, files or globs (see `discoverFixtures`), as
 * paths relative to the working directory or `file:` URLs.
 * @param options Plugins, environment, limits, and how tests are registered.
 * @returns When every test is registered.
 * @throws {Deno.errors.NotFound} When a path does not exist.
 *
 * @example Collecting the tests instead of registering them
 * ```ts
 * import { testFixtures } from "@wiretest/wiretest/testing";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dir, "echo.wire.yaml"), `name: echo answers
 * services:
 *   echo: { plugin: echo }
 * steps:
 *   - name: hello
 *     plugin: echo
 *     with: { target: "\${services.echo.addr}" }
 * `);
 * await Deno.writeTextFile(join(dir, "broken.wire.yaml"), "name: broken\nsteps: []\n");
 * const tests: Deno.TestDefinition[] = [];
 * await testFixtures(dir, { register: (test) => void tests.push(test) });
 * assert.deepEqual(tests.map((test) => test.name), ["broken", "echo answers"]);
 * // The invalid fixture's test fails with its located problem.
 * await assert.rejects(
 *   async () => await tests[0].fn({} as Deno.TestContext),
 *   /broken\.wire\.yaml:2:8": "steps" must list at least one step/,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function testFixtures(
  paths: string | URL | readonly (string | URL)[],
  options: TestFixturesOptions = {},
): Promise<void> {
  const list = typeof paths === "string" || paths instanceof URL ? [paths] : paths;
  const files = await discoverFixtures(
    list.map((path) => path instanceof URL ? fileURLToPath(path) : path),
  );
  let registry = options.registry ?? builtinRegistry();
  const cwd = pathToFileURL(`${Deno.cwd()}/`);
  if (options.plugins && options.plugins.length > 0) {
    registry = await registry.withManifests(...options.plugins.map((p) => new URL(p, cwd)));
  }
  const trust = [...(options.plugins ?? []), ...(options.trust ?? [])].map((p) => new URL(p, cwd));
  // Isolated: a process per role, as a pool would outlive the test that made it.
  // Isolated, every fixture's WIRETEST_TMP is made here, the one folder plugins may write.
  const tmpRoot = options.executor === undefined && options.isolation ? runTempFolder() : undefined;
  const confinement = runConfinement(tmpRoot ?? "", options.allowFiles ?? []);
  const executor = options.executor ??
    (tmpRoot === undefined
      ? inProcessExecutor
      : (r: Registry, file?: string) =>
        isolatedExecutor(file === undefined ? r : confinedRegistry(r, confinement(file))));
  const keep = options.filter === undefined ? () => true : parseFilter(options.filter);
  const register = options.register ?? Deno.test;
  for (const file of files) {
    const prepared = await prepareFixture(file, {
      registry,
      executor,
      allowEnv: options.allowEnv ?? [],
      trust,
    });
    if (!keep(prepared.name)) continue;
    register({
      name: prepared.name,
      ...(options.permissions ? { permissions: options.permissions } : {}),
      fn: (t) => runAsTest(prepared, t, options, tmpRoot),
    });
  }
}

/** A temp folder for the registered tests, removed when the process ends. */
function runTempFolder(): string {
  const path = Deno.makeTempDirSync({ prefix: "wiretest-run-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Removed already.
    }
  });
  return path;
}

async function runAsTest(
  prepared: PreparedFixture,
  t: Deno.TestContext,
  options: TestFixturesOptions,
  tmpRoot: string | undefined,
): Promise<void> {
  if (prepared.status === "invalid") throw failure(prepared.name, prepared.problems);
  const end = await runFixture(prepared, {
    allowEnv: options.allowEnv ?? [],
    ...(tmpRoot === undefined ? {} : { tmpRoot }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.stepTimeout === undefined ? {} : { stepTimeout: options.stepTimeout }),
    onStep: async (step, run) => {
      let result: StepRun | undefined;
      let thrown: unknown;
      await t.step(step.name ?? `${step.plugin} #${step.index}`, async () => {
        try {
          result = await run();
        } catch (error) {
          thrown = error;
          throw error;
        }
        if (result.status !== "passed") throw stepFailure(result);
      });
      if (result === undefined) throw thrown;
      return result;
    },
  });
  // Failed steps already fail the test; what is left are the fixture's own problems.
  if (end.problems.length > 0) throw failure(prepared.name, end.problems);
}

function stepFailure(result: StepRun): AssertionError {
  const last = result.attempts.at(-1);
  const lines = result.status === "invalid"
    ? result.problems.map((p) => p.message)
    : last?.error
    ? [last.error.message]
    : (last?.expectations ?? []).filter((e) => !e.pass).map((e) => e.message);
  const attempts = result.attempts.length > 1 ? ` after ${result.attempts.length} attempts` : "";
  const what = result.status === "failed"
    ? "failed"
    : result.status === "error"
    ? "could not run"
    : "is invalid";
  const step = result.step.name ?? `${result.step.plugin} #${result.step.index}`;
  return assertionError([`Step "${step}" ${what}${attempts}:`, ...lines.map((l) => `  ${l}`)]);
}

function failure(name: string, problems: readonly LocatedMessage[]): AssertionError {
  const count = problems.length === 1 ? "has a problem" : `has ${problems.length} problems`;
  return assertionError([`Fixture "${name}" ${count}:`, ...problems.map((p) => `  ${p.message}`)]);
}

function assertionError(lines: string[]): AssertionError {
  return new AssertionError({ message: lines.join("\n") });
}
