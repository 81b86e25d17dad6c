// Folds run events (one run, or several shards' JSON lines) into the data
// the HTML page renders: a summary, and fixtures with their steps' attempts.
import type {
  FixtureEndEvent,
  LocatedMessage,
  RunEvent,
  RunStartEvent,
  RunStatus,
  StepResultEvent,
} from "../runner/events.ts";

/** One step of a fixture, with every attempt in order. */
export interface ReportStep {
  index: number;
  name: string;
  plugin: string;
  location: StepResultEvent["step"]["location"];
  attempts: Omit<StepResultEvent, "type" | "fixture" | "step">[];
}

/** One fixture as the page shows it. */
export interface ReportFixture {
  /** The deep link's anchor, unique in the page (`#tcp-echo-round-trip`). */
  id: string;
  file: string;
  name: string;
  status: RunStatus;
  durationMs: number;
  reason?: string;
  stepsNotRun?: number;
  problems: LocatedMessage[];
  steps: ReportStep[];
}

/** Everything the page shows. */
export interface ReportData {
  /** The runs (shards) folded in, from their `run-start`. */
  runs: Omit<RunStartEvent, "type">[];
  summary: {
    passed: number;
    failed: number;
    errors: number;
    invalid: number;
    skipped: number;
    total: number;
    /** The longest run's duration (shards run side by side). */
    durationMs: number;
  };
  /** Failed, erred and invalid first, then passed and skipped; run order within each. */
  fixtures: ReportFixture[];
}

const ORDER: Record<RunStatus, number> = { failed: 0, error: 1, invalid: 2, passed: 3, skipped: 4 };

/** Folds events, in the order they were emitted, into {@linkcode ReportData}. */
export function reportData(events: Iterable<RunEvent>): ReportData {
  const runs: ReportData["runs"] = [];
  const summary: ReportData["summary"] = {
    passed: 0,
    failed: 0,
    errors: 0,
    invalid: 0,
    skipped: 0,
    total: 0,
    durationMs: 0,
  };
  const fixtures: ReportFixture[] = [];
  // Fixtures in progress by file and name (shards never share a file).
  const open = new Map<string, ReportFixture>();
  const taken = new Set<string>();
  const key = (ref: { file: string; name: string }) => JSON.stringify([ref.file, ref.name]);
  const start = (ref: { file: string; name: string }): ReportFixture => {
    let fixture = open.get(key(ref));
    if (fixture === undefined) {
      fixture = {
        id: uniqueId(ref.name, taken),
        file: ref.file,
        name: ref.name,
        status: "error",
        durationMs: 0,
        problems: [],
        steps: [],
      };
      open.set(key(ref), fixture);
      fixtures.push(fixture);
    }
    return fixture;
  };
  for (const event of events) {
    switch (event.type) {
      case "run-start": {
        const { type: _, ...run } = event;
        runs.push(run);
        break;
      }
      case "fixture-start":
        start(event.fixture);
        break;
      case "step-result": {
        const fixture = start(event.fixture);
        let step = fixture.steps.find((s) => s.index === event.step.index);
        if (step === undefined) {
          step = { ...event.step, attempts: [] };
          fixture.steps.push(step);
        }
        const { type: _t, fixture: _f, step: _s, ...attempt } = event;
        step.attempts.push(attempt);
        break;
      }
      case "fixture-end":
        end(start(event.fixture), event);
        open.delete(key(event.fixture));
        break;
      case "summary":
        summary.passed += event.passed;
        summary.failed += event.failed;
        summary.errors += event.errors;
        summary.invalid += event.invalid;
        summary.skipped += event.skipped;
        summary.total += event.total;
        summary.durationMs = Math.max(summary.durationMs, event.durationMs);
        break;
    }
  }
  const order = new Map(fixtures.map((f, i) => [f, i]));
  fixtures.sort((a, b) => ORDER[a.status] - ORDER[b.status] || order.get(a)! - order.get(b)!);
  return { runs, summary, fixtures };
}

function end(fixture: ReportFixture, event: FixtureEndEvent): void {
  fixture.status = event.status;
  fixture.durationMs = event.durationMs;
  fixture.problems = event.problems;
  if (event.reason !== undefined) fixture.reason = event.reason;
  if (event.stepsNotRun !== undefined) fixture.stepsNotRun = event.stepsNotRun;
}

/** `tcp echo: round trip` → `tcp-echo-round-trip`, `-2`, `-3`… when taken. */
function uniqueId(name: string, taken: Set<string>): string {
  const slug = name.toLowerCase().normalize("NFKD").replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "").slice(0, 80) || "fixture";
  let id = slug;
  for (let n = 2; taken.has(id); n++) id = `${slug}-${n}`;
  taken.add(id);
  return id;
}
