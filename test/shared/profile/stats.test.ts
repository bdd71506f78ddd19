// Descriptive statistics: quantiles as pandas computes them (linear interpolation), the
// six-number summary, and the population mean and standard deviation.

import { isDeepStrictEqual } from 'node:util';
import { Random } from 'ml-random';
import { describe, expect, it } from 'vitest';
import {
  ascendingByGroup,
  ascendingInPlace,
  countWholeNumbers,
  meanStd,
  quantile,
  quantileSorted,
  sortedAscending,
  sortedByGroup,
  sortNumbers,
  summarize,
  summarizeAscending,
  type Summary,
} from '../../../shared/profile/stats.ts';

describe('quantileSorted', () => {
  // reference values: pandas Series.quantile (default interpolation='linear'), /usr/bin/python3
  it('matches pandas linear interpolation on eleven values', () => {
    const sorted = Float64Array.from([2, 3, 7, 7, 9, 12, 18, 21, 30, 45, 50]);
    expect([0.25, 0.5, 0.75, 0.9].map((q) => quantileSorted(sorted, q))).toEqual([7, 12, 25.5, 45]);
    expect(quantileSorted(sorted, 0.99)).toBeCloseTo(49.5, 12);
  });

  it('matches pandas between ranks on six values', () => {
    const sorted = [1, 2, 3, 4, 7, 10];
    expect(quantileSorted(sorted, 0.25)).toBeCloseTo(2.25, 12);
    expect(quantileSorted(sorted, 0.5)).toBeCloseTo(3.5, 12);
    expect(quantileSorted(sorted, 0.75)).toBeCloseTo(6.25, 12);
    expect(quantileSorted(sorted, 0.9)).toBeCloseTo(8.5, 12);
    expect(quantileSorted(sorted, 0.99)).toBeCloseTo(9.85, 12);
  });

  it('matches pandas on two values and on one', () => {
    expect([0.25, 0.5, 0.75].map((q) => quantileSorted([1, 4], q))).toEqual([1.75, 2.5, 3.25]);
    expect(quantileSorted([1, 4], 0.99)).toBeCloseTo(3.97, 12);
    expect([0, 0.5, 1].map((q) => quantileSorted([5], q))).toEqual([5, 5, 5]);
  });

  it('gives the minimum at q = 0 and the maximum at q = 1', () => {
    expect(quantileSorted([-3, 0, 8], 0)).toBe(-3);
    expect(quantileSorted([-3, 0, 8], 1)).toBe(8);
  });

  it('is NaN for no values', () => {
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('gives min, p25, median, mean, p75 and max of unsorted values', () => {
    const summary = summarize(Float64Array.from([12, 3, 45, 7, 7, 30, 21, 18, 9, 2, 50]));
    expect(summary).toEqual({ min: 2, p25: 7, median: 12, mean: 204 / 11, p75: 25.5, max: 50 });
  });

  it('reports the real maximum in the max row, not the minimum', () => {
    const summary = summarize(Float64Array.from([40, 18, 70, 33]));
    expect(summary.max).toBe(70);
    expect(summary.min).toBe(18);
    expect(summary.max).toBeGreaterThan(summary.p75);
  });

  it('orders numbers numerically, with negatives and multi-digit values', () => {
    const summary = summarize(Float64Array.from([10, -5, 2, 100, 9]));
    expect([summary.min, summary.median, summary.max]).toEqual([-5, 9, 100]);
  });

  it('does not reorder the caller’s array', () => {
    const values = Float64Array.from([3, 1, 2]);
    summarize(values);
    expect(Array.from(values)).toEqual([3, 1, 2]);
  });

  it('summarises a single value', () => {
    expect(summarize(Float64Array.from([42]))).toEqual({ min: 42, p25: 42, median: 42, mean: 42, p75: 42, max: 42 });
  });
});

describe('meanStd', () => {
  it('uses the population standard deviation', () => {
    const { mean, std } = meanStd(Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9]));
    expect(mean).toBe(5);
    expect(std).toBe(2); // sample std would be 2.138…
  });

  it('is 0 and 0 for no values', () => {
    expect(meanStd(new Float64Array(0))).toEqual({ mean: 0, std: 0 });
  });
});

// The fast paths (counting whole numbers, radix-sorting the rest) promise the figures a sorted
// copy gives, bit for bit: checked against that reference on large random columns.

/** The reference: a sorted copy, read at ranks and summed in order (as summarize did before). */
function bySorting(values: Float64Array): { sorted: Float64Array; summary: Summary } {
  const sorted = new Float64Array(values).sort();
  const at = (q: number): number => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.min(low + 1, sorted.length - 1);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    sorted,
    summary: { min: sorted[0]!, p25: at(0.25), median: at(0.5), mean: sum / sorted.length, p75: at(0.75), max: sorted[sorted.length - 1]! },
  };
}

/** Whether two results are the same to the bit (−0 is not 0). */
const identical = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

const N = 30_000;
const column = (seed: number, draw: (random: Random, i: number) => number, n = N): Float64Array => {
  const random = new Random(seed);
  return Float64Array.from({ length: n }, (_, i) => draw(random, i));
};
const SPECIAL = [0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-310, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE];

const FLOAT_COLUMNS: Record<string, Float64Array> = {
  'uniform, both signs': column(1, (r) => (r.random() - 0.5) * 2000),
  'drawn from 300 values (duplicates)': column(2, (r) => Math.floor(r.random() * 300) / 7),
  'distances (square roots, many octaves)': column(3, (r) => Math.sqrt(r.random() * r.random() * 9)),
  'within a billionth of one value (high words shared)': column(4, (r) => 1 + r.random() * 1e-9),
  'descending within a millionth': column(5, (_, i) => 1 + (N - i) * 1e-15),
  'zeros of both signs, infinities, subnormals': column(
    6,
    (r) => SPECIAL[Math.floor(r.random() * SPECIAL.length)]! * (r.random() < 0.5 ? 1 : r.random()),
  ),
  'negative only': column(7, (r) => -r.random() * 1e6),
  'whole numbers beyond the counted range': column(8, (r) => Math.floor(r.random() * 1e7)),
  'already sorted': column(9, (_, i) => i / 3),
  'small whole numbers and −0': column(15, (r) => (r.random() < 0.3 ? -0 : Math.floor(r.random() * 10))),
};

describe('sortNumbers', () => {
  for (const [name, values] of Object.entries(FLOAT_COLUMNS)) {
    it(`puts values in the order of Float64Array.prototype.sort: ${name}`, () => {
      expect(identical(sortNumbers(values.slice()), values.slice().sort())).toBe(true);
    });
  }

  it('sorts with a NaN present as the built-in sort does (NaN last)', () => {
    const values = column(10, (r) => (r.random() < 0.01 ? Number.NaN : r.random()));
    expect(identical(sortNumbers(values.slice()), values.slice().sort())).toBe(true);
  });

  it('sorts short arrays, empty ones, and uses a scratch array of any length', () => {
    expect(Array.from(sortNumbers(Float64Array.from([3, -0, 0, -1])))).toEqual([-1, -0, 0, 3]);
    expect(sortNumbers(new Float64Array(0))).toHaveLength(0);
    const values = FLOAT_COLUMNS['uniform, both signs']!;
    for (const scratch of [new Float64Array(10), new Float64Array(N + 5)]) {
      expect(identical(sortNumbers(values.slice(), scratch), values.slice().sort())).toBe(true);
    }
  });
});

describe('ascending values (counted or sorted)', () => {
  const groupsOf = (seed: number, k: number): Int32Array => Int32Array.from(column(seed, (r) => Math.floor(r.random() * k)));
  const WHOLE_COLUMNS: Record<string, Float64Array> = {
    'ages 18–70': column(11, (r) => 18 + Math.floor(r.random() * 53)),
    'scores 0–120 with 255': column(12, (r) => (r.random() < 0.001 ? 255 : Math.floor(r.random() * 121))),
    'whole numbers −3000..3000': column(13, (r) => Math.floor(r.random() * 6001) - 3000),
    'one value': column(14, () => 42),
  };

  for (const [name, values] of Object.entries({ ...WHOLE_COLUMNS, ...FLOAT_COLUMNS })) {
    it(`gives each group the sorted copy's summary, quantiles and counts below, to the bit: ${name}`, () => {
      const k = 5;
      const groups = groupsOf(20, k);
      const { byGroup: ascending, all } = ascendingByGroup(values, groups, k);
      expect(ascending).toHaveLength(k);
      ascending.forEach((group, g) => {
        const { sorted, summary } = bySorting(values.filter((_, i) => groups[i] === g));
        expect(group.length).toBe(sorted.length);
        if (!Number.isNaN(summary.mean)) expect(identical(summarizeAscending(group), summary)).toBe(true);
        for (const q of [0, 0.1, 0.37, 0.9, 0.99, 1]) expect(identical(quantile(group, q), quantileSorted(sorted, q))).toBe(true);
        for (const rank of [0, 1, sorted.length >> 1, sorted.length - 1]) expect(identical(group.at(rank), sorted[rank])).toBe(true);
        for (const x of [sorted[0]!, sorted[100]!, sorted[100]! + 0.5, sorted[sorted.length - 1]!, -Infinity, Infinity]) {
          expect(group.countBelow(x)).toBe(sorted.filter((v) => v < x).length);
        }
      });
      const { sorted, summary } = bySorting(values);
      for (const whole of [ascendingInPlace(values.slice()), ...(all === null ? [] : [all])]) {
        if (!Number.isNaN(summary.mean)) expect(identical(summarizeAscending(whole), summary)).toBe(true);
        for (const q of [0.1, 0.5, 0.9]) expect(identical(quantile(whole, q), quantileSorted(sorted, q))).toBe(true);
        expect(whole.countBelow(sorted[500]!)).toBe(sorted.filter((v) => v < sorted[500]!).length);
      }
      if (name in WHOLE_COLUMNS) expect(all).not.toBeNull();
    });
  }

  it('counts whole numbers (not −0, within a small range), and leaves the rest to sorting', () => {
    for (const values of Object.values(WHOLE_COLUMNS)) expect(countWholeNumbers(values, null, 1)).not.toBeNull();
    expect(countWholeNumbers(Float64Array.from([1, 2, 2.5]), null, 1)).toBeNull();
    expect(countWholeNumbers(Float64Array.from([1, -0, 3]), null, 1)).toBeNull();
    expect(countWholeNumbers(Float64Array.from([0, 100_000]), null, 1)).toBeNull();
    expect(countWholeNumbers(Float64Array.from([2 ** 31, 2 ** 31 + 1]), null, 1)).toBeNull();
    expect(countWholeNumbers(new Float64Array(0), null, 1)).toBeNull();
  });

  it('sorts many groups, and groups holding a NaN, as the built-in sort does', () => {
    for (const k of [1, 2, 256, 300]) {
      const values = FLOAT_COLUMNS['distances (square roots, many octaves)']!;
      const groups = groupsOf(21, k);
      sortedByGroup(values, groups, k).forEach((group, g) => {
        expect(identical(group, values.filter((_, i) => groups[i] === g).sort())).toBe(true);
      });
    }
    const withNaN = column(22, (r) => (r.random() < 0.001 ? Number.NaN : r.random()));
    const groups = groupsOf(23, 3);
    sortedByGroup(withNaN, groups, 3).forEach((group, g) => {
      expect(identical(group, withNaN.filter((_, i) => groups[i] === g).sort())).toBe(true);
    });
  });

  it('groups values in value order within each group, into the buffer given', () => {
    const into = new Float64Array(6);
    const sorted = sortedByGroup(Float64Array.from([5, 1, 4, 2, 3, 0]), Int32Array.from([1, 0, 1, 0, 1, 2]), 4, into);
    expect(sorted.map((g) => Array.from(g))).toEqual([[1, 2], [3, 4, 5], [0], []]);
    expect(sorted[0]!.buffer).toBe(into.buffer);
  });

  it('summarises a group that arrives sorted', () => {
    expect(summarizeAscending(sortedAscending(Float64Array.from([1, 2, 3, 4, 7, 10])))).toEqual({
      min: 1,
      p25: 2.25,
      median: 3.5,
      mean: 27 / 6,
      p75: 6.25,
      max: 10,
    });
  });
});
