// The k sweep: elbow on a synthetic inertia curve, the suggestion rule and its sentence, and a
// sweep over toy data that stops at the number of distinct rows.

import { describe, expect, it } from 'vitest';
import { elbowK, suggestK, sweepK, SweepSchema, type SweepEntry } from '../../../shared/clustering/sweep.ts';
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

  it('stops at the number of distinct rows', () => {
    const duplicates: Matrix = { data: Float64Array.from([0, 0, 0, 5, 5, 9]), rows: 6, cols: 1 };
    expect(sweepK(duplicates, { seed: 1, maxK: 10, restarts: 2 }).sweep.entries.map((e) => e.k)).toEqual([1, 2, 3]);
  });

  it('refuses a max k below 1', () => {
    expect(() => sweepK(x, { seed: 1, maxK: 0 })).toThrow(InvalidOptionError);
  });
});
