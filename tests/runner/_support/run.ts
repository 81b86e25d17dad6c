// Helpers for the runner's end-to-end tests: fixture files in a temporary
// directory, and a run that keeps every event.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { runFixtures, type RunFixturesOptions, type RunResult } from "../../../lib/runner/run.ts";
import type { RunEvent } from "../../../lib/runner/events.ts";

/** The manifest of the `test-kit` plugin. */
export const KIT_MANIFEST: string = fileURLToPath(new URL("./manifest.json", import.meta.url));

/** A temporary directory of fixture files, removed on dispose. */
export interface FixtureDir extends AsyncDisposable {
  dir: string;
  /** Path of one of its files. */
  path(name: string): string;
}

/** Writes `files` (name → text) into a new temporary directory. */
export async function fixtureDir(files: Record<string, string>): Promise<FixtureDir> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-runner-test-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text);
  }
  return {
    dir,
    path: (name) => join(dir, name),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs fixtures in-process and returns the result with every event. */
export async function runCollecting(
  options: RunFixturesOptions,
): Promise<RunResult & { events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const result = await runFixtures({
    isolation: false,
    // Fixtures live in temporary directories; the kit's manifest is elsewhere.
    trust: [KIT_MANIFEST],
    ...options,
    reporters: [{ onEvent: (event) => void events.push(event) }],
  });
  return { ...result, events };
}

/** The events of one type. */
export function ofType<T extends RunEvent["type"]>(
  events: readonly RunEvent[],
  type: T,
): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
