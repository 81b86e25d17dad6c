// A tiny run of the runner benchmark (`bench/runner_fixtures.ts --quick`:
// 20 echo fixtures, one round of each side): it still generates, runs and
// checks the fixtures and writes a JSON result. No timing is asserted:
// benchmarks are not tests.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunnerBenchmarkResult } from "../bench/runner_fixtures.ts";
import { commandOutput } from "./_support/command.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("bench/runner_fixtures.ts --quick runs both sides and writes a sane JSON result", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-bench-runner-smoke-" });
  try {
    const out = join(dir, "runner.json");
    const run = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", "bench/runner_fixtures.ts", "--quick", "--out", out],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    const result: RunnerBenchmarkResult = JSON.parse(await Deno.readTextFile(out));
    assert.equal(result.row, "runner");
    assert.equal(result.mode, "quick");
    assert.equal(result.pairs, 1);
    assert.equal(result.report.params.fixtures, 20);
    assert.equal(result.report.params.steps, 30);
    assert.deepEqual(result.report.sides.map((s) => s.id), ["isolated", "in-process"]);
    for (const side of result.report.sides) {
      assert.equal(side.skipped, undefined, `${side.id} was skipped`);
      assert.equal(side.extra?.errors, undefined, `${side.id}: ${side.extra?.errors}`);
      for (const key of ["wall_s", "peak_rss_mib", "cpu_s"]) {
        const samples = side.metrics[key]?.samples;
        assert.equal(samples?.length, 1, `${side.id} ${key}`);
        assert.ok(Number.isFinite(samples[0]) && samples[0] > 0, `${side.id} ${key}: ${samples}`);
      }
    }
    const [wall] = result.report.comparisons;
    assert.equal(wall.metric, "wall_s");
    assert.equal(wall.ratios.length, 1);
    assert.ok(wall.ratios[0] > 0);
    assert.equal(wall.target?.text, "≤ 1.3×");
    assert.deepEqual(
      result.report.checks.map((c) => c.label),
      [
        "isolated: wall, median",
        "isolated: peak RSS, highest",
        "in-process: wall, median",
        "in-process: peak RSS, highest",
      ],
    );
    assert.match(await new Response(run.stdout).text(), /isolated \/ --no-isolation, wall/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
