/**
 * Fixture runs as Prometheus metrics, for `wiretest test --every`: a
 * reporter that keeps, per fixture and step, how the last run ended and
 * every metric its steps observed, and counts runs.
 *
 * @module
 */
import type { Reporter, RunEvent } from "../runner/events.ts";
import type { MetricFamily, Sample } from "./exposition.ts";
import { outcomeMetrics } from "./probe_metrics.ts";
import type { MetricDeclaration } from "../plugin/outcome_declaration_types.ts";

/** The metrics of the runs seen so far; `reporter()` feeds one run into it. */
export class FixtureMetrics {
  #last = new Map<string, MetricFamily[]>();
  #runs = new Map<string, number>();
  #completedRuns = 0;
  #lastRunAt = 0;

  /**
   * A reporter for one run: its results replace the previous run's for the
   * fixtures it ran, when the run ends.
   *
   * @returns The reporter.
   */
  reporter(): Reporter {
    const current = new Map<string, MetricFamily[]>();
    return {
      onEvent: (event: RunEvent) => {
        if (event.type === "step-result" && !event.willRetry) {
          // The file too: two files may name their fixtures alike.
          const labels = {
            fixture: event.fixture.name,
            step: event.step.name,
            file: event.fixture.file,
          };
          const families = current.get(event.fixture.file) ?? [];
          families.push(
            gauge(
              "wiretest_step_success",
              "Whether the step passed",
              event.status === "passed" ? 1 : 0,
              {
                ...labels,
                plugin: event.step.plugin,
              },
            ),
            gauge(
              "wiretest_step_duration_seconds",
              "How long the step took",
              event.durationMs / 1000,
              labels,
            ),
            // Named and converted as the exporter names a probe's, from the
            // plugin's declared units.
            ...outcomeMetrics(
              `wiretest_step_${event.step.plugin.replace(/[^a-zA-Z0-9]+/g, "_")}_`,
              event.outcome,
              declarationsOf(event.metricUnits),
              labels,
            ),
          );
          current.set(event.fixture.file, families);
        } else if (event.type === "fixture-end") {
          const labels = { fixture: event.fixture.name, file: event.fixture.file };
          const families = current.get(event.fixture.file) ?? [];
          families.unshift(
            gauge(
              "wiretest_fixture_success",
              "Whether the fixture passed in the last run",
              event.status === "passed" ? 1 : 0,
              labels,
            ),
            gauge(
              "wiretest_fixture_duration_seconds",
              "How long the fixture took in the last run",
              event.durationMs / 1000,
              labels,
            ),
          );
          current.set(event.fixture.file, families);
          const key = JSON.stringify([event.fixture.name, event.fixture.file, event.status]);
          this.#runs.set(key, (this.#runs.get(key) ?? 0) + 1);
        } else if (event.type === "summary") {
          for (const [file, families] of current) this.#last.set(file, families);
          this.#completedRuns++;
          this.#lastRunAt = Date.now() / 1000;
        }
      },
    };
  }

  /**
   * Every family: the runs' counters, then each fixture's last results.
   *
   * @returns The families.
   */
  families(): MetricFamily[] {
    const runs: Sample[] = [...this.#runs].map(([key, value]) => {
      const [fixture, file, status] = JSON.parse(key) as string[];
      return { labels: { fixture, file, status }, value };
    });
    return [
      {
        name: "wiretest_runs_total",
        help: "Runs of the fixtures completed",
        type: "counter",
        samples: [{ value: this.#completedRuns }],
      },
      {
        name: "wiretest_last_run_timestamp_seconds",
        help: "When the last run ended (0 before the first)",
        type: "gauge",
        samples: [{ value: this.#lastRunAt }],
      },
      {
        name: "wiretest_fixture_runs_total",
        help: "Fixture runs by how they ended",
        type: "counter",
        samples: runs,
      },
      ...[...this.#last.values()].flat(),
    ];
  }
}

function gauge(
  name: string,
  help: string,
  value: number,
  labels: Record<string, string>,
): MetricFamily {
  return { name, help, type: "gauge", samples: [{ value, labels }] };
}

function declarationsOf(
  units: Readonly<Record<string, string>> | undefined,
): MetricDeclaration[] | undefined {
  if (units === undefined) return undefined;
  return Object.entries(units).map(([name, unit]) => ({ name, unit, description: "" }));
}
