// Cluster quality metrics in model space: silhouette (exact, or on a stratified sample for
// large n), Davies–Bouldin and Calinski–Harabasz, each null where undefined (k = 1).

import { Random } from 'ml-random';
import type { Matrix } from '../features/encode.ts';

/** Above this many rows the silhouette is computed on a stratified sample of this size. */
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
  if (labels.length <= size) return Int32Array.from(labels.keys());
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]!]!.push(i);
  const quotas = members.map((list) => Math.min(list.length, Math.max(2, Math.round((list.length / labels.length) * size))));
  // rounding up can overshoot: take the excess from the largest quotas, never below two rows
  for (let excess = quotas.reduce((a, b) => a + b, 0) - size; excess > 0; excess--) {
    let largest = -1;
    for (let c = 0; c < k; c++) if (quotas[c]! > 2 && (largest < 0 || quotas[c]! > quotas[largest]!)) largest = c;
    if (largest < 0) break;
    quotas[largest]!--;
  }
  const random = new Random(seed >>> 0);
  const chosen: number[] = [];
  members.forEach((list, c) => {
    const quota = quotas[c]!;
    // partial Fisher–Yates: the first `quota` entries become a uniform sample
    for (let i = 0; i < quota; i++) {
      const j = i + Math.floor(random.random() * (list.length - i));
      [list[i], list[j]] = [list[j]!, list[i]!];
      chosen.push(list[i]!);
    }
  });
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

/** Mean silhouette over `rows` (indexes into x), distances measured within those rows only. */
export function silhouette(x: Matrix, labels: Int32Array, k: number, rows: Int32Array): number | null {
  if (k < 2) return null;
  const { data, cols: d } = x;
  const m = rows.length;
  const sizes = new Float64Array(k);
  for (let a = 0; a < m; a++) sizes[labels[rows[a]!]!]!++;
  const sums = new Float64Array(k);
  let total = 0;
  for (let a = 0; a < m; a++) {
    const i = rows[a]!;
    const own = labels[i]!;
    sums.fill(0);
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const j = rows[b]!;
      sums[labels[j]!]! += distance(data, i * d, data, j * d, d);
    }
    if (sizes[own]! <= 1) continue; // a singleton scores 0, as scikit-learn does
    const within = sums[own]! / (sizes[own]! - 1);
    let nearest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) nearest = Math.min(nearest, sums[c]! / sizes[c]!);
    const spread = Math.max(within, nearest);
    total += spread > 0 ? (nearest - within) / spread : 0;
  }
  return total / m;
}

/** Davies–Bouldin index (lower is better); null for k < 2. */
export function daviesBouldin(x: Matrix, labels: Int32Array, centroids: Float64Array, k: number): number | null {
  if (k < 2) return null;
  const { data, rows: n, cols: d } = x;
  const scatter = new Float64Array(k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    scatter[c]! += distance(data, i * d, centroids, c * d, d);
    sizes[c]!++;
  }
  for (let c = 0; c < k; c++) scatter[c] = sizes[c]! > 0 ? scatter[c]! / sizes[c]! : 0;
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

/** Calinski–Harabasz index (higher is better); null for k < 2 or when it is undefined. */
export function calinskiHarabasz(x: Matrix, labels: Int32Array, centroids: Float64Array, k: number): number | null {
  const { data, rows: n, cols: d } = x;
  if (k < 2 || n <= k) return null;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const sizes = new Float64Array(k);
  let within = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    sizes[c]!++;
    const dist = distance(data, i * d, centroids, c * d, d);
    within += dist * dist;
  }
  let between = 0;
  for (let c = 0; c < k; c++) {
    const dist = distance(centroids, c * d, mean, 0, d);
    between += sizes[c]! * dist * dist;
  }
  if (within === 0) return null;
  return between / (k - 1) / (within / (n - k));
}

/** All quality metrics for one clustering. */
export function clusterMetrics(x: Matrix, labels: Int32Array, centroids: Float64Array, k: number, seed: number): ClusterMetrics {
  const rows = silhouetteSample(labels, k, SILHOUETTE_EXACT_MAX_ROWS, seed);
  return {
    silhouette: silhouette(x, labels, k, rows),
    daviesBouldin: daviesBouldin(x, labels, centroids, k),
    calinskiHarabasz: calinskiHarabasz(x, labels, centroids, k),
    silhouetteRows: rows.length,
  };
}
