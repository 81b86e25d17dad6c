// The counts of an HdrHistogram with three significant digits, a unit of 1,
// 64-bit (float) counts and a range that grows as values need it: the
// bucket layout and percentile rule of hdr-histogram-js's `build({
// bitBucketSize: 64, numberOfSignificantValueDigits: 3, autoResize: true })`,
// whose answers tests compare these with. Written here because that package
// takes 40–50 ms to import (its WebAssembly build, encoders and CommonJS
// loading), which every plugin process paid before its first measurement.
//
// Layout (as in HdrHistogram): bucket 0 counts 0…2047 in steps of 1; bucket
// k > 0 counts 2048·2^(k-1)…2048·2^k − 1 in steps of 2^k, in the upper half
// of its 2048 sub-buckets (the lower half is covered by the buckets below).

const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_COUNT = 2048;
const SUB_BUCKET_HALF = 1024;

/** Whole non-negative values (at most `Number.MAX_SAFE_INTEGER`) counted in HDR buckets. */
export class HdrCounts {
  #counts: Float64Array = new Float64Array(lengthFor(2));
  #total = 0;

  /** How many values were recorded. */
  get total(): number {
    return this.#total;
  }

  /** Bytes held, as hdr-histogram-js estimates them (1 KiB + the counts). */
  get footprintBytes(): number {
    return 1024 + 8 * this.#counts.length;
  }

  /** Counts one value (a whole number from 0 to `Number.MAX_SAFE_INTEGER`). */
  record(value: number): void {
    const index = indexOf(value);
    if (index >= this.#counts.length) this.#grow(value);
    this.#counts[index]++;
    this.#total++;
  }

  /**
   * The highest value equivalent to the recorded value of rank
   * `ceil(p / 100 · total)` (at least 1), as HdrHistogram's
   * `getValueAtPercentile`; 0 when nothing was recorded.
   */
  valueAtPercentile(p: number): number {
    const requested = Math.min(p, 100);
    const fp = requested / 100 * this.#total;
    // Less one ulp: the float product may be one ulp above the exact count.
    const rank = Math.max(Math.ceil(fp - ulp(fp)), 1);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        const value = valueFromIndex(i);
        return p === 0 ? lowestEquivalent(value) : lowestEquivalent(value) + rangeOf(value) - 1;
      }
    }
    return 0;
  }

  /** Adds every count of `other` (which is left unchanged). */
  add(other: HdrCounts): void {
    const theirs = other.#counts;
    if (theirs.length > this.#counts.length) this.#resize(theirs.length);
    for (let i = 0; i < theirs.length; i++) this.#counts[i] += theirs[i];
    this.#total += other.#total;
  }

  /** Forgets every count; the range already grown is kept. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }

  #grow(value: number): void {
    this.#resize(lengthFor(value));
  }

  #resize(length: number): void {
    const counts = new Float64Array(length);
    counts.set(this.#counts);
    this.#counts = counts;
  }
}

function bucketOf(value: number): number {
  return Math.max(Math.floor(Math.log2(value)) - SUB_BUCKET_HALF_MAGNITUDE, 0);
}

function subBucketOf(value: number, bucket: number): number {
  return Math.floor(value / 2 ** bucket);
}

function indexOf(value: number): number {
  const bucket = bucketOf(value);
  return (bucket + 1) * SUB_BUCKET_HALF + subBucketOf(value, bucket) - SUB_BUCKET_HALF;
}

function valueFromIndex(index: number): number {
  let bucket = Math.floor(index / SUB_BUCKET_HALF) - 1;
  let sub = (index % SUB_BUCKET_HALF) + SUB_BUCKET_HALF;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

function lowestEquivalent(value: number): number {
  const bucket = bucketOf(value);
  return subBucketOf(value, bucket) * 2 ** bucket;
}

function rangeOf(value: number): number {
  const bucket = bucketOf(value);
  return 2 ** (subBucketOf(value, bucket) >= SUB_BUCKET_COUNT ? bucket + 1 : bucket);
}

/** Counts needed to cover `value`: a bucket per doubling above 2047, plus the lower half of bucket 0. */
function lengthFor(value: number): number {
  let untrackable = SUB_BUCKET_COUNT;
  let buckets = 1;
  while (untrackable <= value) {
    if (untrackable > Number.MAX_SAFE_INTEGER / 2) {
      buckets++;
      break;
    }
    untrackable *= 2;
    buckets++;
  }
  return (buckets + 1) * SUB_BUCKET_HALF;
}

function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(x)) - 52);
}
