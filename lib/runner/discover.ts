/**
 * Finding fixture files: directories searched for `*.wire.yaml`,
 * `*.wire.yml` and `*.wire.json`, files taken as named, globs expanded.
 *
 * @module
 */
import { InputFileError, inputFileProblem, quotePath } from "../_internal/input_file_error.ts";
import { glob } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, resolve } from "node:path";
import { isFixturePath } from "../fixture/load_fixture.ts";

/** Where `wiretest test` looks when given no path: this directory if it exists, else `.`. */
export const DEFAULT_FIXTURE_DIR = "tests/fixtures";

const FIXTURE_GLOB = "**/*.wire.{yaml,yml,json}";
const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Finds the fixture files that paths name, in a sorted, deterministic order
 * (the order sharding splits).
 *
 * - A directory is searched at any depth for `*.wire.yaml`, `*.wire.yml`
 *   and `*.wire.json`, skipping `node_modules` and entries whose names start
 *   with a dot.
 * - A file is taken as it is, whatever its name.
 * - A glob (`"tests/**"`, `"examples/fixtures/echo_*"`, quoted so the shell
 *   leaves it alone) selects among fixture files, with the same rules.
 * - No paths: `tests/fixtures` when it is a directory, else `.`.
 *
 * Paths inside the working directory come back relative to it; others
 * absolute. Each file appears once.
 *
 * @param paths Directories, files or globs.
 * @returns The fixture files, sorted.
 * @throws {Deno.errors.NotFound} When a path that is not a glob does not exist.
 *
 * @example Finding the fixtures of a directory
 * ```ts
 * import { discoverFixtures } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(join(dir, "udp"));
 * await Deno.mkdir(join(dir, "node_modules"));
 * for (const file of ["b.wire.yaml", "udp/a.wire.json", "notes.yaml", "node_modules/x.wire.yaml"]) {
 *   await Deno.writeTextFile(join(dir, file), "");
 * }
 * const found = await discoverFixtures([dir]);
 * assert.deepEqual(found, [join(dir, "b.wire.yaml"), join(dir, "udp/a.wire.json")]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function discoverFixtures(paths: readonly string[] = []): Promise<string[]> {
  const cwd = Deno.cwd();
  const targets = paths.length > 0
    ? paths
    : [await isDirectory(DEFAULT_FIXTURE_DIR) ? DEFAULT_FIXTURE_DIR : "."];
  const found = new Set<string>();
  for (const target of targets) {
    const stat = await statOrUndefined(target);
    if (stat?.isDirectory) {
      for (const file of await expand(FIXTURE_GLOB, target)) {
        found.add(display(cwd, join(target, file)));
      }
    } else if (stat) {
      found.add(display(cwd, target));
    } else if (GLOB_CHARS.test(target)) {
      for (const file of await expand(target, cwd)) {
        if (isFixturePath(file)) found.add(display(cwd, file));
      }
    } else {
      throw new Deno.errors.NotFound(`Cannot find fixtures: "${target}" does not exist`);
    }
  }
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function expand(pattern: string, cwd: string): Promise<string[]> {
  const files: string[] = [];
  // Node's glob leaves dot entries out unless the pattern names them.
  for await (
    const entry of glob(pattern, {
      cwd,
      exclude: (name: string) => name === "node_modules" || name.endsWith("/node_modules"),
    })
  ) {
    if ((await statOrUndefined(isAbsolute(entry) ? entry : join(cwd, entry)))?.isFile) {
      files.push(entry);
    }
  }
  return files;
}

function display(cwd: string, path: string): string {
  const absolute = resolve(cwd, path);
  const inside = relative(cwd, absolute);
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside)
    ? normalize(inside)
    : absolute;
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    // A path no file can have (a NUL, too long, a loop): one line that says so.
    const problem = inputFileProblem(path, error);
    if (problem === undefined) throw error;
    throw new InputFileError(path, problem.code, {
      subject: `Cannot look for fixtures at ${quotePath(path)}`,
      ...(problem.detail === undefined ? {} : { detail: problem.detail }),
      cause: error,
    });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await statOrUndefined(path))?.isDirectory ?? false;
}
