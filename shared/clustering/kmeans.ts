// K-means on a row-major Float64Array: greedy k-means++ seeding (as scikit-learn does), Lloyd
// iterations by ml-kmeans from those centers, restarts keeping the lowest inertia computed here;
// the restarts run on the first rows of the sample order (all rows, in that order, when there are
// few), and on large data the same Lloyd step then refines the winner on all rows.

import { kmeans as mlKMeans } from 'ml-kmeans';
import { Random } from 'ml-random';
import { ClusteringError, InvalidOptionError } from '../errors.ts';
import type { Matrix } from '../features/encode.ts';
import { rowNumberOrder } from './sample-order.ts';

export interface KMeansOptions {
  /** Seed of the random number generator; required so that results are reproducible. */
  readonly seed: number;
  /** Independent k-means++ starts; the one with the lowest inertia wins (default: defaultRestarts). */
  readonly restarts?: number;
  /** Lloyd iterations per start (default 300, as scikit-learn). */
  readonly maxIterations?: number;
  /** Convergence, as ml-kmeans tests it: no centroid moved more than this (squared) in an iteration (default 1e-10). */
  readonly tolerance?: number;
  /**
   * The restarts run on the first min(rows, sampleSize) rows of the sample order; above this many
   * rows the winning start is then refined on all rows (default SAMPLE_ROWS, 20,000).
   */
  readonly sampleSize?: number;
  /**
   * The rows in sample order (sampleOrder of their ids and the seed: sample-order.ts), at least the
   * first min(rows, sampleSize) of them. Default: rowNumberOrder, for rows without ids. A matrix
   * already in sample order (a sweep's sample, a table's) passes inOrder(rows).
   */
  readonly order?: Int32Array;
}

export interface KMeansFit {
  readonly k: number;
  /** k × d centroids, row-major. */
  readonly centroids: Float64Array;
  readonly labels: Int32Array;
  /** Within-cluster sum of squared distances, computed by this project. */
  readonly inertia: number;
  /** Lloyd iterations of the winning start, plus those of the full-data refinement after a sample. */
  readonly iterations: number;
  readonly converged: boolean;
  /** Index of the start that won, and how many starts ended with an empty cluster. */
  readonly bestRestart: number;
  readonly emptyRestarts: number;
  /**
   * When the starts ran on a sample: its size, and the winning start's centroids and inertia on it
   * (the full-data refinement's starting point); null when they ran on all rows.
   */
  readonly sample: KMeansSample | null;
  /** Each row's distance to its centroid, when the full-data refinement measured it on the way; null otherwise. */
  readonly distances: Float64Array | null;
}

export interface KMeansSample {
  readonly rows: number;
  readonly centroids: Float64Array;
  readonly inertia: number;
}

export const KMEANS_DEFAULTS = { maxIterations: 300, tolerance: 1e-10 } as const;

/** Default sample size: the restarts run on at most this many rows in sample order; above it, the full data refines. */
export const SAMPLE_ROWS = 20_000;
const RESTART_BUDGET_ROWS = 200_000;
const MIN_RESTARTS = 10;
const MAX_RESTARTS = 300;

/**
 * Default number of k-means++ starts: about 200,000 row-fits in all, between 10 and 300 — 300 for
 * files of up to about 670 rows (where the objective has many local optima: on the Mall Customers
 * data one start in about a hundred reaches k = 7's best, so 100 starts still missed it for 6 of
 * 11 seeds; 300 miss it for none of 0–9 and 42), 10 from 20,000 rows on (where starts run on a
 * sample of `sampleSize` rows).
 */
export function defaultRestarts(rows: number, sampleSize: number = SAMPLE_ROWS): number {
  const fitted = Math.max(1, Math.min(rows, sampleSize));
  return Math.min(MAX_RESTARTS, Math.max(MIN_RESTARTS, Math.round(RESTART_BUDGET_ROWS / fitted)));
}

/** Rejects data k-means cannot work on, with one actionable message. */
export function checkClusterable(x: Matrix, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new InvalidOptionError(`k must be a whole number ≥ 1 (got ${k})`);
  if (x.rows === 0) throw new ClusteringError('no rows to cluster');
  if (x.cols === 0) throw new ClusteringError('no feature columns to cluster on');
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!)) {
      throw new ClusteringError(`row ${Math.floor(i / x.cols) + 1} has a missing or non-finite value in column ${(i % x.cols) + 1}`);
    }
  }
  const distinct = countDistinctRows(x, k);
  if (distinct < k) {
    throw new ClusteringError(
      `k = ${k} but the data has only ${distinct} distinct customer${distinct === 1 ? '' : 's'}; choose k ≤ ${distinct}`,
    );
  }
}

/**
 * Counts distinct rows, stopping early once `limit` have been seen (−0 and 0 count as the same
 * value, as do two NaNs). Under a small limit each row is compared with the distinct rows found so
 * far, with no string per row: checking k on 10⁶ rows of fewer than k distinct customers took
 * seconds through strings.
 */
export function countDistinctRows(x: Matrix, limit = Number.POSITIVE_INFINITY): number {
  const { data, rows: n, cols: d } = x;
  if (limit > DISTINCT_BY_COMPARISON) {
    const seen = new Set<string>();
    for (let i = 0; i < n && seen.size < limit; i++) seen.add(data.subarray(i * d, (i + 1) * d).join(','));
    return seen.size;
  }
  const found: number[] = []; // row offsets of the distinct rows so far
  for (let i = 0, ri = 0; i < n && found.length < limit; i++, ri += d) {
    let known = false;
    for (let f = 0; f < found.length && !known; f++) {
      const fi = found[f]!;
      let same = true;
      for (let j = 0; j < d && same; j++) {
        const a = data[ri + j]!;
        const b = data[fi + j]!;
        same = a === b || (a !== a && b !== b);
      }
      known = same;
    }
    if (!known) found.push(ri);
  }
  return found.length;
}

/** Up to this limit countDistinctRows compares rows with each other instead of keeping strings. */
const DISTINCT_BY_COMPARISON = 64;

export function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const diff = a[ai + j]! - b[bi + j]!;
    s += diff * diff;
  }
  return s;
}

/** Picks an index with probability proportional to `weights` (sum given), using one uniform draw. */
function drawWeighted(weights: Float64Array, total: number, random: Random): number {
  let target = random.random() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}

/**
 * Greedy k-means++ seeding: each new center is the best of 2 + ⌊ln k⌋ candidates drawn with
 * probability proportional to the squared distance to the nearest chosen center.
 */
export function kmeansPlusPlus(x: Matrix, k: number, random: Random): Float64Array {
  const { data, rows: n, cols: d } = x;
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(random.random() * n);
  centers.set(data.subarray(first * d, first * d + d), 0);
  let closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = squaredDistance(data, i * d, centers, 0, d);
  const candidate = new Float64Array(d); // held apart: measured faster than reading it from `data` for every row
  let candidateDist = new Float64Array(n);
  let bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestPotential = Number.POSITIVE_INFINITY;
    let bestIndex = -1;
    for (let t = 0; t < trials; t++) {
      const index = potential > 0 ? drawWeighted(closest, potential, random) : Math.floor(random.random() * n);
      for (let j = 0; j < d; j++) candidate[j] = data[index * d + j]!;
      let candidatePotential = 0;
      for (let i = 0, ri = 0; i < n; i++, ri += d) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = data[ri + j]! - candidate[j]!;
          s += diff * diff;
        }
        const dist = Math.min(closest[i]!, s);
        candidateDist[i] = dist;
        candidatePotential += dist;
      }
      if (candidatePotential < bestPotential) {
        bestPotential = candidatePotential;
        bestIndex = index;
        [bestDist, candidateDist] = [candidateDist, bestDist];
      }
    }
    centers.set(data.subarray(bestIndex * d, bestIndex * d + d), c * d);
    [closest, bestDist] = [bestDist, closest];
    potential = bestPotential;
  }
  return centers;
}

/** Nearest-centroid labels (first on ties) and the inertia they give. */
export function assignToCentroids(
  x: Matrix,
  centroids: Float64Array,
  k: number,
): { labels: Int32Array; inertia: number; sizes: Int32Array } {
  const { data, rows: n, cols: d } = x;
  const labels = new Int32Array(n);
  const sizes = new Int32Array(k);
  const dists = new Float64Array(k);
  let inertia = 0;
  for (let i = 0, ri = 0; i < n; i++, ri += d) {
    // every distance first, then the nearest: measured faster than one loop doing both
    for (let c = 0, ci = 0; c < k; c++, ci += d) {
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const diff = data[ri + j]! - centroids[ci + j]!;
        dist += diff * diff;
      }
      dists[c] = dist;
    }
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (dists[c]! < bestDist) {
        bestDist = dists[c]!;
        best = c;
      }
    }
    labels[i] = best;
    sizes[best]!++;
    inertia += bestDist;
  }
  return { labels, inertia, sizes };
}

/** ml-kmeans's input (rows as arrays) for each matrix fitted, kept while the matrix lives: a sweep fits one sample for every k. */
const rowArrays = new WeakMap<Matrix, number[][]>();

function toRows(x: Matrix): number[][] {
  let rows = rowArrays.get(x);
  if (rows === undefined) {
    rows = Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
    rowArrays.set(x, rows);
  }
  return rows;
}

/** Random stream for one k of one seed, so every k of a sweep is reproducible on its own. */
export function randomFor(seed: number, k: number): Random {
  return new Random(((seed >>> 0) + Math.imul(k, 0x9e3779b9)) >>> 0);
}

/** Rows 0..rows-1 in their order: the sample order of a matrix already in sample order. */
export function inOrder(rows: number): Int32Array {
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  return order;
}

/** The rows `order[0..count)` of `x`, in that order (`x` itself when that is all of `x` in its own order). */
export function takeRows(x: Matrix, order: Int32Array, count: number): Matrix {
  if (!Number.isInteger(count) || count < 0 || count > order.length)
    throw new InvalidOptionError(`${count} rows wanted from an order of ${order.length}`);
  const d = x.cols;
  let same = count === x.rows;
  for (let r = 0; r < count && same; r++) same = order[r] === r;
  if (same) return x;
  const data = new Float64Array(count * d);
  for (let r = 0; r < count; r++) {
    const i = order[r]!;
    if (!(i >= 0 && i < x.rows)) throw new InvalidOptionError(`row ${i} of the order is not a row of the data (${x.rows} rows)`);
    data.set(x.data.subarray(i * d, i * d + d), r * d);
  }
  return { data, rows: count, cols: d };
}

/**
 * Per row of the full data, its centroid and a lower bound on its distance to every other centroid
 * (Hamerly's, with one shift for all rows): `lower[i] - drift` where `drift` adds up the largest
 * centroid move of each iteration. A row closer to its own centroid than that bound, or than half
 * the distance from its centroid to the nearest other one, keeps its centroid without a search.
 */
interface Bounds {
  readonly labels: Int32Array;
  readonly lower: Float64Array;
  /** Sum of the largest centroid move of each iteration so far. */
  drift: number;
  /** The largest distance to a second-nearest centroid when the bounds were first set: the scale of the rounding margin. */
  scale: number;
}

/**
 * A bound is trusted only by this much, relative to the distances involved: the rounding error of
 * the sums that move it is about 1e-16 of them per iteration.
 */
const BOUND_MARGIN = 1e-9;

/**
 * Labels every row with its nearest centroid (first on ties) by measuring every centroid, and sets
 * its bound; adds each row to its centroid's sum in row order (the Lloyd update).
 */
function assignSearching(x: Matrix, centroids: Float64Array, k: number, bounds: Bounds, sums: Float64Array, counts: Float64Array): void {
  const { data, rows: n, cols: d } = x;
  const { labels, lower } = bounds;
  const dists = new Float64Array(k);
  let scale = 0;
  for (let i = 0, ri = 0; i < n; i++, ri += d) {
    // every distance first, then the nearest two: measured faster than one loop doing both
    for (let c = 0, ci = 0; c < k; c++, ci += d) {
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const diff = data[ri + j]! - centroids[ci + j]!;
        dist += diff * diff;
      }
      dists[c] = dist;
    }
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    let second = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const dist = dists[c]!;
      if (dist < bestDist) {
        second = bestDist;
        bestDist = dist;
        best = c;
      } else if (dist < second) second = dist;
    }
    labels[i] = best;
    lower[i] = Math.sqrt(second);
    if (lower[i]! > scale && lower[i]! < Number.POSITIVE_INFINITY) scale = lower[i]!;
    counts[best]!++;
    for (let j = 0, ci = best * d; j < d; j++) sums[ci + j]! += data[ri + j]!;
  }
  bounds.drift = 0;
  bounds.scale = scale;
}

/**
 * Labels every row with its nearest centroid, as assignSearching does, measuring every centroid only
 * for rows whose bound does not prove that they keep theirs (with a margin, so that a row gets the
 * centroid the full search gives, first on ties). With `sums`, adds each row to its centroid's sum
 * in row order; returns the inertia, summed in row order.
 */
function assignBounded(
  x: Matrix,
  centroids: Float64Array,
  k: number,
  bounds: Bounds,
  sums: Float64Array | null,
  counts: Float64Array | null,
  distances: Float64Array | null = null,
): number {
  const { data, rows: n, cols: d } = x;
  const { labels, lower, drift } = bounds;
  const half = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let nearest = Number.POSITIVE_INFINITY;
    for (let b = 0; b < k; b++) if (b !== a) nearest = Math.min(nearest, squaredDistance(centroids, a * d, centroids, b * d, d));
    half[a] = Math.sqrt(nearest) / 2;
  }
  const margin = BOUND_MARGIN * (bounds.scale + drift);
  const dists = new Float64Array(k);
  let inertia = 0;
  for (let i = 0, ri = 0; i < n; i++, ri += d) {
    let best = labels[i]!;
    let own = 0;
    for (let j = 0, ci = best * d; j < d; j++) {
      const diff = data[ri + j]! - centroids[ci + j]!;
      own += diff * diff;
    }
    const bound = Math.max(half[best]!, lower[i]! - drift) - margin;
    if (!(bound > 0 && own < bound * bound)) {
      for (let c = 0, ci = 0; c < k; c++, ci += d) {
        let dist = 0;
        for (let j = 0; j < d; j++) {
          const diff = data[ri + j]! - centroids[ci + j]!;
          dist += diff * diff;
        }
        dists[c] = dist;
      }
      let second = Number.POSITIVE_INFINITY;
      own = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const dist = dists[c]!;
        if (dist < own) {
          second = own;
          own = dist;
          best = c;
        } else if (dist < second) second = dist;
      }
      labels[i] = best;
      lower[i] = Math.sqrt(second) + drift;
    }
    if (sums !== null && counts !== null) {
      counts[best]!++;
      for (let j = 0, ci = best * d; j < d; j++) sums[ci + j]! += data[ri + j]!;
    }
    inertia += own;
    if (distances !== null) distances[i] = Math.sqrt(own);
  }
  return inertia;
}

/**
 * ml-kmeans's Lloyd loop over a row-major Float64Array, for the full-data refinement: the same step
 * (nearest centroid, first on ties; means summed in row order; an empty cluster keeps its centroid)
 * and the same stopping rule (every centroid moved at most `tolerance`, squared, or `maxIterations`
 * reached), so it gives ml-kmeans's centroids, iterations and convergence flag bit for bit (tested)
 * without its arrays of arrays: through them, a fit of 10⁶ rows took about four times the CPU and over
 * twice the peak memory (README, design decisions). A bound per row spares most rows the search over
 * every centroid once the centroids barely move (assignBounded). Also returns the labels, sizes
 * and inertia for the final centroids, as assignToCentroids gives them, and each row's distance to
 * its centroid.
 */
export function refineLloyd(
  x: Matrix,
  start: Float64Array,
  k: number,
  maxIterations: number,
  tolerance: number,
): {
  centroids: Float64Array;
  iterations: number;
  converged: boolean;
  labels: Int32Array;
  inertia: number;
  sizes: Int32Array;
  distances: Float64Array;
} {
  const { rows: n, cols: d } = x;
  let centroids = Float64Array.from(start);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const bounds: Bounds = { labels: new Int32Array(n), lower: new Float64Array(n), drift: 0, scale: 0 };
  let iterations = maxIterations;
  let converged = false;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    sums.fill(0);
    counts.fill(0);
    if (iteration === 1) assignSearching(x, centroids, k, bounds, sums, counts);
    else assignBounded(x, centroids, k, bounds, sums, counts);
    const next = new Float64Array(k * d);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) next[c * d + j] = counts[c]! > 0 ? sums[c * d + j]! / counts[c]! : centroids[c * d + j]!;
      shift = Math.max(shift, squaredDistance(next, c * d, centroids, c * d, d));
    }
    bounds.drift += Math.sqrt(shift);
    centroids = next;
    if (shift <= tolerance) {
      iterations = iteration;
      converged = true;
      break;
    }
  }
  const distances = new Float64Array(n);
  const inertia = assignBounded(x, centroids, k, bounds, null, null, distances);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[bounds.labels[i]!]!++;
  return { centroids, iterations, converged, labels: bounds.labels, inertia, sizes, distances };
}

/**
 * Fits k-means: `restarts` greedy k-means++ starts, each refined by ml-kmeans's Lloyd iterations;
 * keeps the start with the lowest inertia. A start that ends with an empty cluster is discarded.
 * The starts run on the first min(rows, sampleSize) rows of the sample order (`order`), taken in
 * that order, so the fit depends on which rows there are, not on the order they came in: a table
 * read in the sample order gives the same starts. Above `sampleSize` rows the winner is refined on
 * all rows by the same Lloyd step and stopping rule (refineLloyd).
 */
export function fitKMeans(x: Matrix, k: number, options: KMeansOptions): KMeansFit {
  const sampleSize = options.sampleSize ?? SAMPLE_ROWS;
  const restarts = options.restarts ?? defaultRestarts(x.rows, sampleSize);
  const maxIterations = options.maxIterations ?? KMEANS_DEFAULTS.maxIterations;
  const tolerance = options.tolerance ?? KMEANS_DEFAULTS.tolerance;
  if (!Number.isInteger(options.seed)) throw new InvalidOptionError('a whole-number seed is required');
  if (!Number.isInteger(restarts) || restarts < 1) throw new InvalidOptionError(`restarts must be ≥ 1 (got ${restarts})`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new InvalidOptionError(`max iterations must be ≥ 1 (got ${maxIterations})`);
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new InvalidOptionError(`tolerance must be a number ≥ 0 (got ${tolerance})`);
  if (!Number.isInteger(sampleSize) || sampleSize < k)
    throw new InvalidOptionError(`the sample size must be a whole number ≥ k = ${k} (got ${sampleSize})`);
  checkClusterable(x, k);

  const sampled = Math.min(x.rows, sampleSize);
  const order = options.order ?? rowNumberOrder(x.rows, options.seed, sampled);
  if (order.length < sampled) throw new InvalidOptionError(`the sample order holds ${order.length} rows; ${sampled} are needed`);
  const sample = takeRows(x, order, sampled);
  const random = randomFor(options.seed, k);
  const rows = toRows(sample);
  const d = x.cols;
  let best: KMeansFit | undefined;
  let emptyRestarts = 0;
  for (let r = 0; r < restarts; r++) {
    const seeds = kmeansPlusPlus(sample, k, random);
    const initialization = Array.from({ length: k }, (_, c) => Array.from(seeds.subarray(c * d, (c + 1) * d)));
    const result = mlKMeans(rows, k, { initialization, maxIterations, tolerance });
    const centroids = Float64Array.from(result.centroids.flat());
    const { labels, inertia, sizes } = assignToCentroids(sample, centroids, k);
    if (sizes.some((s) => s === 0)) {
      emptyRestarts++;
      continue;
    }
    if (best === undefined || inertia < best.inertia) {
      best = {
        k,
        centroids,
        labels,
        inertia,
        iterations: result.iterations,
        converged: result.converged,
        bestRestart: r,
        emptyRestarts: 0,
        sample: null,
        distances: null,
      };
    }
  }
  if (best === undefined) {
    throw new ClusteringError(`every one of ${restarts} starts ended with an empty segment for k = ${k}; choose a smaller k`);
  }
  if (sampled === x.rows) {
    // every row, in sample order: the labels back in row order
    if (sample === x) return { ...best, emptyRestarts };
    const labels = new Int32Array(x.rows);
    for (let r = 0; r < sampled; r++) labels[order[r]!] = best.labels[r]!;
    return { ...best, labels, emptyRestarts };
  }
  const refined = refineLloyd(x, best.centroids, k, maxIterations, tolerance);
  const { labels, inertia, sizes, distances } = refined;
  if (sizes.some((s) => s === 0)) throw new ClusteringError(`k = ${k} leaves a segment empty on the full data; choose a smaller k`);
  return {
    ...best,
    centroids: refined.centroids,
    labels,
    inertia,
    iterations: best.iterations + refined.iterations,
    converged: refined.converged,
    emptyRestarts,
    sample: { rows: sample.rows, centroids: best.centroids, inertia: best.inertia },
    distances,
  };
}
