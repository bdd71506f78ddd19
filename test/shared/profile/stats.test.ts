// Descriptive statistics: quantiles as pandas computes them (linear interpolation), the
// six-number summary, and the population mean and standard deviation.

import { describe, expect, it } from 'vitest';
import { meanStd, quantileSorted, summarize } from '../../../shared/profile/stats.ts';

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
