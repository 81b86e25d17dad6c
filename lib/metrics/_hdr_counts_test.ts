// HdrCounts against hdr-histogram-js, the implementation it replaces: the
// same values recorded in both must give the same percentiles (bucket for
// bucket) and the same footprint, across ranges that make both grow.
import assert from "node:assert/strict";
import { build } from "hdr-histogram-js";
import { HdrCounts } from "./_hdr_counts.ts";

const LEVELS = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100];

function reference() {
  return build({
    bitBucketSize: 64,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

// A seeded generator, so a failure is reproducible.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SETS: Record<string, (next: () => number) => number> = {
  "small integers": (next) => Math.floor(next() * 3000),
  "loopback latencies in ns (20 µs – 5 ms)": (next) => Math.round(20_000 + next() ** 4 * 5e6),
  "log-uniform up to an hour in ns": (next) => Math.round(Math.exp(next() * Math.log(3.6e12))),
  "powers of two and their neighbours": (next) => {
    const p = 2 ** Math.floor(next() * 50);
    return p + Math.floor(next() * 3) - 1;
  },
};

for (const [name, draw] of Object.entries(SETS)) {
  Deno.test(`HdrCounts equals hdr-histogram-js: ${name}`, () => {
    const next = random(name.length * 7919);
    const ours = new HdrCounts();
    const theirs = reference();
    for (let i = 0; i < 5_000; i++) {
      const value = Math.max(0, draw(next));
      ours.record(value);
      theirs.recordValue(value);
    }
    assert.equal(ours.total, 5_000);
    for (const p of LEVELS) {
      assert.equal(ours.valueAtPercentile(p), theirs.getValueAtPercentile(p), `p${p}`);
    }
    assert.equal(ours.footprintBytes, theirs.estimatedFootprintInBytes);
  });
}

Deno.test("HdrCounts equals hdr-histogram-js: the largest value, zeros, one value", () => {
  for (
    const values of [[0], [Number.MAX_SAFE_INTEGER], [0, 0, 1], [2047, 2048, 2049, 4095, 4096]]
  ) {
    const ours = new HdrCounts();
    const theirs = reference();
    for (const v of values) {
      ours.record(v);
      theirs.recordValue(v);
    }
    for (const p of LEVELS) {
      assert.equal(ours.valueAtPercentile(p), theirs.getValueAtPercentile(p), `${values} p${p}`);
    }
    assert.equal(ours.footprintBytes, theirs.estimatedFootprintInBytes, `${values}`);
  }
});

Deno.test("HdrCounts: add and reset give hdr-histogram-js's percentiles", () => {
  const next = random(42);
  const [a, b] = [new HdrCounts(), new HdrCounts()];
  const [ra, rb] = [reference(), reference()];
  for (let i = 0; i < 2_000; i++) {
    const small = Math.round(next() * 1e5);
    const large = Math.round(next() * 1e10);
    a.record(small);
    ra.recordValue(small);
    b.record(large);
    rb.recordValue(large);
  }
  a.add(b);
  ra.add(rb);
  assert.equal(a.total, 4_000);
  assert.equal(b.total, 2_000);
  for (const p of LEVELS) assert.equal(a.valueAtPercentile(p), ra.getValueAtPercentile(p), `p${p}`);
  assert.equal(a.footprintBytes, ra.estimatedFootprintInBytes);
  a.reset();
  ra.reset();
  assert.equal(a.total, 0);
  assert.equal(a.valueAtPercentile(50), 0);
  a.record(7);
  ra.recordValue(7);
  assert.equal(a.valueAtPercentile(50), ra.getValueAtPercentile(50));
  assert.equal(a.footprintBytes, ra.estimatedFootprintInBytes);
});
