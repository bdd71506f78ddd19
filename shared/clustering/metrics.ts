// Cluster quality metrics in model space: silhouette (exact, or on a stratified sample for
// large n), Davies–Bouldin and Calinski–Harabasz, each null where undefined (k = 1).

import { Random } from 'ml-random';
import type { Matrix } from '../features/encode.ts';

/**
 * Above this many rows the silhouette is computed on a stratified sample of this size (by default).
 * The model's, drawn from the training's 20,000-row sample (clusterMetrics, silhouetteFrom), was off
 * by 0.0022 rms, 0.0087 at most against the exact value on every row of a 20,000-row generated file
 * (k = 2..10, 6 seeds, with and without gender).
 */
export const SILHOUETTE_EXACT_MAX_ROWS = 4000;

export interface ClusterMetrics {
  readonly silhouette: number | null;
  readonly daviesBouldin: number | null;
  readonly calinskiHarabasz: number | null;
  /** Rows the silhouette was computed on (all of them, or the sample). */
  readonly silhouetteRows: number;
}

function distance(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const diff = a[ai + j]! - b[bi + j]!;
    s += diff * diff;
  }
  return Math.sqrt(s);
}

/**
 * The rows the silhouette is measured on: at most `size` row indexes, each cluster represented in
 * proportion to its size (at least two rows when it has them, since a silhouette needs a pair),
 * drawn at random within the cluster, deterministically for a seed. Sorted ascending. Unlike the
 * report's `scatterSample` (evenly spaced, one row per segment at least), a random draw keeps the
 * estimate unbiased whatever order the rows came in.
 */
export function silhouetteSample(labels: Int32Array, k: number, size: number, seed: number): Int32Array {
  const n = labels.length;
  if (n <= size) return Int32Array.from(labels.keys());
  // every cluster's row indexes, in row order, one after the other (a counting sort by label)
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;
  const start = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) start[c + 1] = start[c]! + sizes[c]!;
  const members = new Int32Array(n);
  const next = start.slice(0, k);
  for (let i = 0; i < n; i++) members[next[labels[i]!]!++] = i;
  const quotas = Array.from(sizes, (count) => Math.min(count, Math.max(2, Math.round((count / n) * size))));
  // rounding up can overshoot: take the excess from the largest quotas, never below two rows
  for (let excess = quotas.reduce((a, b) => a + b, 0) - size; excess > 0; excess--) {
    let largest = -1;
    for (let c = 0; c < k; c++) if (quotas[c]! > 2 && (largest < 0 || quotas[c]! > quotas[largest]!)) largest = c;
    if (largest < 0) break;
    quotas[largest]!--;
  }
  const random = new Random(seed >>> 0);
  const chosen = new Int32Array(quotas.reduce((a, b) => a + b, 0));
  let taken = 0;
  for (let c = 0; c < k; c++) {
    const from = start[c]!;
    const count = sizes[c]!;
    // partial Fisher–Yates within the cluster: its first `quota` entries become a uniform sample
    for (let i = 0; i < quotas[c]!; i++) {
      const j = i + Math.floor(random.random() * (count - i));
      const picked = members[from + j]!;
      members[from + j] = members[from + i]!;
      members[from + i] = picked;
      chosen[taken++] = picked;
    }
  }
  return chosen.sort();
}

/**
 * Mean silhouette over `rows` (indexes into x), distances measured within those rows only. The rows
 * are gathered by cluster into one contiguous block, and each pair's distance is computed once and
 * added to both rows' per-cluster sums (half the pairs, no label lookup in the inner loop).
 */
export function silhouette(x: Matrix, labels: Int32Array, k: number, rows: Int32Array): number | null {
  if (k < 2) return null;
  const { data, cols: d } = x;
  const m = rows.length;
  const sizes = new Int32Array(k);
  for (let a = 0; a < m; a++) sizes[labels[rows[a]!]!]!++;
  const start = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) start[c + 1] = start[c]! + sizes[c]!;
  // the rows grouped by cluster, in their given order within a cluster
  const points = new Float64Array(m * d);
  const own = new Int32Array(m);
  const next = start.slice(0, k);
  for (let a = 0; a < m; a++) {
    const i = rows[a]!;
    const at = next[labels[i]!]!++;
    own[at] = labels[i]!;
    points.set(data.subarray(i * d, i * d + d), at * d);
  }
  // sums[c * m + a]: the distances from row a to the rows of cluster c
  const sums = new Float64Array(k * m);
  const row = new Float64Array(d); // row a, held apart: measured faster than reading it from `points`
  for (let a = 0; a < m; a++) {
    const ca = own[a]!;
    for (let j = 0; j < d; j++) row[j] = points[a * d + j]!;
    const toA = ca * m;
    for (let cb = ca; cb < k; cb++) {
      let acc = 0;
      for (let b = Math.max(a + 1, start[cb]!), end = start[cb + 1]!; b < end; b++) {
        const bi = b * d;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = row[j]! - points[bi + j]!;
          s += diff * diff;
        }
        const dist = Math.sqrt(s);
        acc += dist;
        sums[toA + b]! += dist;
      }
      sums[cb * m + a]! += acc;
    }
  }
  let total = 0;
  for (let a = 0; a < m; a++) {
    const ca = own[a]!;
    if (sizes[ca]! <= 1) continue; // a singleton scores 0, as scikit-learn does
    const within = sums[ca * m + a]! / (sizes[ca]! - 1);
    let nearest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) if (c !== ca && sizes[c]! > 0) nearest = Math.min(nearest, sums[c * m + a]! / sizes[c]!);
    const spread = Math.max(within, nearest);
    total += spread > 0 ? (nearest - within) / spread : 0;
  }
  return total / m;
}

/** Each row's distance to its centroid (Euclidean, in model space). */
export function centroidDistances(x: Matrix, labels: Int32Array, centroids: Float64Array): Float64Array {
  const { data, rows: n, cols: d } = x;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = distance(data, i * d, centroids, labels[i]! * d, d);
  return out;
}

/**
 * Davies–Bouldin index (lower is better); null for k < 2. `distances`: each row's distance to its
 * centroid when already known (centroidDistances).
 */
export function daviesBouldin(
  x: Matrix,
  labels: Int32Array,
  centroids: Float64Array,
  k: number,
  distances: Float64Array = centroidDistances(x, labels, centroids),
): number | null {
  if (k < 2) return null;
  const { rows: n, cols: d } = x;
  const scatter = new Float64Array(k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    scatter[c]! += distances[i]!;
    sizes[c]!++;
  }
  for (let c = 0; c < k; c++) scatter[c] = sizes[c]! > 0 ? scatter[c]! / sizes[c]! : 0;
  return daviesBouldinOfScatter(scatter, centroids, k, d);
}

/**
 * Davies–Bouldin from each segment's mean distance to its centroid (`scatter`) and the centroids;
 * null for k < 2. What daviesBouldin computes from the rows, and training in the table from the
 * database's sums.
 */
export function daviesBouldinOfScatter(scatter: ArrayLike<number>, centroids: Float64Array, k: number, d: number): number | null {
  if (k < 2) return null;
  let total = 0;
  for (let a = 0; a < k; a++) {
    let worst = 0;
    for (let b = 0; b < k; b++) {
      if (a === b) continue;
      const separation = distance(centroids, a * d, centroids, b * d, d);
      if (separation > 0) worst = Math.max(worst, (scatter[a]! + scatter[b]!) / separation);
    }
    total += worst;
  }
  return total / k;
}

/** Calinski–Harabasz index (higher is better); null for k < 2 or when it is undefined. `distances` as for daviesBouldin. */
export function calinskiHarabasz(
  x: Matrix,
  labels: Int32Array,
  centroids: Float64Array,
  k: number,
  distances: Float64Array = centroidDistances(x, labels, centroids),
): number | null {
  const { data, rows: n, cols: d } = x;
  if (k < 2 || n <= k) return null;
  const mean = new Float64Array(d);
  for (let i = 0, ri = 0; i < n; i++, ri += d) for (let j = 0; j < d; j++) mean[j]! += data[ri + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const sizes = new Float64Array(k);
  let within = 0;
  for (let i = 0; i < n; i++) {
    sizes[labels[i]!]!++;
    const dist = distances[i]!;
    within += dist * dist;
  }
  return calinskiHarabaszOfSums({ sizes, mean, within, centroids, k, d, n });
}

/**
 * Calinski–Harabasz from each segment's size, the data's mean, the within-segment sum of squared
 * distances and the centroids; null when undefined. What calinskiHarabasz computes from the rows,
 * and training in the table from the database's sums.
 */
export function calinskiHarabaszOfSums(sums: {
  readonly sizes: ArrayLike<number>;
  readonly mean: Float64Array;
  readonly within: number;
  readonly centroids: Float64Array;
  readonly k: number;
  readonly d: number;
  readonly n: number;
}): number | null {
  const { sizes, mean, within, centroids, k, d, n } = sums;
  if (k < 2 || n <= k) return null;
  let between = 0;
  for (let c = 0; c < k; c++) {
    const dist = distance(centroids, c * d, mean, 0, d);
    between += sizes[c]! * dist * dist;
  }
  if (within === 0) return null;
  return between / (k - 1) / (within / (n - k));
}

export interface ClusterMetricsOptions {
  /** Rows of the stratified silhouette sample (default SILHOUETTE_EXACT_MAX_ROWS). */
  readonly silhouetteRows?: number;
  /**
   * The rows the silhouette's sample is drawn from, in sample order (the training's sample: the
   * first rows of the sample order), instead of all rows: a caller holding only those rows and
   * their labels (training from the table) then measures the same rows, in the same order.
   */
  readonly silhouetteFrom?: Int32Array;
  /** Each row's distance to its centroid, when already known (centroidDistances). */
  readonly distances?: Float64Array;
}

/** All quality metrics for one clustering. */
export function clusterMetrics(
  x: Matrix,
  labels: Int32Array,
  centroids: Float64Array,
  k: number,
  seed: number,
  options: ClusterMetricsOptions = {},
): ClusterMetrics {
  const from = options.silhouetteFrom;
  const size = options.silhouetteRows ?? SILHOUETTE_EXACT_MAX_ROWS;
  let rows: Int32Array;
  if (from === undefined) rows = silhouetteSample(labels, k, size, seed);
  else {
    // positions in `from`, ascending: the rows in sample order, as the table's sample holds them
    rows = silhouetteSample(
      Int32Array.from(from, (row) => labels[row]!),
      k,
      size,
      seed,
    );
    for (let a = 0; a < rows.length; a++) rows[a] = from[rows[a]!]!;
  }
  const distances = k < 2 ? new Float64Array(0) : (options.distances ?? centroidDistances(x, labels, centroids));
  return {
    silhouette: silhouette(x, labels, k, rows),
    daviesBouldin: daviesBouldin(x, labels, centroids, k, distances),
    calinskiHarabasz: calinskiHarabasz(x, labels, centroids, k, distances),
    silhouetteRows: rows.length,
  };
}
