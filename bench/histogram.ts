/**
 * A fixed-bucket log-linear histogram of non-negative integers (microseconds here): exact below 64,
 * then 64 sub-buckets per power of two (≤ 1.6% error), up to 2^40. Mergeable and cheap to record.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const MAX_EXP = 40;
const BUCKETS = SUB + (MAX_EXP - SUB_BITS + 1) * SUB;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;

  record(value: number): void {
    let v = value < 0 ? 0 : Math.round(value);
    if (v > this.max) this.max = v;
    if (v >= 2 ** MAX_EXP) v = 2 ** MAX_EXP - 1;
    this.counts[indexOf(v)]!++;
    this.total++;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** Value at percentile p (0..100): the upper edge of the bucket holding it (never under-reports). */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    if (this.total === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c !== 0) sum += c * middleOf(i);
    }
    return sum / this.total;
  }

  /** Non-empty buckets as [index, count] pairs (for IPC). */
  toSparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c !== 0) out.push([i, c]);
    }
    return out;
  }

  addSparse(pairs: ReadonlyArray<readonly [number, number]>): void {
    for (const [i, c] of pairs) {
      if (i < 0 || i >= BUCKETS) continue;
      this.counts[i]! += c;
      this.total += c;
      const up = upperOf(i);
      if (up > this.max) this.max = up;
    }
  }

  static fromSparse(...lists: Array<ReadonlyArray<readonly [number, number]>>): Histogram {
    const h = new Histogram();
    for (const l of lists) h.addSparse(l);
    return h;
  }
}

function indexOf(v: number): number {
  if (v < SUB) return v;
  const exp = v < 2 ** 31 ? 31 - Math.clz32(v) : 62 - Math.clz32(Math.floor(v / 2 ** 31));
  const shift = exp - SUB_BITS;
  const sub = Math.floor(v / 2 ** shift) - SUB;
  return SUB + shift * SUB + sub;
}

function lowerOf(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  return (SUB + sub) * 2 ** shift;
}

function upperOf(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor((i - SUB) / SUB);
  return lowerOf(i) + 2 ** shift - 1;
}

function middleOf(i: number): number {
  return (lowerOf(i) + upperOf(i)) / 2;
}
