import assert from "node:assert/strict";
import { checkedInterval, checkedProgress, checkedReport } from "./checked_load_messages.ts";
import { checkLoadPlan } from "./load_plan.ts";
import { runLoad } from "./run_load.ts";
import type { LoadInterval } from "./_recorder.ts";
import type { LoadProgress } from "./run_load.ts";

Deno.test("checkedReport() takes the engine's reports and refuses each kind of forgery, named", async () => {
  const intervals: LoadInterval[] = [];
  const progress: LoadProgress[] = [];
  let n = 0;
  const report = await runLoad(
    () =>
      Promise.resolve({
        iterate: () =>
          Promise.resolve(++n % 4 === 0 ? { ok: false, error: "ECONNRESET" } : { ok: true }),
        close: () => Promise.resolve(),
      }),
    checkLoadPlan({ vus: 1, duration: "1100ms" }),
    { onInterval: (i) => intervals.push(i), onProgress: (p) => progress.push(p) },
  );
  // Through structured clone, as from the plugin's process.
  const plain = structuredClone(report);
  const checked = checkedReport(plain);
  assert.deepEqual({ ...checked, errorsByType: { ...checked.errorsByType } }, plain);
  assert.equal(Object.getPrototypeOf(checkedReport(plain).errorsByType), null);
  for (const i of intervals) checkedInterval(structuredClone(i));
  for (const p of progress) checkedProgress(structuredClone(p));

  const forged: [string, (r: Record<string, unknown>) => void][] = [
    ["iterations", (r) => r.iterations = 1e300],
    ["errors", (r) => r.errors = (r.iterations as number) + 1],
    ["errorsByType", (r) => r.errorsByType = { ECONNRESET: 0 }],
    ["rate", (r) => r.rate = NaN],
    ["model", (r) => r.model = "<script>"],
    ["latency", (r) => r.latency = null],
    ["latency.p99", (r) => r.latency = { ...(r.latency as object), p99: -1 }],
    ["series", (r) => r.series = new Array(100_000).fill(plain.series[0])],
    ["series.iterations", (r) => r.series = [{ ...plain.series[0], iterations: -1 }]],
    ["distribution", (r) => r.distribution = 42],
  ];
  for (const [field, forge] of forged) {
    const copy = structuredClone(plain) as unknown as Record<string, unknown>;
    forge(copy);
    assert.throws(
      () => checkedReport(copy),
      new TypeError(
        `Cannot run load: the plugin's process sent a malformed load report ("${field}")`,
      ),
    );
  }
  assert.throws(() => checkedInterval({ ...intervals[0], corrected: "<>" }), TypeError);
  assert.throws(() => checkedProgress({ ...progress[0], errors: 0.5 }), TypeError);
});
