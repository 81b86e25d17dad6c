// `wiretest load --threshold` names only what a load run reports: a misspelt
// metric (`metrics.rtt_p99`) was accepted and failed after the whole run as
// "is missing"; it is refused before the run, exit 2, with a suggestion, and a
// threshold's mistake is not called a fixture's ("Cannot load fixture").
import assert from "node:assert/strict";
import { deno, MAIN, type Ran } from "./_support/deno_process.ts";
import { builtinRegistry } from "../plugins/manifest.ts";
import { inProcessExecutor } from "../lib/executor/in_process_executor.ts";
import { formatAddress } from "../lib/transport/address.ts";

/** The CLI as a subprocess, bounded in time (tests/_support/deno_process.ts). */
function wiretest(...args: string[]): Promise<Ran> {
  return deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
}

Deno.test("wiretest load refuses a threshold on what a load run never reports, before running, exit 2", async () => {
  await using server = await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {});
  const service = await server.serve();
  try {
    const target = formatAddress(service.address);
    const cases: [string, string][] = [
      [
        "metrics.rtt_p99: < 1000",
        `error: Cannot use --threshold "metrics.rtt_p99: < 1000": "metrics.rtt_p99" names metric "rtt_p99" (did you mean "metrics.rtt_p99_ms"?), which a load run never reports (see --help)`,
      ],
      // The name first, as a fixture's: with a duration, the unit check
      // used to answer instead, and no closest name was given.
      [
        "metrics.rtt_p99: < 1s",
        `error: Cannot use --threshold "metrics.rtt_p99: < 1s": "metrics.rtt_p99" names metric "rtt_p99" (did you mean "metrics.rtt_p99_ms"?), which a load run never reports (see --help)`,
      ],
      [
        "facts.modle: closed",
        `error: Cannot use --threshold "facts.modle: closed": "facts.modle" names fact "modle" (did you mean "facts.model"?), which a load run never reports (see --help)`,
      ],
      [
        "metrics.rtt_p99_ms: << 3",
        `error: Cannot use --threshold "metrics.rtt_p99_ms: << 3": "metrics.rtt_p99_ms" has a malformed comparison "<< 3": write "< 20", "<= 20ms", "> 0", ">= 1KiB", "== text" or "!= text"`,
      ],
    ];
    for (const [threshold, message] of cases) {
      const run = await wiretest(
        "load",
        "echo",
        target,
        "--vus",
        "1",
        "--iterations",
        "5",
        "--no-isolation",
        "--threshold",
        threshold,
      );
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.equal(run.stderr.trim(), message);
      assert.equal(run.stdout, "", "nothing ran");
    }
    // What a load run reports still holds, facts inside errors_by_type included.
    const ok = await wiretest(
      "load",
      "echo",
      target,
      "--vus",
      "1",
      "--iterations",
      "5",
      "--no-isolation",
      "--threshold",
      "metrics.rtt_p99_ms: < 10s",
      "--threshold",
      "metrics.iterations: 5",
      "--threshold",
      "facts.model: closed",
      "--threshold",
      "facts.errors_by_type.ECONNRESET: absent",
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^5 iterations, 0 errors/m);
  } finally {
    await service.close();
  }
});
