// `wiretest load` takes its own flags (--vus, --duration, --threshold…) off
// before the plugin's are parsed; a misspelt one is refused with the closest
// flag, as every other command does, not only "(see --help)".
import assert from "node:assert/strict";
import { deno, MAIN, type Ran } from "./_support/deno_process.ts";

/** The CLI as a subprocess, bounded in time (tests/_support/deno_process.ts). */
function wiretest(...args: string[]): Promise<Ran> {
  return deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
}

Deno.test("wiretest load suggests its own flag for a misspelt one, exit 2", async () => {
  for (
    const [typo, flag] of [["--vu", "--vus"], ["--duraton", "--duration"], [
      "--treshold",
      "--threshold",
    ]]
  ) {
    // Refused while parsing: nothing listens on port 9 and nothing connects.
    const run = await wiretest("load", "echo", "127.0.0.1:9", typo, "2", "--duration", "1s");
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr.trim(),
      `error: Cannot parse arguments: unknown flag "${typo}" (did you mean "${flag}"?)`,
    );
  }
  // A plugin's own flag is still suggested from the same command line.
  const plugin = await wiretest("load", "echo", "127.0.0.1:9", "--cout", "2");
  assert.equal(plugin.code, 2, plugin.stderr);
  assert.match(plugin.stderr, /unknown flag "--cout" \(did you mean "--count"\?\)/);
});
