// Cluster quality metrics against values computed by scikit-learn on tiny data, null where
// undefined (k = 1), and the stratified sample the silhouette uses on large inputs.

import { describe, expect, it } from 'vitest';
import {
  calinskiHarabasz,
  clusterMetrics,
  daviesBouldin,
  silhouette,
  SILHOUETTE_EXACT_MAX_ROWS,
  silhouetteSample,
} from '../../../shared/clustering/metrics.ts';
import type { Matrix } from '../../../shared/features/encode.ts';

const matrix = (rows: number[][]): Matrix => ({ data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0]!.length });

/** Cluster means, row-major (what k-means converges to). */
function means(x: Matrix, labels: Int32Array, k: number): Float64Array {
  const sums = new Float64Array(k * x.cols);
  const sizes = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    sizes[labels[i]!]!++;
    for (let j = 0; j < x.cols; j++) sums[labels[i]! * x.cols + j]! += x.data[i * x.cols + j]!;
  }
  return sums.map((s, i) => s / sizes[Math.floor(i / x.cols)]!);
}

const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

// Reference values: sklearn.metrics.silhouette_score, davies_bouldin_score and
// calinski_harabasz_score (scikit-learn via /usr/bin/python3) on the same points and labels.
const CASES = [
  {
    name: 'two clusters of three points in 2-D',
    x: matrix([
      [0, 0],
      [0, 2],
      [1, 1],
      [5, 5],
      [6, 5],
      [5, 7],
    ]),
    labels: Int32Array.from([0, 0, 0, 1, 1, 1]),
    k: 2,
    silhouette: 0.7580771307219615,
    daviesBouldin: 0.28449675416284687,
    calinskiHarabasz: 46.77777777777778, // by hand: B = 421/6, W = 6, (B / 1) / (W / 4)
  },
  {
    name: 'three clusters of unequal size in 2-D',
    x: matrix([
      [0, 0],
      [1, 0],
      [0, 1],
      [4, 4],
      [5, 4],
      [10, 0],
      [10, 1],
    ]),
    labels: Int32Array.from([0, 0, 0, 1, 1, 2, 2]),
    k: 3,
    silhouette: 0.8170034580920758,
    daviesBouldin: 0.18974740768628343,
    calinskiHarabasz: 112.12244897959182,
  },
  {
    name: 'a singleton cluster in 1-D (its silhouette counts as 0)',
    x: matrix([[0], [1], [2], [10]]),
    labels: Int32Array.from([0, 0, 0, 1]),
    k: 2,
    silhouette: 0.6378472222222222,
    daviesBouldin: 0.07407407407407407,
    calinskiHarabasz: 60.75,
  },
];

describe.each(CASES)('metrics on $name', (c) => {
  const centroids = means(c.x, c.labels, c.k);

  it('silhouette matches scikit-learn', () => {
    expect(silhouette(c.x, c.labels, c.k, all(c.x.rows))).toBeCloseTo(c.silhouette, 12);
  });

  it('Davies–Bouldin matches scikit-learn', () => {
    expect(daviesBouldin(c.x, c.labels, centroids, c.k)).toBeCloseTo(c.daviesBouldin, 12);
  });

  it('Calinski–Harabasz matches scikit-learn', () => {
    expect(calinskiHarabasz(c.x, c.labels, centroids, c.k)).toBeCloseTo(c.calinskiHarabasz, 9);
  });

  it('clusterMetrics gathers the same three values over every row', () => {
    const m = clusterMetrics(c.x, c.labels, centroids, c.k, 1);
    expect(m.silhouetteRows).toBe(c.x.rows);
    expect(m.silhouette).toBeCloseTo(c.silhouette, 12);
    expect(m.daviesBouldin).toBeCloseTo(c.daviesBouldin, 12);
    expect(m.calinskiHarabasz).toBeCloseTo(c.calinskiHarabasz, 9);
  });
});

describe('metrics for k = 1', () => {
  it('are all null', () => {
    const x = matrix([[0], [1], [2]]);
    const labels = new Int32Array(3);
    const centroid = Float64Array.from([1]);
    expect(silhouette(x, labels, 1, all(3))).toBeNull();
    expect(daviesBouldin(x, labels, centroid, 1)).toBeNull();
    expect(calinskiHarabasz(x, labels, centroid, 1)).toBeNull();
    expect(clusterMetrics(x, labels, centroid, 1, 7)).toEqual({
      silhouette: null,
      daviesBouldin: null,
      calinskiHarabasz: null,
      silhouetteRows: 3,
    });
  });
});

describe('calinskiHarabasz', () => {
  it('is null when every point sits on its centroid (no within-cluster scatter)', () => {
    const x = matrix([[0], [0], [5], [5]]);
    const labels = Int32Array.from([0, 0, 1, 1]);
    expect(calinskiHarabasz(x, labels, Float64Array.from([0, 5]), 2)).toBeNull();
  });

  it('is null when there are no more rows than clusters', () => {
    const x = matrix([[0], [5]]);
    expect(calinskiHarabasz(x, Int32Array.from([0, 1]), Float64Array.from([0, 5]), 2)).toBeNull();
  });
});

describe('silhouette on a subset of rows', () => {
  it('measures distances within the chosen rows only', () => {
    const x = matrix([
      [0, 0],
      [9, 9],
      [0, 2],
      [1, 1],
      [5, 5],
      [6, 5],
      [5, 7],
      [-3, 4],
    ]);
    const labels = Int32Array.from([0, 1, 0, 0, 1, 1, 1, 0]);
    const rows = Int32Array.from([0, 2, 3, 4, 5, 6]); // the points of the first reference case
    expect(silhouette(x, labels, 2, rows)).toBeCloseTo(0.7580771307219615, 12);
  });
});

describe('silhouette against its definition', () => {
  /** The mean silhouette computed literally: every row's mean distance to each cluster, pair by pair. */
  function naiveSilhouette(x: Matrix, labels: Int32Array, k: number): number {
    const dist = (i: number, j: number): number =>
      Math.hypot(...Array.from({ length: x.cols }, (_, c) => x.data[i * x.cols + c]! - x.data[j * x.cols + c]!));
    let total = 0;
    for (let i = 0; i < x.rows; i++) {
      const sums = new Array<number>(k).fill(0);
      const counts = new Array<number>(k).fill(0);
      for (let j = 0; j < x.rows; j++) {
        if (j === i) continue;
        sums[labels[j]!]! += dist(i, j);
        counts[labels[j]!]!++;
      }
      const own = labels[i]!;
      if (counts[own] === 0) continue;
      const a = sums[own]! / counts[own]!;
      const b = Math.min(...sums.map((s, c) => (c === own || counts[c] === 0 ? Infinity : s / counts[c]!)));
      total += (b - a) / Math.max(a, b);
    }
    return total / x.rows;
  }

  it('agrees with it on random rows whose clusters are interleaved, a singleton and an empty cluster among them', () => {
    let state = 7;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows = Array.from({ length: 157 }, () => [next() * 4, next() * 3, next()]);
    const labels = Int32Array.from(rows, (r) => Math.floor(r[0]!)); // clusters 0..3, in no order
    labels[0] = 4; // a singleton
    const x = matrix(rows);
    // cluster 5 is empty
    expect(silhouette(x, labels, 6, all(x.rows))).toBeCloseTo(naiveSilhouette(x, labels, 6), 12);
    const some = Int32Array.from({ length: 60 }, (_, i) => i * 2 + 1);
    const subset = matrix(Array.from(some, (i) => rows[i]!));
    expect(silhouette(x, labels, 6, some)).toBeCloseTo(
      naiveSilhouette(
        subset,
        Int32Array.from(some, (i) => labels[i]!),
        6,
      ),
      12,
    );
  });
});

describe('silhouetteSample', () => {
  const labelsOf = (sizes: number[]): Int32Array => {
    // interleaved so that cluster members are spread over the index range
    const out: number[] = [];
    const left = [...sizes];
    while (left.some((s) => s > 0)) left.forEach((s, c) => s > 0 && (out.push(c), (left[c] = s - 1)));
    return Int32Array.from(out);
  };

  it('returns every row when there are no more rows than the sample size', () => {
    expect(Array.from(silhouetteSample(Int32Array.from([1, 0, 1, 0]), 2, 4, 1))).toEqual([0, 1, 2, 3]);
  });

  it('samples each cluster in proportion to its size, as sorted distinct indexes', () => {
    const labels = labelsOf([600, 300, 100]);
    const sample = silhouetteSample(labels, 3, 100, 42);
    expect(sample).toHaveLength(100);
    const perCluster = [0, 0, 0];
    for (const i of sample) perCluster[labels[i]!]!++;
    expect(perCluster).toEqual([60, 30, 10]);
    expect(new Set(sample).size).toBe(100);
    expect(Array.from(sample)).toEqual(Array.from(sample).sort((a, b) => a - b));
  });

  it('keeps at least two rows of a small cluster', () => {
    const labels = labelsOf([995, 5]);
    const sample = silhouetteSample(labels, 2, 100, 3);
    expect(Array.from(sample).filter((i) => labels[i] === 1)).toHaveLength(2);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const labels = labelsOf([500, 500]);
    expect(Array.from(silhouetteSample(labels, 2, 50, 9))).toEqual(Array.from(silhouetteSample(labels, 2, 50, 9)));
    expect(Array.from(silhouetteSample(labels, 2, 50, 9))).not.toEqual(Array.from(silhouetteSample(labels, 2, 50, 10)));
  });

  it('picks at most the sample size when every cluster can keep its two rows', () => {
    // 4001 rows in clusters of 1334, 1334 and 1333: the proportional quotas 1333.67, 1333.67 and
    // 1332.67 each round up, to 1334 + 1334 + 1333 = 4001 rows, one more than the cap
    const labels = labelsOf([1334, 1334, 1333]);
    expect(silhouetteSample(labels, 3, SILHOUETTE_EXACT_MAX_ROWS, 1).length).toBeLessThanOrEqual(SILHOUETTE_EXACT_MAX_ROWS);
    expect(silhouetteSample(labelsOf([3, 3, 3]), 3, 8, 1).length).toBeLessThanOrEqual(8);
  });
});

describe('clusterMetrics with silhouetteFrom', () => {
  // 600 rows in three clusters along a line; a sample of 200 of them in a scrambled order
  const x = matrix(Array.from({ length: 600 }, (_, i) => [(i % 3) * 10 + ((i * 37) % 11) / 10, ((i * 53) % 7) / 10]));
  const labels = Int32Array.from({ length: 600 }, (_, i) => i % 3);
  const centroids = means(x, labels, 3);
  const from = Int32Array.from({ length: 200 }, (_, i) => (i * 401) % 600);

  it("draws the silhouette's rows from those rows only, as silhouetteSample does from their labels", () => {
    const m = clusterMetrics(x, labels, centroids, 3, 5, { silhouetteRows: 50, silhouetteFrom: from });
    const sampleLabels = Int32Array.from(from, (row) => labels[row]!);
    const positions = silhouetteSample(sampleLabels, 3, 50, 5);
    const sample = matrix(Array.from(from, (row) => Array.from(x.data.subarray(row * 2, row * 2 + 2))));
    // the same value, to the bit, as a caller holding only the sample (in its order) and its labels gets
    expect(m.silhouette).toBe(silhouette(sample, sampleLabels, 3, positions));
    expect(m.silhouetteRows).toBe(50);
  });

  it('measures every row of the sample, in its order, when it holds no more than silhouetteRows', () => {
    const m = clusterMetrics(x, labels, centroids, 3, 5, { silhouetteFrom: from });
    expect(m.silhouetteRows).toBe(200);
    expect(m.silhouette).toBe(silhouette(x, labels, 3, from));
    // Davies–Bouldin and Calinski–Harabasz stay over every row
    expect(m.daviesBouldin).toBe(daviesBouldin(x, labels, centroids, 3));
  });
});
