// The CLI fed 3,000 seeded random argument lists (main() in a child
// process, in a temporary directory): every one exits 0, 1 or 2, prints at
// most one error line and no stack trace (without --debug), and none hangs:
// a command still running after 300 ms gets SIGINT and must stop.
import assert from "node:assert/strict";
import { record } from "./_support/process.ts";
import { fuzzSeed } from "./_support/random.ts";

const CASES = 3000;
const SEED = fuzzSeed(0x0c11_f022);
const CHILD = new URL("./_support/cli_fuzz_child.ts", import.meta.url).pathname;

Deno.test(`wiretest CLI exits 0, 1 or 2 with one error line for ${CASES} random argument lists (seed ${SEED})`, async () => {
  const cwd = await Deno.makeTempDir({ prefix: "wiretest-cli-fuzz-" });
  const scaffolds = await Deno.makeTempDir({ prefix: "wiretest-cli-fuzz-new-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", CHILD, String(SEED), String(CASES), scaffolds],
      cwd,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // The whole run is bounded too: a hang the child cannot catch ends here.
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    const { code, stdout, stderr } = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(stdout).trim();
    let current = "";
    try {
      current = await Deno.readTextFile(`${cwd}/current.json`);
    } catch {
      // Not started.
    }
    assert.equal(
      code,
      0,
      `the fuzz process died at ${current}: ${new TextDecoder().decode(stderr).slice(-2000)}`,
    );
    const summary = JSON.parse(text.split("\n").at(-1)!);
    record("fuzz: CLI arguments", summary);
    console.log(
      `cli fuzz: ${summary.cases} cases, exit codes ${JSON.stringify(summary.byCode)}, ` +
        `${summary.interrupted} interrupted, slowest ${summary.slowestMs} ms, ${summary.seconds} s`,
    );
    assert.deepEqual(summary.failures, []);
    assert.equal(
      Object.values(summary.byCode as Record<string, number>).reduce((a, b) => a + b),
      CASES,
    );
  } finally {
    await Deno.remove(cwd, { recursive: true });
    await Deno.remove(scaffolds, { recursive: true });
  }
});
