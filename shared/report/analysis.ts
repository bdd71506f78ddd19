// What the report computes beyond the model from the training customers' labels and model-space
// points: segment sizes, a 2-D PCA projection, the scatter's sample, and per-segment histograms.

import { PCA } from 'ml-pca';
import type { Matrix } from '../features/encode.ts';

/** Most customers drawn in the scatter; beyond this a stratified sample keeps the page light. */
export const DEFAULT_MAX_POINTS = 5000;
/** Bins per histogram, as in the original notebook. */
export const HISTOGRAM_BINS = 20;
/** Widest range of whole numbers that histograms and quantiles count value by value. */
const COUNTING_RANGE = 1 << 16;

/** Segment sizes from labels. */
export function countLabels(labels: Int32Array, k: number): number[] {
  const sizes = new Array<number>(k).fill(0);
  for (const l of labels) sizes[l]!++;
  return sizes;
}

export interface Projection {
  /** Scores on the first two principal components, per customer (PC2 is 0 with one column). */
  readonly pc1: Float64Array;
  readonly pc2: Float64Array;
  /** The centroids projected the same way. */
  readonly centroids: ReadonlyArray<readonly [number, number]>;
  /** Share of the total variance on PC1 and PC2 (0 when the data has none). */
  readonly explained: readonly [number, number];
  /** Loadings (unit eigenvectors) of PC1 and PC2 over the model columns. */
  readonly loadings: readonly [readonly number[], readonly number[]];
}

/**
 * Projects model-space points onto their first two principal components (eigenvectors of the
 * covariance matrix, via ml-pca). Each component's sign is fixed so that its largest loading is
 * positive, so the picture does not flip between runs or machines.
 */
export function projectPca(x: Matrix, centroids: readonly (readonly number[])[]): Projection {
  const { data, rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n || 1;
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centred[j] = data[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b]! += centred[a]! * centred[b]!;
  }
  const covariance = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => cov[Math.min(a, b) * d + Math.max(a, b)]! / (n || 1)),
  );
  const pca = new PCA(covariance, { isCovarianceMatrix: true });
  const vectors = pca.getEigenvectors();
  const eigenvalues = pca.getEigenvalues().map((v) => Math.max(0, v));
  const total = eigenvalues.reduce((s, v) => s + v, 0);
  const component = (c: number): number[] => {
    if (c >= d) return new Array<number>(d).fill(0);
    const v = Array.from({ length: d }, (_, j) => vectors.get(j, c));
    let largest = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!) + 1e-12) largest = j;
    return v[largest]! < 0 ? v.map((e) => (e === 0 ? 0 : -e)) : v;
  };
  const l1 = component(0);
  const l2 = component(1);
  const pc1 = new Float64Array(n);
  const pc2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < d; j++) {
      const c = data[i * d + j]! - mean[j]!;
      s1 += c * l1[j]!;
      s2 += c * l2[j]!;
    }
    pc1[i] = s1;
    pc2[i] = s2;
  }
  const project = (point: readonly number[]): [number, number] => {
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < d; j++) {
      const c = point[j]! - mean[j]!;
      s1 += c * l1[j]!;
      s2 += c * l2[j]!;
    }
    return [s1, s2];
  };
  const share = (c: number): number => (total > 0 && c < eigenvalues.length ? eigenvalues[c]! / total : 0);
  return { pc1, pc2, centroids: centroids.map(project), explained: [share(0), share(1)], loadings: [l1, l2] };
}

/**
 * The customers drawn in the scatter: indices (ascending) of at most `maxPoints` customers, every
 * segment in proportion to its size (largest remainder, at least one customer per segment), evenly
 * spaced through the segment's members in training order. All customers when there are no more
 * than `maxPoints`. Unlike the silhouette's `silhouetteSample` (random for a seed, two rows per
 * cluster at least), no seed: the same model and customers always draw the same picture.
 */
export function scatterSample(labels: Int32Array, k: number, maxPoints: number): Int32Array {
  const n = labels.length;
  if (n <= maxPoints) return Int32Array.from({ length: n }, (_, i) => i);
  const sizes = countLabels(labels, k);
  const present = sizes.filter((m) => m > 0).length;
  const spare = Math.max(0, maxPoints - present);
  const quotas = sizes.map((m) => (m > 0 ? 1 + Math.floor((spare * m) / n) : 0));
  let left = maxPoints - quotas.reduce((s, q) => s + q, 0);
  const byRemainder = sizes
    .map((m, c) => ({ c, remainder: (spare * m) / n - Math.floor((spare * m) / n) }))
    .sort((a, b) => b.remainder - a.remainder || a.c - b.c);
  for (const { c } of byRemainder) {
    if (left <= 0) break;
    if (quotas[c]! < sizes[c]!) {
      quotas[c]!++;
      left--;
    }
  }
  // the j-th of a segment's q picks is its member of rank ⌊(j + ½)·size / q⌋, found in one pass
  const quota = Int32Array.from(quotas, (q, c) => Math.min(q, sizes[c]!));
  const rank = new Int32Array(k);
  const picked = new Int32Array(k);
  const next = Float64Array.from(quota, (q, c) => (q > 0 ? Math.floor((0.5 * sizes[c]!) / q) : Number.POSITIVE_INFINITY));
  const chosen = new Int32Array(quota.reduce((s, q) => s + q, 0));
  let at = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (rank[c]!++ !== next[c]) continue;
    chosen[at++] = i;
    const j = ++picked[c]!;
    next[c] = j < quota[c]! ? Math.floor(((j + 0.5) * sizes[c]!) / quota[c]!) : Number.POSITIVE_INFINITY;
  }
  return chosen;
}

export interface Histogram {
  /** The numeric feature's name. */
  readonly feature: string;
  /** Bin edges shared by every segment: `bins + 1` ascending values over all customers' range. */
  readonly edges: readonly number[];
  /** Customers per bin, per segment. */
  readonly counts: readonly (readonly number[])[];
  /** Bins of equal width in log1p of the values (a log-transformed money column), else in the values. */
  readonly log1p: boolean;
}

/**
 * Equal-width histograms of one numeric feature per segment, on common bins over all customers.
 * With `log1p`, the bins are of equal width in log1p of the values (edges given in the values):
 * a skewed money column spreads over its bins instead of filling the first.
 */
export function segmentHistogram(
  values: Float64Array,
  labels: Int32Array,
  k: number,
  feature: string,
  bins = HISTOGRAM_BINS,
  log1p = false,
): Histogram {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let whole = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (whole && !Number.isInteger(v)) whole = false;
  }
  const [low, high] = [min, max];
  // the axis the bins are equal on: the values, or their log1p
  const axis = log1p ? Math.log1p : (v: number) => v;
  const back = log1p ? Math.expm1 : (v: number) => v;
  let from = axis(min);
  let to = axis(max);
  if (values.length === 0) {
    from = 0;
    to = 1;
  }
  if (to === from) {
    from -= 0.5;
    to += 0.5;
  }
  const width = (to - from) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, b) =>
    b === 0 && values.length > 0 && low !== high ? low : b === bins ? back(to) : back(from + b * width),
  );
  if (values.length > 0 && low !== high) edges[bins] = high;
  const binOf = (v: number): number => Math.max(0, Math.min(bins - 1, Math.floor((axis(v) - from) / width)));
  const flat = new Int32Array(k * bins);
  if (whole && values.length > 0 && high - low < COUNTING_RANGE && (high - low) * k < values.length) {
    // whole numbers: customers counted per segment and value, each distinct value binned once
    const range = high - low + 1;
    const perValue = new Int32Array(k * range);
    for (let i = 0; i < values.length; i++) perValue[labels[i]! * range + (values[i]! - low)]!++;
    for (let v = 0; v < range; v++) {
      const bin = binOf(low + v);
      for (let c = 0; c < k; c++) flat[c * bins + bin]! += perValue[c * range + v]!;
    }
  } else {
    for (let i = 0; i < values.length; i++) flat[labels[i]! * bins + binOf(values[i]!)]!++;
  }
  const counts = Array.from({ length: k }, (_, c) => Array.from(flat.subarray(c * bins, (c + 1) * bins)));
  return { feature, edges, counts, log1p };
}

/**
 * Quantiles of values, exactly as quantileSorted gives them on the sorted values (linear
 * interpolation between ranks), without sorting: whole numbers in a modest range (ages, scores,
 * incomes in whole k$) are counted, anything else is selected on a copy, O(n) per quantile.
 */
export function quantiles(values: Float64Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => Number.NaN);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let whole = true;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (whole && !Number.isInteger(v)) whole = false;
  }
  let valueAt: (rank: number) => number;
  if (whole && max - min < COUNTING_RANGE) {
    const counts = new Int32Array(max - min + 1);
    for (let i = 0; i < n; i++) counts[values[i]! - min]!++;
    valueAt = (rank) => {
      let seen = 0;
      for (let v = 0; v < counts.length; v++) {
        seen += counts[v]!;
        if (seen > rank) return min + v;
      }
      return max;
    };
  } else {
    const a = Float64Array.from(values);
    valueAt = (rank) => {
      select(a, rank, 0, n - 1);
      return a[rank]!;
    };
  }
  return qs.map((q) => {
    const position = (n - 1) * q;
    const low = Math.floor(position);
    const high = Math.min(low + 1, n - 1);
    const lowValue = valueAt(low);
    const highValue = high > low ? valueAt(high) : lowValue;
    return lowValue + (highValue - lowValue) * (position - low);
  });
}

/** Floyd–Rivest selection: rearranges a[left..right] so that a[k] is the value of rank k there. */
function select(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      // narrow the range to a sample's estimate of where rank k lies
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      select(a, k, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)));
    }
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
