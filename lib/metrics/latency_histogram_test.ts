import assert from "node:assert/strict";
import { connectTcp, listenTcp } from "../transport/tcp.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { Random } from "../../tests/_support/random.ts";

/** mulberry32: a tiny seeded PRNG, so every run checks the same samples. */
function seeded(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** Standard normal deviate by Box–Muller. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The nearest-rank percentile of sorted data: the sample of rank max(1, ceil(p/100 · n)). */
function exactPercentile(sorted: Float64Array, p: number): number {
  // Scaled to integers first so that e.g. 99.9% of 1000 is rank 999, not 1000.
  const rank = Math.ceil(Math.round((p * sorted.length * 1e6) / 100) / 1e6);
  return sorted[Math.max(1, rank) - 1];
}

const PERCENTILES = [
  0,
  0.1,
  ...Array.from({ length: 100 }, (_, i) => i + 1),
  99.5,
  99.9,
  99.99,
];

/** Records `samples` and checks every percentile and the exact statistics. */
function assertMatchesExact(samples: Float64Array): void {
  const histogram = new LatencyHistogram();
  for (const ms of samples) histogram.record(ms);
  const sorted = samples.slice().sort();
  for (const p of PERCENTILES) {
    const exact = exactPercentile(sorted, p);
    const actual = histogram.percentile(p);
    // The documented bound: 0.1% bucket width plus 1 ns of rounding, well inside 1%.
    const bound = Math.min(exact * 0.001 + 1e-6, exact * 0.01);
    assert.ok(
      Math.abs(actual - exact) <= bound,
      `p${p}: got ${actual} ms, exact ${exact} ms (relative error ${
        Math.abs(actual - exact) / exact
      })`,
    );
  }
  assert.equal(histogram.count, samples.length);
  assert.equal(histogram.min, sorted[0]);
  assert.equal(histogram.max, sorted[sorted.length - 1]);
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / samples.length;
  assert.ok(Math.abs(histogram.mean - mean) <= mean * 1e-9, `mean ${histogram.mean} vs ${mean}`);
  assert.ok(
    Math.abs(histogram.stddev - Math.sqrt(variance)) <= Math.sqrt(variance) * 1e-6 + 1e-12,
    `stddev ${histogram.stddev} vs ${Math.sqrt(variance)}`,
  );
}

function generate(n: number, seed: number, sample: (random: () => number) => number): Float64Array {
  const random = seeded(seed);
  return Float64Array.from({ length: n }, () => sample(random));
}

Deno.test("percentile() is within 0.1% of the exact nearest-rank value for uniform samples", () => {
  assertMatchesExact(generate(200_000, 1, (random) => 0.01 + random() * 100));
});

Deno.test("percentile() is within 0.1% of the exact value for log-normal samples with a long tail", () => {
  // Median 0.2 ms, sigma 2.5: the tail reaches tens of seconds.
  assertMatchesExact(
    generate(200_000, 2, (random) => 0.2 * Math.exp(2.5 * gaussian(random))),
  );
});

Deno.test("percentile() is within 0.1% of the exact value from 37 µs loopback to 10 minutes", () => {
  // Log-uniform over seven decades, so every bucket row of the histogram is used.
  const low = Math.log(0.037);
  const high = Math.log(600_000);
  assertMatchesExact(generate(200_000, 3, (random) => Math.exp(low + random() * (high - low))));
});

Deno.test("percentile() is within 0.1% of the exact value for bimodal samples", () => {
  // 80% fast loopback replies near 50 µs, 20% slow ones near 25 ms.
  assertMatchesExact(
    generate(
      200_000,
      4,
      (random) =>
        random() < 0.8
          ? Math.abs(0.05 + 0.005 * gaussian(random))
          : Math.abs(25 + 3 * gaussian(random)),
    ),
  );
});

Deno.test("percentile() equals the value at every percentile for constant samples", () => {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 1000; i++) histogram.record(0.037);
  for (const p of PERCENTILES) assert.equal(histogram.percentile(p), 0.037);
  assert.equal(histogram.stddev, 0);
  assert.equal(histogram.mean, 0.037);
});

Deno.test("percentile() is that sample at every percentile for a single sample", () => {
  const histogram = new LatencyHistogram();
  histogram.record(42.123456);
  for (const p of PERCENTILES) assert.equal(histogram.percentile(p), 42.123456);
  assert.deepEqual(histogram.summary(), {
    count: 1,
    min: 42.123456,
    mean: 42.123456,
    max: 42.123456,
    stddev: 0,
    p50: 42.123456,
    p90: 42.123456,
    p99: 42.123456,
    p999: 42.123456,
  });
});

Deno.test("percentile() uses nearest rank: p50 of 1, 2, 3, 4 is 2 and p51 is 3", () => {
  const histogram = new LatencyHistogram();
  for (const ms of [3, 1, 4, 2]) histogram.record(ms);
  assert.ok(Math.abs(histogram.percentile(50) - 2) <= 0.002);
  assert.ok(Math.abs(histogram.percentile(51) - 3) <= 0.003);
  assert.equal(histogram.percentile(0), 1);
  assert.equal(histogram.percentile(100), 4);
});

Deno.test("min and max are exact, not rounded to a bucket", () => {
  const histogram = new LatencyHistogram();
  for (const ms of [0.0370001, 5.123456789, 123456.789012]) histogram.record(ms);
  assert.equal(histogram.min, 0.0370001);
  assert.equal(histogram.max, 123456.789012);
});

Deno.test("record() accepts 0 ms", () => {
  const histogram = new LatencyHistogram();
  histogram.record(0);
  histogram.record(0);
  assert.equal(histogram.percentile(50), 0);
  assert.equal(histogram.max, 0);
});

Deno.test("record() throws RangeError for negative or non-finite values", () => {
  const histogram = new LatencyHistogram();
  for (const bad of [-0.001, NaN, Infinity, -Infinity, 1e10]) {
    assert.throws(() => histogram.record(bad), RangeError, String(bad));
  }
  assert.equal(histogram.count, 0);
});

Deno.test("record() throws TypeError for a value that is not a number", () => {
  const histogram = new LatencyHistogram();
  assert.throws(() => histogram.record("5" as unknown as number), TypeError);
  assert.equal(histogram.count, 0);
});

Deno.test("percentile() throws RangeError outside 0 to 100", () => {
  const histogram = new LatencyHistogram();
  histogram.record(1);
  for (const bad of [-1, 100.01, NaN]) {
    assert.throws(() => histogram.percentile(bad), {
      name: "RangeError",
      message: `Cannot compute percentile: "${bad}" is not between 0 and 100`,
    });
  }
});

Deno.test("summary() has count 0 and NaN everywhere else when nothing was recorded", () => {
  const summary = new LatencyHistogram().summary();
  assert.equal(summary.count, 0);
  for (const key of ["min", "mean", "max", "stddev", "p50", "p90", "p99", "p999"] as const) {
    assert.ok(Number.isNaN(summary[key]), key);
  }
});

Deno.test("summary() reports the percentiles of the recorded samples", () => {
  const histogram = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) histogram.record(i / 1000);
  const summary = histogram.summary();
  assert.equal(summary.count, 10_000);
  assert.equal(summary.min, 0.001);
  assert.equal(summary.max, 10);
  assert.ok(Math.abs(summary.mean - 5.0005) < 1e-9);
  for (const [key, exact] of [["p50", 5], ["p90", 9], ["p99", 9.9], ["p999", 9.99]] as const) {
    assert.ok(Math.abs(summary[key] - exact) <= exact * 0.001, `${key} ${summary[key]}`);
  }
});

Deno.test("merge() gives the same result as recording both sets in one histogram", () => {
  const fast = generate(50_000, 5, (random) => 0.03 + random() * 0.1);
  const slow = generate(50_000, 6, (random) => 0.2 * Math.exp(2 * gaussian(random)));
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const both = new LatencyHistogram();
  for (const ms of fast) a.record(ms), both.record(ms);
  for (const ms of slow) b.record(ms), both.record(ms);

  a.merge(b);
  assert.equal(a.count, both.count);
  assert.equal(a.min, both.min);
  assert.equal(a.max, both.max);
  for (const p of PERCENTILES) assert.equal(a.percentile(p), both.percentile(p), `p${p}`);
  assert.ok(Math.abs(a.mean - both.mean) <= both.mean * 1e-12);
  assert.ok(Math.abs(a.stddev - both.stddev) <= both.stddev * 1e-12);
  assert.equal(b.count, 50_000, "the merged-in histogram is unchanged");
});

Deno.test("merge() into an empty histogram copies the other one", () => {
  const source = new LatencyHistogram();
  for (const ms of [0.5, 1.5, 2.5]) source.record(ms);
  const target = new LatencyHistogram();
  target.merge(source);
  target.merge(new LatencyHistogram());
  assert.deepEqual(target.summary(), source.summary());
});

Deno.test("merge() of a histogram into itself doubles every count", () => {
  const histogram = new LatencyHistogram();
  for (const ms of [1, 2, 3, 10]) histogram.record(ms);
  const before = histogram.summary();
  histogram.merge(histogram);
  const after = histogram.summary();
  assert.equal(after.count, 8);
  assert.deepEqual({ ...after, count: 4 }, before);
  // Four more samples: only if the counts doubled is the median (rank 6 of 12) 3 ms.
  for (let i = 0; i < 4; i++) histogram.record(100);
  assert.ok(Math.abs(histogram.percentile(50) - 3) <= 0.003);
});

Deno.test("reset() forgets every sample and the histogram records again", () => {
  const histogram = new LatencyHistogram();
  for (const ms of [1, 200, 3000]) histogram.record(ms);
  histogram.reset();
  assert.equal(histogram.count, 0);
  assert.ok(Number.isNaN(histogram.percentile(50)));
  histogram.record(7);
  assert.equal(histogram.min, 7);
  assert.equal(histogram.max, 7);
  assert.equal(histogram.mean, 7);
});

Deno.test("record() keeps the footprint constant over 10 million samples", () => {
  const random = seeded(7);
  // One pass of pre-generated samples, replayed: the loop then times record() itself.
  const samples = Float64Array.from(
    { length: 1_000_000 },
    () => 0.02 + 0.2 * Math.exp(1.5 * gaussian(random)),
  );
  const histogram = new LatencyHistogram();
  // The range decides the footprint; record its ends first.
  histogram.record(0.02);
  histogram.record(samples.reduce((a, b) => Math.max(a, b)));
  const before = histogram.estimatedFootprintInBytes;

  const start = performance.now();
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < samples.length; i++) histogram.record(samples[i]);
  }
  const elapsedMs = performance.now() - start;

  assert.equal(histogram.count, 10_000_002);
  assert.equal(histogram.estimatedFootprintInBytes, before);
  console.log(
    `record(): ${((elapsedMs * 1e6) / 10_000_000).toFixed(1)} ns/op over 10M samples, ` +
      `footprint ${before} bytes`,
  );
});

Deno.test({
  name: "record() summarises real TCP round trips on loopback",
  permissions: { net: true },
}, async () => {
  using listener = listenTcp();
  using client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  const histogram = new LatencyHistogram();
  const ping = new Uint8Array([1]);
  const buffer = new Uint8Array(1);
  for (let i = 0; i < 200; i++) {
    const sent = performance.now();
    await client.write(ping, { timeout: 2000 });
    assert.equal(await server.read(buffer, { timeout: 2000 }), 1);
    await server.write(buffer, { timeout: 2000 });
    assert.equal(await client.read(buffer, { timeout: 2000 }), 1);
    histogram.record(performance.now() - sent);
  }
  const summary = histogram.summary();
  assert.equal(summary.count, 200);
  assert.ok(summary.min > 0);
  assert.ok(summary.min <= summary.p50 && summary.p50 <= summary.p99);
  assert.ok(summary.p99 <= summary.p999 && summary.p999 <= summary.max);
});
