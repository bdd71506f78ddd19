// K-means on row-major matrices: exact inertia on toy data, input checks with actionable
// messages, reproducibility for a seed, restarts keeping the lowest inertia, the large-data path
// (restarts on a sample, refinement on all rows), and the refinement's Lloyd loop against ml-kmeans's.

import { describe, expect, it } from 'vitest';
import { kmeans as mlKMeans } from 'ml-kmeans';
import { Random } from 'ml-random';
import {
  assignToCentroids,
  checkClusterable,
  countDistinctRows,
  defaultRestarts,
  fitKMeans,
  KMEANS_DEFAULTS,
  kmeansPlusPlus,
  randomFor,
  inOrder,
  refineLloyd,
  takeRows,
} from '../../../shared/clustering/kmeans.ts';
import { rowNumberOrder, sampleOrder } from '../../../shared/clustering/sample-order.ts';
import { centroidDistances } from '../../../shared/clustering/metrics.ts';
import { ClusteringError, InvalidOptionError } from '../../../shared/errors.ts';
import type { Matrix } from '../../../shared/features/encode.ts';

const matrix = (rows: number[][]): Matrix => ({
  data: Float64Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]?.length ?? 0,
});

// two tight pairs, far apart: k = 2 puts each pair in a segment, each point 0.5 from its centroid
const PAIRS = matrix([
  [0, 0],
  [0, 1],
  [10, 0],
  [10, 1],
]);

// 1-D points where one k-means++ start can settle in a poor local minimum for k = 3
const TRAP = matrix([[0], [1], [10], [11], [20], [21], [40]]);

/** `n` 2-D points in three overlapping square blobs around (0, 0), (6, 0) and (3, 5), row i in blob i mod 3. */
function blobs(n: number, seed: number): Matrix {
  const random = new Random(seed);
  const centers = [0, 0, 6, 0, 3, 5];
  const data = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = (i % 3) * 2;
    data[i * 2] = centers[c]! + 8 * (random.random() - 0.5);
    data[i * 2 + 1] = centers[c + 1]! + 8 * (random.random() - 0.5);
  }
  return { data, rows: n, cols: 2 };
}

/** A matrix as ml-kmeans takes it (rows as arrays), and row-major centroids as its initialization. */
const rowsOf = (data: Float64Array, d: number): number[][] =>
  Array.from({ length: data.length / d }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));

/** Lowest k-means inertia of 1-D sorted points over every split into k contiguous groups. */
function bestContiguousInertia(values: number[], k: number): number {
  const sse = (part: number[]): number => {
    const m = part.reduce((a, b) => a + b, 0) / part.length;
    return part.reduce((a, v) => a + (v - m) ** 2, 0);
  };
  if (k === 1) return sse(values);
  let best = Number.POSITIVE_INFINITY;
  for (let cut = 1; cut <= values.length - k + 1; cut++)
    best = Math.min(best, sse(values.slice(0, cut)) + bestContiguousInertia(values.slice(cut), k - 1));
  return best;
}

describe('fitKMeans', () => {
  it('finds the two tight pairs with inertia exactly 4 × 0.5² = 1', () => {
    const fit = fitKMeans(PAIRS, 2, { seed: 1 });
    expect(fit.inertia).toBe(1);
    expect(fit.labels[0]).toBe(fit.labels[1]);
    expect(fit.labels[2]).toBe(fit.labels[3]);
    expect(fit.labels[0]).not.toBe(fit.labels[2]);
    const centroids = [Array.from(fit.centroids.subarray(0, 2)), Array.from(fit.centroids.subarray(2, 4))].sort((a, b) => a[0]! - b[0]!);
    expect(centroids).toEqual([
      [0, 0.5],
      [10, 0.5],
    ]);
    expect(fit.converged).toBe(true);
  });

  it('with k = 1 puts the centroid at the mean: inertia 4 × 25 + 4 × 0.25 = 101', () => {
    const fit = fitKMeans(PAIRS, 1, { seed: 1 });
    expect(Array.from(fit.centroids)).toEqual([5, 0.5]);
    expect(fit.inertia).toBe(101);
    expect(Array.from(fit.labels)).toEqual([0, 0, 0, 0]);
  });

  it('gives inertia 0 when k equals the number of distinct rows', () => {
    const fit = fitKMeans(
      matrix([
        [1, 2],
        [3, 4],
        [1, 2],
        [5, 6],
      ]),
      3,
      { seed: 3 },
    );
    expect(fit.inertia).toBe(0);
    expect(fit.labels[0]).toBe(fit.labels[2]);
  });

  it('fits a single row with k = 1', () => {
    const fit = fitKMeans(matrix([[7, 8, 9]]), 1, { seed: 1 });
    expect(Array.from(fit.centroids)).toEqual([7, 8, 9]);
    expect(fit.inertia).toBe(0);
  });

  it('fits a single column, and a constant column does not disturb the clusters', () => {
    const oneColumn = fitKMeans(matrix([[0], [1], [10], [11]]), 2, { seed: 5 });
    expect(oneColumn.inertia).toBe(1);
    const withConstant = fitKMeans(
      matrix([
        [0, 3],
        [1, 3],
        [10, 3],
        [11, 3],
      ]),
      2,
      { seed: 5 },
    );
    expect(withConstant.inertia).toBe(1);
  });

  it('reports an inertia equal to the sum of squared distances to the nearest returned centroid', () => {
    const fit = fitKMeans(TRAP, 3, { seed: 4, restarts: 3 });
    const { inertia, labels } = assignToCentroids(TRAP, fit.centroids, 3);
    expect(fit.inertia).toBe(inertia);
    expect(Array.from(fit.labels)).toEqual(Array.from(labels));
  });

  it('gives an identical result for the same seed', () => {
    const a = fitKMeans(TRAP, 3, { seed: 11, restarts: 4 });
    const b = fitKMeans(TRAP, 3, { seed: 11, restarts: 4 });
    expect(b).toEqual(a);
  });

  it('keeps the start with the lowest inertia: more restarts never do worse', () => {
    const inertias = [1, 2, 3, 4, 5, 6, 7, 8].map((restarts) => fitKMeans(TRAP, 3, { seed: 1, restarts }).inertia);
    for (let r = 1; r < inertias.length; r++) expect(inertias[r]).toBeLessThanOrEqual(inertias[r - 1]!);
  });

  it('escapes a poor local minimum with restarts and reaches the optimum', () => {
    const optimum = bestContiguousInertia([0, 1, 10, 11, 20, 21, 40], 3); // 101.5
    expect(optimum).toBe(101.5);
    // seed 0 found by trying seeds (since the starts take the rows in sample order): its first start
    // ends in a local minimum (121.33…)
    const single = fitKMeans(TRAP, 3, { seed: 0, restarts: 1 });
    const several = fitKMeans(TRAP, 3, { seed: 0, restarts: 8 });
    expect(single.inertia).toBeGreaterThan(optimum + 1);
    expect(several.inertia).toBeCloseTo(optimum, 10);
    expect(several.bestRestart).toBeGreaterThan(0);
  });

  it('refuses k larger than the number of distinct rows, saying how many there are', () => {
    const duplicates = matrix([
      [1, 1],
      [1, 1],
      [2, 2],
      [2, 2],
    ]);
    expect(() => fitKMeans(duplicates, 3, { seed: 1 })).toThrow(ClusteringError);
    expect(() => fitKMeans(duplicates, 3, { seed: 1 })).toThrow('k = 3 but the data has only 2 distinct customers; choose k ≤ 2');
    expect(() => fitKMeans(matrix([[1], [1]]), 2, { seed: 1 })).toThrow('only 1 distinct customer;');
  });

  it('refuses k < 1 and a k that is not whole', () => {
    expect(() => fitKMeans(PAIRS, 0, { seed: 1 })).toThrow(InvalidOptionError);
    expect(() => fitKMeans(PAIRS, -2, { seed: 1 })).toThrow(/k must be a whole number ≥ 1 \(got -2\)/);
    expect(() => fitKMeans(PAIRS, 1.5, { seed: 1 })).toThrow(InvalidOptionError);
  });

  it('refuses NaN and infinite values, naming the row and column', () => {
    const x = matrix([
      [0, 0],
      [1, Number.NaN],
      [2, 2],
    ]);
    expect(() => fitKMeans(x, 1, { seed: 1 })).toThrow(ClusteringError);
    expect(() => fitKMeans(x, 1, { seed: 1 })).toThrow('row 2 has a missing or non-finite value in column 2');
    expect(() => fitKMeans(matrix([[Number.POSITIVE_INFINITY]]), 1, { seed: 1 })).toThrow(/row 1 .* column 1/);
  });

  it('refuses empty input', () => {
    expect(() => fitKMeans({ data: new Float64Array(0), rows: 0, cols: 2 }, 1, { seed: 1 })).toThrow(/no rows to cluster/);
    expect(() => fitKMeans({ data: new Float64Array(0), rows: 3, cols: 0 }, 1, { seed: 1 })).toThrow(/no feature columns/);
  });

  it('refuses a seed that is not whole and restarts or iterations below 1', () => {
    expect(() => fitKMeans(PAIRS, 2, { seed: 0.5 })).toThrow(InvalidOptionError);
    expect(() => fitKMeans(PAIRS, 2, { seed: 1, restarts: 0 })).toThrow(/restarts must be ≥ 1/);
    expect(() => fitKMeans(PAIRS, 2, { seed: 1, maxIterations: 0 })).toThrow(/max iterations must be ≥ 1/);
  });

  it('refuses a negative or non-finite tolerance', () => {
    expect(() => fitKMeans(PAIRS, 2, { seed: 1, tolerance: -1 })).toThrow('tolerance must be a number ≥ 0 (got -1)');
    expect(() => fitKMeans(PAIRS, 2, { seed: 1, tolerance: Number.NaN })).toThrow(InvalidOptionError);
  });

  it('runs the starts on all rows when there are no more than the sample size', () => {
    const fit = fitKMeans(TRAP, 3, { seed: 2, restarts: 3, sampleSize: 7 });
    expect(fit.sample).toBeNull();
    expect(fitKMeans(TRAP, 3, { seed: 2, restarts: 3 })).toEqual(fit);
  });
});

describe('fitKMeans above the sample size (500 rows, a sample of 100)', () => {
  const x = blobs(500, 21);
  const options = { seed: 5, restarts: 4, sampleSize: 100 };
  const fit = fitKMeans(x, 3, options);

  it('runs the starts on a sample of that many rows, then labels every row', () => {
    expect(fit.sample?.rows).toBe(100);
    expect(fit.labels).toHaveLength(500);
    const sizes = new Int32Array(3);
    for (const l of fit.labels) sizes[l]!++;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(500);
    expect(Math.min(...sizes)).toBeGreaterThan(0);
  });

  it('draws the sample and the starts from the seed alone', () => {
    expect(fitKMeans(x, 3, options)).toEqual(fit);
    expect(fitKMeans(x, 3, { ...options, seed: 6 }).sample!.centroids).not.toEqual(fit.sample!.centroids);
  });

  it('gives the labels and inertia of all rows for the final centroids', () => {
    const all = assignToCentroids(x, fit.centroids, 3);
    expect(Array.from(fit.labels)).toEqual(Array.from(all.labels));
    expect(fit.inertia).toBe(all.inertia);
  });

  it("ends where ml-kmeans run on all rows from the winning start's centroids ends", () => {
    const direct = mlKMeans(rowsOf(x.data, 2), 3, {
      initialization: rowsOf(fit.sample!.centroids, 2),
      maxIterations: KMEANS_DEFAULTS.maxIterations,
      tolerance: KMEANS_DEFAULTS.tolerance,
    });
    expect(Array.from(fit.centroids)).toEqual(direct.centroids.flat());
    expect(Array.from(fit.labels)).toEqual(direct.clusters);
    expect(fit.converged).toBe(direct.converged);
  });

  it("gives each row's distance to its centroid, measured on the way", () => {
    expect(Array.from(fit.distances!)).toEqual(Array.from(centroidDistances(x, fit.labels, fit.centroids)));
    expect(fitKMeans(TRAP, 3, { seed: 2, restarts: 3 }).distances).toBeNull();
  });

  it("moves the sample's centroids, and lowers the all-row inertia they give", () => {
    expect(Array.from(fit.centroids)).not.toEqual(Array.from(fit.sample!.centroids));
    expect(fit.inertia).toBeLessThan(assignToCentroids(x, fit.sample!.centroids, 3).inertia);
  });

  it('refuses a sample size below k or not whole', () => {
    expect(() => fitKMeans(x, 3, { seed: 1, sampleSize: 2 })).toThrow('the sample size must be a whole number ≥ k = 3 (got 2)');
    expect(() => fitKMeans(x, 3, { seed: 1, sampleSize: 100.5 })).toThrow(InvalidOptionError);
  });
});

describe('defaultRestarts', () => {
  it('spends about 200,000 row-fits, between 10 and 300 starts, counting only the sampled rows', () => {
    expect(defaultRestarts(200)).toBe(300);
    expect(defaultRestarts(1_000)).toBe(200);
    expect(defaultRestarts(5_000)).toBe(40);
    expect(defaultRestarts(20_000)).toBe(10);
    expect(defaultRestarts(1_000_000)).toBe(10);
    expect(defaultRestarts(50_000, 5_000)).toBe(40);
    expect(defaultRestarts(500, 100)).toBe(300);
  });
});

describe('takeRows', () => {
  it('takes the rows of an order, in that order', () => {
    const x = matrix(Array.from({ length: 6 }, (_, i) => [i, 10 * i]));
    expect(takeRows(x, Int32Array.from([4, 0, 5, 1]), 3)).toEqual(
      matrix([
        [4, 40],
        [0, 0],
        [5, 50],
      ]),
    );
    expect(takeRows(x, Int32Array.from([4, 0]), 0)).toEqual({ data: new Float64Array(0), rows: 0, cols: 2 });
  });

  it('returns the matrix itself for all of its rows in their own order', () => {
    expect(takeRows(PAIRS, inOrder(4), 4)).toBe(PAIRS);
    expect(takeRows(PAIRS, inOrder(4), 3)).not.toBe(PAIRS);
  });

  it('refuses more rows than the order holds, or an order naming rows the data has not', () => {
    expect(() => takeRows(PAIRS, inOrder(2), 3)).toThrow('3 rows wanted from an order of 2');
    expect(() => takeRows(PAIRS, Int32Array.from([0, 9]), 2)).toThrow(InvalidOptionError);
  });
});

describe('fitKMeans and the sample order', () => {
  // 300 rows whose ids are not their row numbers; the same rows reversed, with the order of their ids
  const x = blobs(300, 4);
  const ids = Array.from({ length: 300 }, (_, i) => `id-${(i * 7919) % 1000}`);
  const reversedIds = [...ids].reverse();
  const reversed: Matrix = {
    data: Float64Array.from({ length: 600 }, (_, j) => x.data[(299 - (j >> 1)) * 2 + (j & 1)]!),
    rows: 300,
    cols: 2,
  };
  const reversedLabels = (labels: Int32Array): number[] => Array.from(labels).reverse();

  it('gives the same fit whatever order the rows come in, all rows fitted in sample order', () => {
    const a = fitKMeans(x, 3, { seed: 3, restarts: 3, order: sampleOrder(ids, 3) });
    const b = fitKMeans(reversed, 3, { seed: 3, restarts: 3, order: sampleOrder(reversedIds, 3) });
    expect(a.sample).toBeNull();
    expect(Array.from(b.centroids)).toEqual(Array.from(a.centroids));
    expect(b.inertia).toBe(a.inertia);
    expect(reversedLabels(b.labels)).toEqual(Array.from(a.labels));
    // the labels are in row order: each row's nearest centroid
    expect(Array.from(a.labels)).toEqual(Array.from(assignToCentroids(x, a.centroids, 3).labels));
  });

  it('runs the starts on the first rows of the order: the same start from the rows alone, in that order', () => {
    const order = sampleOrder(ids, 3, 100);
    const a = fitKMeans(x, 3, { seed: 3, restarts: 3, sampleSize: 100, order });
    const b = fitKMeans(reversed, 3, { seed: 3, restarts: 3, sampleSize: 100, order: sampleOrder(reversedIds, 3, 100) });
    const alone = fitKMeans(takeRows(x, order, 100), 3, { seed: 3, restarts: 3, order: inOrder(100) });
    expect(Array.from(a.sample!.centroids)).toEqual(Array.from(alone.centroids));
    expect(Array.from(b.sample!.centroids)).toEqual(Array.from(alone.centroids));
    expect(a.sample!.inertia).toBe(alone.inertia);
    for (let j = 0; j < 6; j++) expect(b.centroids[j]).toBeCloseTo(a.centroids[j]!, 12);
    expect(reversedLabels(b.labels)).toEqual(Array.from(a.labels));
  });

  it("refines each start as ml-kmeans does: the first start's fit is ml-kmeans's from the same seeds", () => {
    for (const k of [2, 3, 5]) {
      const fit = fitKMeans(x, k, { seed: 9, restarts: 1, order: inOrder(300) });
      const seeds = kmeansPlusPlus(x, k, randomFor(9, k));
      const direct = mlKMeans(rowsOf(x.data, 2), k, {
        initialization: rowsOf(seeds, 2),
        maxIterations: KMEANS_DEFAULTS.maxIterations,
        tolerance: KMEANS_DEFAULTS.tolerance,
      });
      expect(Array.from(fit.centroids)).toEqual(direct.centroids.flat());
      expect(Array.from(fit.labels)).toEqual(direct.clusters);
      expect(fit).toMatchObject({ iterations: direct.iterations, converged: direct.converged });
    }
  });

  it('takes the order of the row numbers by default', () => {
    expect(fitKMeans(x, 3, { seed: 8, restarts: 2 })).toEqual(fitKMeans(x, 3, { seed: 8, restarts: 2, order: rowNumberOrder(300, 8) }));
  });

  it('refuses an order shorter than the sample', () => {
    expect(() => fitKMeans(x, 3, { seed: 1, sampleSize: 100, order: inOrder(99) })).toThrow(
      'the sample order holds 99 rows; 100 are needed',
    );
  });
});

describe('refineLloyd', () => {
  it('moves each centroid to the mean of its rows and stops when none moves: PAIRS from (0, 0) and (10, 0)', () => {
    const result = refineLloyd(PAIRS, Float64Array.from([0, 0, 10, 0]), 2, 300, 0);
    expect(Array.from(result.centroids)).toEqual([0, 0.5, 10, 0.5]);
    expect(result).toMatchObject({ iterations: 2, converged: true });
  });

  it("takes ml-kmeans's steps from the same start: centroids bit for bit, iterations and convergence", () => {
    const x = blobs(300, 8);
    const k = 4;
    const start = kmeansPlusPlus(x, k, randomFor(8, k));
    const cases = [
      { maxIterations: 300, tolerance: 1e-10 },
      { maxIterations: 300, tolerance: 0 },
      { maxIterations: 300, tolerance: 0.01 },
      { maxIterations: 2, tolerance: 1e-10 },
    ];
    for (const { maxIterations, tolerance } of cases) {
      const ours = refineLloyd(x, start, k, maxIterations, tolerance);
      const theirs = mlKMeans(rowsOf(x.data, 2), k, { initialization: rowsOf(start, 2), maxIterations, tolerance });
      expect(Array.from(ours.centroids)).toEqual(theirs.centroids.flat());
      expect({ iterations: ours.iterations, converged: ours.converged }).toEqual({
        iterations: theirs.iterations,
        converged: theirs.converged,
      });
    }
    expect(refineLloyd(x, start, k, 2, 1e-10).converged).toBe(false);
  });

  it('matches ml-kmeans and assignToCentroids on grid data full of ties and duplicate rows, over many starts', () => {
    // points on a small integer grid: many rows are equidistant from two centroids at some iteration
    const random = new Random(17);
    const grid = matrix(Array.from({ length: 400 }, () => [Math.floor(random.random() * 6), Math.floor(random.random() * 4)]));
    for (const k of [1, 2, 3, 5, 8]) {
      for (let seed = 0; seed < 6; seed++) {
        const start = kmeansPlusPlus(grid, k, randomFor(seed, k));
        const ours = refineLloyd(grid, start, k, 300, 0);
        const theirs = mlKMeans(rowsOf(grid.data, 2), k, { initialization: rowsOf(start, 2), maxIterations: 300, tolerance: 0 });
        expect(Array.from(ours.centroids)).toEqual(theirs.centroids.flat());
        expect([ours.iterations, ours.converged]).toEqual([theirs.iterations, theirs.converged]);
        const all = assignToCentroids(grid, ours.centroids, k);
        expect(Array.from(ours.labels)).toEqual(Array.from(all.labels));
        expect(Array.from(ours.sizes)).toEqual(Array.from(all.sizes));
        expect(ours.inertia).toBe(all.inertia);
      }
    }
  });

  it('leaves a centroid that no row is nearest to where it was, as ml-kmeans does', () => {
    const start = Float64Array.from([0, 0, 10, 0, 100, 100]);
    const ours = refineLloyd(PAIRS, start, 3, 300, 1e-10);
    const theirs = mlKMeans(rowsOf(PAIRS.data, 2), 3, { initialization: rowsOf(start, 2), maxIterations: 300, tolerance: 1e-10 });
    expect(Array.from(ours.centroids)).toEqual([0, 0.5, 10, 0.5, 100, 100]);
    expect(Array.from(ours.centroids)).toEqual(theirs.centroids.flat());
  });
});

describe('checkClusterable', () => {
  it('accepts k equal to the number of distinct rows', () => {
    expect(() => checkClusterable(matrix([[1], [2], [2]]), 2)).not.toThrow();
  });
});

describe('countDistinctRows', () => {
  it('counts distinct rows, and stops at the limit', () => {
    const x = matrix([
      [1, 2],
      [1, 2],
      [2, 1],
      [3, 3],
      [2, 1],
    ]);
    expect(countDistinctRows(x)).toBe(3);
    expect(countDistinctRows(x, 2)).toBe(2);
  });

  it('counts −0 as 0 and two NaNs as the same value, under a small limit as without one', () => {
    const x = matrix([
      [0, Number.NaN],
      [-0, Number.NaN],
      [1, 2],
      [1, 2.5],
    ]);
    expect(countDistinctRows(x, 10)).toBe(3);
    expect(countDistinctRows(x)).toBe(3);
  });

  it('finds a few distinct rows among many, below and above the limit', () => {
    const x = matrix(Array.from({ length: 3000 }, (_, i) => [i % 3, (i % 3) * 2]));
    expect(countDistinctRows(x, 5)).toBe(3);
    expect(countDistinctRows(x, 2)).toBe(2);
    expect(countDistinctRows(x, 1000)).toBe(3);
  });
});

describe('kmeansPlusPlus', () => {
  it('picks k distinct data rows as starting centers', () => {
    const centers = kmeansPlusPlus(TRAP, 4, new Random(9));
    const picked = Array.from(centers);
    expect(new Set(picked).size).toBe(4);
    for (const c of picked) expect([0, 1, 10, 11, 20, 21, 40]).toContain(c);
  });
});

describe('assignToCentroids', () => {
  it('labels each row with its nearest centroid and counts segment sizes', () => {
    const { labels, inertia, sizes } = assignToCentroids(PAIRS, Float64Array.from([10, 0, 0, 0]), 2);
    expect(Array.from(labels)).toEqual([1, 1, 0, 0]);
    expect(Array.from(sizes)).toEqual([2, 2]);
    expect(inertia).toBe(0 + 1 + 0 + 1);
  });
});
