// The report's own computations: PCA projection, stratified sample, common-bin histograms.

import { describe, expect, it } from 'vitest';
import { projectPca, segmentHistogram, scatterSample } from '../../../shared/report/analysis.ts';

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

  it('gives constant values one unit of width instead of dividing by zero', () => {
    const h = segmentHistogram(Float64Array.from([7, 7]), Int32Array.from([0, 0]), 1, 'age', 2);
    expect(h.edges).toEqual([6.5, 7, 7.5]);
    expect(h.counts).toEqual([[0, 2]]);
  });
});
