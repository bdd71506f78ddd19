// The k sweep: elbow on a synthetic inertia curve, the suggestion rule and its sentence, a sweep
// over toy data that stops at the number of distinct rows, the quick sweep and the stand-in when
// none ran, and how an artifact written before the sweep recorded its mode reads.

import { Random } from 'ml-random';
import { describe, expect, it } from 'vitest';
import {
  elbowK,
  FULL_SWEEP,
  fullSweep,
  noSweep,
  QUICK_SWEEP,
  quickSweep,
  suggestK,
  sweepK,
  SweepSchema,
  type SweepEntry,
} from '../../../shared/clustering/sweep.ts';
import { fitKMeans, takeRows } from '../../../shared/clustering/kmeans.ts';
import { sampleOrder } from '../../../shared/clustering/sample-order.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';
import type { Matrix } from '../../../shared/features/encode.ts';

const entry = (k: number, inertia: number, silhouette: number | null = null): SweepEntry => ({
  k,
  inertia,
  silhouette,
  daviesBouldin: null,
  calinskiHarabasz: null,
});

describe('elbowK', () => {
  it('finds the knee of a curve that drops fast then flattens', () => {
    // normalised gaps below the chord: k=2 0.459, k=3 0.534, k=4 0.367 …
    const curve = [100, 40, 15, 12, 10, 9].map((inertia, i) => entry(i + 1, inertia));
    expect(elbowK(curve)).toBe(3);
  });

  it('moves with the knee', () => {
    const curve = [100, 20, 17, 15, 14, 13].map((inertia, i) => entry(i + 1, inertia));
    expect(elbowK(curve)).toBe(2);
  });

  it('returns the first k for a flat curve or fewer than three points', () => {
    expect(elbowK([5, 5, 5, 5].map((inertia, i) => entry(i + 1, inertia)))).toBe(1);
    expect(elbowK([entry(1, 10), entry(2, 1)])).toBe(1);
    expect(elbowK([entry(1, 10)])).toBe(1);
  });

  it('returns the first k for a straight line (no point below the chord)', () => {
    expect(elbowK([40, 30, 20, 10].map((inertia, i) => entry(i + 1, inertia)))).toBe(1);
  });
});

describe('suggestK', () => {
  it('picks the highest silhouette and states the rule with the elbow', () => {
    const entries = [entry(1, 100), entry(2, 40, 0.41), entry(3, 15, 0.7), entry(4, 12, 0.55), entry(5, 10, 0.5), entry(6, 9, 0.45)];
    expect(suggestK(entries)).toEqual({
      suggestedK: 3,
      elbowK: 3,
      rule: 'highest mean silhouette among k = 2..6 (0.700 at k = 3); the inertia elbow is at k = 3',
    });
  });

  it('breaks a silhouette tie towards the smaller k', () => {
    const entries = [entry(1, 100), entry(2, 50, 0.6), entry(3, 20, 0.6 + 1e-12), entry(4, 10, 0.5)];
    expect(suggestK(entries).suggestedK).toBe(2);
  });

  it('falls back to the elbow when only k = 1 could be fitted', () => {
    expect(suggestK([entry(1, 0)])).toEqual({ suggestedK: 1, elbowK: 1, rule: 'only k = 1 could be fitted' });
  });
});

describe('sweepK', () => {
  // four well separated groups of three points
  const x: Matrix = {
    data: Float64Array.from([0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10, 0, 10, 0, 11, 1, 10, 10, 0, 11, 0, 10, 1]),
    rows: 12,
    cols: 2,
  };

  it('fits k = 1..maxK, measures each, and suggests the planted k', () => {
    const seen: number[] = [];
    const { sweep, fits } = sweepK(x, { seed: 3, restarts: 4, maxK: 6, onK: (e) => seen.push(e.k) });
    expect(sweep.entries.map((e) => e.k)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...fits.keys()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sweep.entries[0]).toMatchObject({ silhouette: null, daviesBouldin: null, calinskiHarabasz: null });
    expect(sweep.suggestedK).toBe(4);
    expect(sweep.elbowK).toBe(4);
    expect(sweep.entries[3]!.inertia).toBeCloseTo((4 * 4) / 3, 12); // each group: 3 points, SSE 4/3
    for (let i = 1; i < sweep.entries.length; i++) expect(sweep.entries[i]!.inertia).toBeLessThanOrEqual(sweep.entries[i - 1]!.inertia);
    expect(SweepSchema.parse(sweep)).toEqual(sweep);
  });

  it('records what ran: a full sweep on every row with the given restarts, the silhouette on every row', () => {
    const { sweep } = sweepK(x, { seed: 3, restarts: 4, maxK: 6 });
    expect(sweep).toMatchObject({ mode: 'full', rows: 12, restarts: 4, silhouetteRows: 12 });
    expect(sweepK(x, { seed: 3, maxK: 2 }).sweep.restarts).toBe(300); // defaultRestarts(12)
  });

  it('measures each silhouette on at most silhouetteRows rows', () => {
    const { sweep } = sweepK(x, { seed: 3, restarts: 2, maxK: 3, silhouetteRows: 8 });
    expect(sweep.silhouetteRows).toBe(8);
    expect(sweep.entries[1]!.silhouette).not.toBeNull();
  });

  it('stops at the number of distinct rows', () => {
    const duplicates: Matrix = { data: Float64Array.from([0, 0, 0, 5, 5, 9]), rows: 6, cols: 1 };
    expect(sweepK(duplicates, { seed: 1, maxK: 10, restarts: 2 }).sweep.entries.map((e) => e.k)).toEqual([1, 2, 3]);
  });

  it('refuses a max k below 1', () => {
    expect(() => sweepK(x, { seed: 1, maxK: 0 })).toThrow(InvalidOptionError);
  });
});

/** `n` 2-D rows in four square blobs, row i in blob i mod 4. */
function blobs(n: number): Matrix {
  const random = new Random(4);
  const centers = [0, 0, 10, 0, 0, 10, 10, 10];
  const data = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    data[i * 2] = centers[(i % 4) * 2]! + random.random();
    data[i * 2 + 1] = centers[(i % 4) * 2 + 1]! + random.random();
  }
  return { data, rows: n, cols: 2 };
}
describe('quickSweep', () => {
  const x = blobs(QUICK_SWEEP.rows * 2);

  it('fits each k on a sample of QUICK_SWEEP.rows rows with QUICK_SWEEP.restarts starts, and says so', () => {
    const sweep = quickSweep(x, { seed: 1, maxK: 6 });
    expect(sweep).toMatchObject({
      mode: 'quick',
      rows: QUICK_SWEEP.rows,
      restarts: QUICK_SWEEP.restarts,
      silhouetteRows: QUICK_SWEEP.silhouetteRows,
    });
    expect(sweep.entries.map((e) => e.k)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sweep.suggestedK).toBe(4);
    expect(SweepSchema.parse(sweep)).toEqual(sweep);
  });

  it('is the same for the same seed, and another for another seed', () => {
    expect(quickSweep(x, { seed: 1, maxK: 3 })).toEqual(quickSweep(x, { seed: 1, maxK: 3 }));
    expect(quickSweep(x, { seed: 2, maxK: 3 }).entries[1]!.inertia).not.toBe(quickSweep(x, { seed: 1, maxK: 3 }).entries[1]!.inertia);
  });

  it('fits every row of a small file', () => {
    const small = blobs(40);
    expect(quickSweep(small, { seed: 1, maxK: 5 })).toMatchObject({ rows: 40, silhouetteRows: 40, suggestedK: 4 });
  });
});

describe('fullSweep', () => {
  const x = blobs(FULL_SWEEP.rows + 500);

  it('fits each k on a sample of FULL_SWEEP.rows rows with the given restarts, the silhouette on FULL_SWEEP.silhouetteRows', () => {
    const { sweep, sampled } = fullSweep(x, { seed: 1, maxK: 2, restarts: 2 });
    expect(sweep).toMatchObject({ mode: 'full', rows: FULL_SWEEP.rows, restarts: 2, silhouetteRows: FULL_SWEEP.silhouetteRows });
    expect(sampled).toBe(true);
  });

  it('samples no more rows than the sample size, and fits every row of a small file', () => {
    expect(fullSweep(x, { seed: 1, maxK: 2, restarts: 2, sampleSize: 300 }).sweep.rows).toBe(300);
    const small = blobs(40);
    const { sweep, sampled, fits } = fullSweep(small, { seed: 1, maxK: 5, restarts: 2 });
    expect(sweep).toMatchObject({ rows: 40, silhouetteRows: 40, suggestedK: 4 });
    expect(sampled).toBe(false);
    expect(fits.get(4)!.labels).toHaveLength(40);
  });
});

describe('the sweeps and the sample order', () => {
  // the same rows as `x` reversed, with ids that travel with them
  const x = blobs(3000);
  const ids = Array.from({ length: 3000 }, (_, i) => `c${(i * 7919) % 10007}`);
  const reversed: Matrix = {
    data: Float64Array.from({ length: 6000 }, (_, j) => x.data[(2999 - (j >> 1)) * 2 + (j & 1)]!),
    rows: 3000,
    cols: 2,
  };
  const reversedIds = [...ids].reverse();

  it('sweep the first rows of the sample order, whatever order the rows come in', () => {
    const order = sampleOrder(ids, 2);
    const reversedOrder = sampleOrder(reversedIds, 2);
    const quick = quickSweep(x, { seed: 2, maxK: 4, order });
    expect(quickSweep(reversed, { seed: 2, maxK: 4, order: reversedOrder })).toEqual(quick);
    // the sample alone, with its ids: already in sample order
    const sampleIds = Array.from(order.subarray(0, QUICK_SWEEP.rows), (row) => ids[row]!);
    expect(Array.from(sampleOrder(sampleIds, 2))).toEqual(Array.from({ length: QUICK_SWEEP.rows }, (_, i) => i));
    expect(quickSweep(takeRows(x, order, QUICK_SWEEP.rows), { seed: 2, maxK: 4, order: sampleOrder(sampleIds, 2) })).toEqual(quick);
    const full = fullSweep(x, { seed: 2, maxK: 3, restarts: 2, sampleSize: 1000, order }).sweep;
    expect(fullSweep(reversed, { seed: 2, maxK: 3, restarts: 2, sampleSize: 1000, order: reversedOrder }).sweep).toEqual(full);
    expect(full.rows).toBe(1000);
  });

  it('give, on every row, the fits fitKMeans gives, with labels in row order', () => {
    const small = blobs(300);
    const order = sampleOrder(ids.slice(0, 300), 6);
    const { fits, sampled } = fullSweep(small, { seed: 6, maxK: 4, restarts: 3, order });
    expect(sampled).toBe(false);
    for (const k of [2, 4]) expect(fits.get(k)).toEqual(fitKMeans(small, k, { seed: 6, restarts: 3, order }));
  });

  it('refuse a sample size below 1', () => {
    expect(() => fullSweep(x, { seed: 1, sampleSize: 0 })).toThrow('the sample size must be a whole number ≥ 1 (got 0)');
  });
});

describe('noSweep', () => {
  it("holds the given k's own metrics and says that no sweep ran", () => {
    const sweep = noSweep(entry(5, 12.5, 0.61), 1000, 10, 400);
    expect(sweep).toEqual({
      mode: 'none',
      entries: [entry(5, 12.5, 0.61)],
      suggestedK: 5,
      elbowK: 5,
      rule: 'k = 5 was given and no sweep ran',
      rows: 1000,
      restarts: 10,
      silhouetteRows: 400,
    });
    expect(SweepSchema.parse(sweep)).toEqual(sweep);
  });
});

describe('SweepSchema', () => {
  it('reads a sweep written before the mode was recorded as the full sweep it was', () => {
    const legacy = { entries: [entry(1, 10), entry(2, 4, 0.5)], suggestedK: 2, elbowK: 2, rule: 'r', rows: 20000 };
    expect(SweepSchema.parse(legacy)).toEqual({ ...legacy, mode: 'full', restarts: null, silhouetteRows: 4000 });
    expect(SweepSchema.parse({ ...legacy, rows: 200 }).silhouetteRows).toBe(200);
  });

  it('refuses an unknown mode', () => {
    const sweep = noSweep(entry(2, 1, 0.5), 10, 1, 10);
    expect(SweepSchema.safeParse({ ...sweep, mode: 'partial' }).success).toBe(false);
  });
});
