// The report's own computations: PCA projection, stratified sample, common-bin histograms.

import { describe, expect, it } from 'vitest';
import { quantileSorted } from '../../../shared/profile/stats.ts';
import { projectPca, quantiles, segmentHistogram, scatterSample } from '../../../shared/report/analysis.ts';

/** A small deterministic generator (Park–Miller), so the cases below are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

const matrix = (rows: readonly (readonly number[])[]) => ({
  data: Float64Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

describe('projectPca', () => {
  it('finds the direction of points on a line, with all the variance, and the largest loading positive', () => {
    // points on y = −2x: PC1 = ±(1, −2)/√5; the sign makes the larger |loading| (−2) positive
    const x = matrix([
      [0, 0],
      [1, -2],
      [2, -4],
      [3, -6],
    ]);
    const p = projectPca(x, [[1.5, -3]]);
    expect(p.explained[0]).toBeCloseTo(1, 12);
    expect(p.explained[1]).toBeCloseTo(0, 12);
    expect(p.loadings[0][0]).toBeCloseTo(-1 / Math.sqrt(5), 12);
    expect(p.loadings[0][1]).toBeCloseTo(2 / Math.sqrt(5), 12);
    // scores are centred: the mean point (1.5, −3) projects to 0
    expect(p.centroids[0]![0]).toBeCloseTo(0, 12);
    expect(Array.from(p.pc1, (v) => Number(v.toFixed(9)))).toEqual([-3.354101966, -1.118033989, 1.118033989, 3.354101966].map((v) => -v));
  });

  it('handles one column (no second component) and constant data (no variance)', () => {
    const one = projectPca(matrix([[1], [2], [3]]), [[2]]);
    expect(one.explained).toEqual([1, 0]);
    expect(Array.from(one.pc2)).toEqual([0, 0, 0]);
    const flat = projectPca(
      matrix([
        [5, 5],
        [5, 5],
      ]),
      [[5, 5]],
    );
    expect(flat.explained).toEqual([0, 0]);
    expect(Array.from(flat.pc1)).toEqual([0, 0]);
  });
});

describe('scatterSample', () => {
  it('keeps everybody when there are no more customers than points', () => {
    expect(Array.from(scatterSample(Int32Array.from([1, 0, 1]), 2, 3))).toEqual([0, 1, 2]);
  });

  it('takes each segment in proportion to its size, evenly spaced, in ascending order', () => {
    // 60 customers of segment 0 and 30 of segment 1, alternating 0, 0, 1; 30 points → 20 and 10
    const labels = Int32Array.from({ length: 90 }, (_, i) => (i % 3 === 2 ? 1 : 0));
    const sample = scatterSample(labels, 2, 30);
    expect(sample.length).toBe(30);
    expect(Array.from(sample).filter((i) => labels[i] === 0).length).toBe(20);
    expect(Array.from(sample).filter((i) => labels[i] === 1).length).toBe(10);
    expect(Array.from(sample)).toEqual([...sample].sort((a, b) => a - b));
    expect(new Set(sample).size).toBe(30);
    expect(Array.from(scatterSample(labels, 2, 30))).toEqual(Array.from(sample));
  });

  it('picks exactly the members the per-segment lists did: rank ⌊(j + ½)·size / quota⌋ of each segment', () => {
    const next = random(3);
    for (const [n, k, maxPoints] of [
      [5000, 5, 700],
      [1234, 7, 100],
      [999, 3, 998],
    ] as const) {
      const labels = Int32Array.from({ length: n }, () => Math.floor(next() ** 2 * k));
      const members: number[][] = Array.from({ length: k }, () => []);
      labels.forEach((l, i) => members[l]!.push(i));
      const sample = scatterSample(labels, k, maxPoints);
      expect(sample.length).toBe(maxPoints);
      members.forEach((m, c) => {
        const mine = Array.from(sample).filter((i) => labels[i] === c);
        expect(mine).toEqual(mine.map((_, j) => m[Math.floor(((j + 0.5) * m.length) / mine.length)]));
      });
    }
  });

  it('keeps at least one customer of a tiny segment', () => {
    const labels = Int32Array.from({ length: 1000 }, (_, i) => (i === 500 ? 1 : 0));
    const sample = scatterSample(labels, 2, 10);
    expect(sample.length).toBe(10);
    expect(Array.from(sample)).toContain(500);
  });
});

describe('segmentHistogram', () => {
  it('bins every segment on the same equal-width bins over all values, the maximum in the last bin', () => {
    // bins [0, 2) [2, 4) [4, 6) [6, 8) [8, 10]: segment 0 has 0 and 1, segment 1 has 2, 3 | 4 | 10
    const h = segmentHistogram(Float64Array.from([0, 1, 2, 3, 4, 10]), Int32Array.from([0, 0, 1, 1, 1, 1]), 2, 'age', 5);
    expect(h.edges).toEqual([0, 2, 4, 6, 8, 10]);
    expect(h.counts).toEqual([
      [2, 0, 0, 0, 0],
      [0, 2, 1, 0, 1],
    ]);
  });

  it('counts whole numbers value by value into the same bins as every customer binned alone', () => {
    const next = random(5);
    const n = 5000;
    const labels = Int32Array.from({ length: n }, () => Math.floor(next() * 4));
    for (const values of [
      Float64Array.from({ length: n }, () => 18 + Math.floor(next() * 63)),
      Float64Array.from({ length: n }, () => Math.floor(next() * 140) / 2),
    ]) {
      const h = segmentHistogram(values, labels, 4, 'age');
      const width = (h.edges[20]! - h.edges[0]!) / 20;
      const expected = Array.from({ length: 4 }, () => new Array<number>(20).fill(0));
      values.forEach((v, i) => expected[labels[i]!]![Math.min(19, Math.floor((v - h.edges[0]!) / width))]!++);
      expect(h.counts).toEqual(expected);
    }
  });

  it('bins a log1p feature equally in log1p, edges in the values, counted alike for whole numbers', () => {
    // log1p of 0, 5, 50, 500, 999: 0, 1.79, 3.93, 6.22, 6.91; three bins of log1p(999) / 3 = 2.303
    // end at expm1(2.303) = 9 and expm1(4.605) = 99: bins [0, 9) [9, 99) [99, 999]
    const h = segmentHistogram(Float64Array.from([0, 5, 50, 500, 999]), Int32Array.from([0, 0, 1, 1, 0]), 2, 'fresh', 3, true);
    expect(h.log1p).toBe(true);
    expect(h.edges[0]).toBe(0);
    expect(h.edges[1]).toBeCloseTo(9, 10);
    expect(h.edges[2]).toBeCloseTo(99, 10);
    expect(h.edges[3]).toBe(999);
    expect(h.counts).toEqual([
      [2, 0, 1],
      [0, 1, 1],
    ]);
    const next = random(9);
    const labels = Int32Array.from({ length: 3000 }, () => Math.floor(next() * 3));
    // whole amounts up to 403 over 3,000 customers: counted value by value, as each customer binned alone
    const money = Float64Array.from({ length: 3000 }, () => Math.round(Math.exp(next() * 6)));
    const whole = segmentHistogram(money, labels, 3, 'fresh', 20, true);
    const low = Math.log1p(Math.min(...money));
    const width = (Math.log1p(Math.max(...money)) - low) / 20;
    const expected = Array.from({ length: 3 }, () => new Array<number>(20).fill(0));
    money.forEach((v, i) => expected[labels[i]!]![Math.min(19, Math.floor((Math.log1p(v) - low) / width))]!++);
    expect(whole.counts).toEqual(expected);
  });

  it('gives constant values one unit of width instead of dividing by zero', () => {
    const h = segmentHistogram(Float64Array.from([7, 7]), Int32Array.from([0, 0]), 1, 'age', 2);
    expect(h.edges).toEqual([6.5, 7, 7.5]);
    expect(h.counts).toEqual([[0, 2]]);
  });
});

describe('quantiles', () => {
  const sortedQuantiles = (values: Float64Array, qs: readonly number[]) => {
    const sorted = Float64Array.from(values).sort();
    return qs.map((q) => quantileSorted(sorted, q));
  };
  const QS = [0, 0.1, 0.25, 1 / 3, 0.5, 2 / 3, 0.9, 1];

  it('gives quantileSorted’s numbers on whole numbers (counted) and on decimals (selected)', () => {
    const next = random(11);
    for (const n of [1, 2, 3, 10, 601, 5000]) {
      const ages = Float64Array.from({ length: n }, () => 18 + Math.floor(next() * 60));
      const incomes = Float64Array.from({ length: n }, () => Math.round(next() * 15000) / 100);
      const wide = Float64Array.from({ length: n }, () => Math.floor(next() * 1e7));
      for (const values of [ages, incomes, wide]) expect(quantiles(values, QS)).toEqual(sortedQuantiles(values, QS));
    }
  });

  it('handles many ties and leaves its input alone', () => {
    const values = Float64Array.from({ length: 2000 }, (_, i) => (i % 7 === 0 ? 3.5 : i % 2));
    const copy = Float64Array.from(values);
    expect(quantiles(values, QS)).toEqual(sortedQuantiles(values, QS));
    expect(values).toEqual(copy);
    expect(quantiles(new Float64Array(0), [0.5])).toEqual([Number.NaN]);
  });
});
