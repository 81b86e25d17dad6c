// Fuzzing the fixture parser and validator: seeded, reproducible cases, each
// run through parseFixture() and prepareFixture() (against the built-in
// plugins, nothing started). Every case must either give a valid fixture or
// FixtureErrors located in the text; nothing else thrown, nothing hangs.
//
// FUZZ_SEED picks the seed (the default is fixed, so CI runs the same cases),
// FUZZ_COUNT the number of generated plus mutated cases (default 5,000; with
// the 5,000 of lib/fixture/parse_fixture_fuzz_test.ts, 10,000), and FUZZ_CASE
// runs one case alone: a failure prints the three to reproduce it.
import assert from "node:assert/strict";
import { ADVERSARIAL } from "./_adversarial.ts";
import { buildCase, caseCount, type Corpus, readBases, type Strategy } from "./_cases.ts";
import type { WorkerJob, WorkerReport } from "./_fixture_fuzz_worker.ts";
import { pluginShapes } from "./_generate.ts";
import { envInteger } from "./_random.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

const SEED = envInteger("FUZZ_SEED", 0x7e57_f1c5);
const COUNT = envInteger("FUZZ_COUNT", 5_000);
const ONLY = Deno.env.get("FUZZ_CASE") === undefined ? undefined : envInteger("FUZZ_CASE", 0);
/**
 * A case running longer than 10 s, plus 50 s per megabyte of text, is a hang.
 * Typical cases take milliseconds and the slowest adversarial one about 2 s;
 * the margin is for CI machines running the whole suite in parallel.
 * Anything quadratic in the input blows far past this.
 */
const CASE_LIMIT_MS = 10_000;
const LIMIT_MS_PER_MB = 50_000;
/** Time for a worker to import wiretest and the plugins before its first case. */
const STARTUP_LIMIT_MS = 60_000;
/** Two cores: one worker each. */
const WORKERS = Math.max(1, Math.min(2, navigator.hardwareConcurrency ?? 1));
const ROOT = new URL("../../", import.meta.url);

console.log(
  `fixture fuzz: FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT}${
    ONLY === undefined ? "" : ` FUZZ_CASE=${ONLY}`
  }`,
);

type CaseReport = Extract<WorkerReport, { kind: "case" }>;
type FailReport = Extract<WorkerReport, { kind: "fail" }>;

interface Run {
  cases: CaseReport[];
  failures: FailReport[];
  /** A case that did not finish in time, or a worker that died. */
  stuck?: string;
}

function runWorker(job: WorkerJob): Promise<Run> {
  const run: Run = { cases: [], failures: [] };
  const worker = new Worker(new URL("./_fixture_fuzz_worker.ts", import.meta.url), {
    type: "module",
    // No network: `plugins:` URLs in fixtures must fail, not be fetched.
    deno: {
      permissions: {
        read: [ROOT.pathname, job.dir],
        write: [job.dir],
        net: false,
        env: false,
        run: false,
        ffi: false,
        sys: false,
      },
    },
  });
  return new Promise<Run>((resolve) => {
    let index: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (stuck?: string) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(stuck === undefined ? run : { ...run, stuck });
    };
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`${what} did not finish in ${ms.toFixed(0)} ms`), ms);
    };
    const where = () =>
      index === undefined
        ? `the ${job.strategy} worker`
        : `${job.strategy} case ${index} (FUZZ_SEED=${job.seed} FUZZ_CASE=${index})`;
    arm(STARTUP_LIMIT_MS, "the worker's start");
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const report = event.data;
      if (report.kind === "done") return finish();
      if (report.kind === "start") {
        index = report.index;
        return arm(CASE_LIMIT_MS + LIMIT_MS_PER_MB * report.bytes / 1e6, where());
      }
      if (report.kind === "case") run.cases.push(report);
      if (report.kind === "fail") run.failures.push(report);
      // Building the next case.
      arm(CASE_LIMIT_MS, `building the case after ${where()}`);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish(`${where()} killed the worker: ${event.message}`);
    };
    worker.postMessage(job);
  });
}

async function fuzz(strategy: Strategy, count: number): Promise<Run> {
  const total = caseCount(strategy, count);
  const indices = ONLY === undefined
    ? Array.from({ length: total }, (_, i) => i)
    : ONLY < total
    ? [ONLY]
    : [];
  const workers = Math.max(1, Math.min(WORKERS, indices.length));
  const dir = await Deno.makeTempDir({ prefix: "wiretest_fuzz_" });
  const started = performance.now();
  try {
    const runs = await Promise.all(
      Array.from({ length: workers }, async (_, k) => {
        const own = `${dir}/${k}`;
        await Deno.mkdir(own);
        return runWorker({
          strategy,
          seed: SEED,
          indices: indices.filter((_, i) => i % workers === k),
          dir: own,
        });
      }),
    );
    const run: Run = {
      cases: runs.flatMap((r) => r.cases),
      failures: runs.flatMap((r) => r.failures),
      stuck: runs.map((r) => r.stuck).find((s) => s !== undefined),
    };
    summarise(strategy, run, indices.length, performance.now() - started);
    assert.deepEqual(
      run.failures.map((f) => f.index),
      [],
      run.failures.slice(0, 5).map((f) =>
        `${strategy} case ${f.index} (${f.label}; FUZZ_SEED=${SEED} FUZZ_CASE=${f.index}):\n` +
        `  text: ${f.excerpt}\n  ${f.message.split("\n").slice(0, 12).join("\n  ")}`
      ).join("\n"),
    );
    assert.equal(run.stuck, undefined, run.stuck);
    assert.equal(run.cases.length, indices.length);
    return run;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function summarise(strategy: Strategy, run: Run, total: number, ms: number): void {
  const parsed = run.cases.filter((c) => c.parsed).length;
  const ready = run.cases.filter((c) => c.ready).length;
  const slowest = [...run.cases, ...run.failures].reduce<CaseReport | FailReport | undefined>(
    (a, b) => (a === undefined || b.ms > a.ms ? b : a),
    undefined,
  );
  console.log(
    `${strategy}: ${total} cases in ${(ms / 1000).toFixed(1)} s: ${parsed} parsed ` +
      `(${ready} ready to run), ${run.cases.length - parsed} rejected with located errors, ` +
      `${run.failures.length} failed` +
      (slowest
        ? `; slowest ${slowest.ms.toFixed(0)} ms (case ${slowest.index}, ${slowest.label})`
        : ""),
  );
}

/**
 * Both outcomes occur, so the cases neither always break nor never break:
 * at least these shares of cases parse, are ready to run, are rejected.
 */
function assertMix(run: Run, least: { parsed: number; ready: number; rejected: number }): void {
  if (ONLY !== undefined || run.cases.length < 200) return;
  const parsed = run.cases.filter((c) => c.parsed).length;
  const ready = run.cases.filter((c) => c.ready).length;
  const total = run.cases.length;
  assert.ok(parsed / total >= least.parsed, `only ${parsed} of ${total} parsed`);
  assert.ok(ready / total >= least.ready, `only ${ready} of ${total} ready to run`);
  assert.ok(
    (total - parsed) / total >= least.rejected,
    `only ${total - parsed} of ${total} rejected`,
  );
}

Deno.test(
  "parseFixture() and prepareFixture() accept or locate every error of generated fixtures",
  async () => {
    const run = await fuzz("generate", Math.ceil(COUNT / 2));
    // Few generated fixtures are ready to run (about 4.5%, over 100 of 2,500)
    // since hosts, ports and listen addresses are checked when a fixture loads.
    assertMix(run, { parsed: 0.2, ready: 0.03, rejected: 0.3 });
  },
);

// Most bases are the parse tests' broken files, so few mutants parse.
Deno.test(
  "parseFixture() and prepareFixture() accept or locate every error of mutated example fixtures",
  async () => {
    const run = await fuzz("mutate", Math.floor(COUNT / 2));
    assertMix(run, { parsed: 0.03, ready: 0.02, rejected: 0.5 });
  },
);

Deno.test(
  "parseFixture() and prepareFixture() refuse alias bombs, deep nesting and huge input in time",
  async () => {
    const run = await fuzz("adversarial", ADVERSARIAL.length);
    if (ONLY === undefined) assert.ok(run.cases.filter((c) => !c.parsed).length > 0);
  },
);

Deno.test("fuzz cases are the same for the same seed and index", async () => {
  const registry = builtinRegistry();
  const corpus: Corpus = { shapes: await pluginShapes(registry), bases: await readBases() };
  for (const strategy of ["generate", "mutate"] as const) {
    const first = [0, 1, 2, 999].map((i) => buildCase(strategy, SEED, i, corpus).text);
    const again = [0, 1, 2, 999].map((i) => buildCase(strategy, SEED, i, corpus).text);
    assert.deepEqual(again, first);
    assert.equal(new Set(first).size, first.length, `${strategy} cases repeat`);
  }
});
