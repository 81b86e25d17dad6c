// Two fixture files whose fixtures share a name (and a step name): each
// file's results are series of their own, not one series written twice.
import assert from "node:assert/strict";
import type { RunEvent } from "../runner/events.ts";
import { renderMetrics } from "./exposition.ts";
import { FixtureMetrics } from "./fixture_metrics.ts";

Deno.test("FixtureMetrics keeps the steps of same-named fixtures of two files apart", () => {
  const metrics = new FixtureMetrics();
  const reporter = metrics.reporter();
  for (const [file, roundTrips] of [["a.wire.yaml", 1], ["b.wire.yaml", 2]] as const) {
    const fixture = { name: "same", file };
    reporter.onEvent({
      type: "step-result",
      fixture,
      step: { name: "s", plugin: "echo" },
      status: "passed",
      durationMs: 1000 * roundTrips,
      willRetry: false,
      outcome: { ok: true, metrics: { round_trips: roundTrips }, facts: {} },
    } as unknown as RunEvent);
    reporter.onEvent({
      type: "fixture-end",
      fixture,
      status: "passed",
      durationMs: 1,
    } as unknown as RunEvent);
  }
  reporter.onEvent({ type: "summary" } as unknown as RunEvent);
  const text = renderMetrics(metrics.families());
  const lines = text.split("\n").filter((l) => l.startsWith("wiretest_step_"));
  for (const file of ["a.wire.yaml", "b.wire.yaml"]) {
    const n = file === "a.wire.yaml" ? 1 : 2;
    assert.ok(
      lines.includes(
        `wiretest_step_success{fixture="same",step="s",file="${file}",plugin="echo"} 1`,
      ),
      text,
    );
    assert.ok(
      lines.includes(`wiretest_step_duration_seconds{fixture="same",step="s",file="${file}"} ${n}`),
      text,
    );
    assert.ok(
      lines.includes(`wiretest_step_echo_round_trips{fixture="same",step="s",file="${file}"} ${n}`),
      text,
    );
  }
});
