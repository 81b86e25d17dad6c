// `wiretest load` takes its own flags (--vus, --duration, --threshold…) off
// before the plugin's are parsed; a misspelt one is refused with the closest
// flag, as every other command does, not only "(see --help)".
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const MAIN = join(fileURLToPath(new URL("../", import.meta.url)), "lib/cli/main.ts");
const CLI_TIMEOUT_MS = 60_000;

async function wiretest(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
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
