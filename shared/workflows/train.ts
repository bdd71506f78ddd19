// Training: encode and scale → sweep k → fit → profile and name → a stamped model artifact.
// Pure: the caller supplies customers, the clock and where the data came from.

import { columnsOf, type Customers } from '../csv/columns.ts';
import { fingerprint } from '../csv/fingerprint.ts';
import type { CustomerColumnsCsv } from '../csv/read-customers.ts';
import { InvalidOptionError } from '../errors.ts';
import { applyScaler, encodeRaw, fitScaler, toOriginalUnits, type Matrix } from '../features/encode.ts';
import { resolveFeatures, type FeatureOptions } from '../features/spec.ts';
import { defaultRestarts, fitKMeans, KMEANS_DEFAULTS, SAMPLE_ROWS, type KMeansFit } from '../clustering/kmeans.ts';
import { centroidDistances, clusterMetrics } from '../clustering/metrics.ts';
import { sampleOrder } from '../clustering/sample-order.ts';
import {
  DEFAULT_MAX_K,
  fullSweep,
  noSweep,
  QUICK_SWEEP,
  quickSweep,
  SWEEP_MODES,
  type Sweep,
  type SweepEntry,
  type SweepMode,
} from '../clustering/sweep.ts';
import { dominanceWarnings, nameSegments, profileSegments, segmentDeviations } from '../profile/profile.ts';
import { canonicalJson, SCHEMA_VERSION, stampModel, type Model } from '../model/artifact.ts';
import { SOFTWARE } from '../model/software.ts';
import { matchSegments, type ReferenceSegments } from '../model/lineage.ts';
import { baselineOf } from '../model/drift.ts';

/** trainModel's seed when none is given. */
export const DEFAULT_SEED = 42;

export interface TrainOptions extends FeatureOptions {
  /** A fixed k, or 'auto' (default) for the sweep's suggestion. An explicit k always wins. */
  readonly k?: number | 'auto';
  readonly maxK?: number;
  readonly seed?: number;
  readonly restarts?: number;
  readonly maxIterations?: number;
  /**
   * The restarts run on the first `sampleSize` rows of the sample order (default SAMPLE_ROWS,
   * 20,000), the full sweep on at most that many (and at most FULL_SWEEP.rows, 10,000); above it,
   * the winning start is refined on all rows.
   */
  readonly sampleSize?: number;
  /**
   * Which k sweep runs (SweepMode): by default `full` when k is 'auto' (it chooses k) and `quick`
   * when k is given (it only shows the curve beside it); `none` needs a given k.
   */
  readonly sweep?: SweepMode;
  /** Progress for long work: one call per k of the sweep. */
  readonly onSweep?: (entry: SweepEntry) => void;
}

/** What the training data was and how it read. */
export interface TrainingData {
  readonly source: string;
  readonly customers: Customers;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  readonly duplicates: number;
}

/** Training data from a CSV read into columns. */
export function trainingDataFromCsv(csv: CustomerColumnsCsv, source: string): TrainingData {
  return {
    source,
    customers: csv.columns,
    rowsRead: csv.rowsRead,
    rowsRejected: csv.rejected.length,
    duplicates: csv.duplicates,
  };
}

/**
 * How many rows of the sample order training takes (sample-order.ts): the first
 * min(rows, max(sampleSize, QUICK_SWEEP.rows)). The restarts run on the first min(rows, sampleSize)
 * of them, the full sweep on the first min(rows, sampleSize, FULL_SWEEP.rows), the quick sweep on
 * the first min(rows, QUICK_SWEEP.rows), and the model's silhouette on rows of the restarts' sample.
 */
export function sampleOrderRows(rows: number, sampleSize: number = SAMPLE_ROWS): number {
  return Math.min(rows, Math.max(sampleSize, QUICK_SWEEP.rows));
}

/** Training customers beyond their segment's outlier threshold (by centroid index). */
function countOutliers(distances: Float64Array, labels: Int32Array, segments: readonly { outlierThreshold: number }[]): number {
  let n = 0;
  for (let i = 0; i < distances.length; i++) if (distances[i]! > segments[labels[i]!]!.outlierThreshold) n++;
  return n;
}

/**
 * The canonical order of segments (largest first; ties by centroid coordinates), so that segment
 * ids do not depend on the order k-means happened to find them in: the old index of each new id.
 * Training from the table orders its centroids by it too (table-model.ts).
 */
export function canonicalOrder(sizes: ArrayLike<number>, centroids: Float64Array, d: number): number[] {
  return Array.from({ length: sizes.length }, (_, c) => c).sort((a, b) => {
    if (sizes[b]! !== sizes[a]!) return sizes[b]! - sizes[a]!;
    for (let j = 0; j < d; j++) {
      const diff = centroids[a * d + j]! - centroids[b * d + j]!;
      if (diff !== 0) return diff;
    }
    return 0;
  });
}

/** The centroids in `order` (the old index of each new id, as canonicalOrder gives it). */
export function reorderCentroids(centroids: Float64Array, order: readonly number[], d: number): Float64Array {
  const ordered = new Float64Array(centroids.length);
  order.forEach((old, id) => ordered.set(centroids.subarray(old * d, old * d + d), id * d));
  return ordered;
}

/** The fit with its segments in canonical order (canonicalOrder) and its labels renumbered. */
function inCanonicalOrder(fit: KMeansFit, d: number): KMeansFit {
  const sizes = new Int32Array(fit.k);
  for (let i = 0; i < fit.labels.length; i++) sizes[fit.labels[i]!]!++;
  const order = canonicalOrder(sizes, fit.centroids, d);
  if (order.every((old, id) => old === id)) return fit;
  const newId = new Int32Array(fit.k);
  order.forEach((old, id) => (newId[old] = id));
  const centroids = reorderCentroids(fit.centroids, order, d);
  const labels = new Int32Array(fit.labels.length);
  for (let i = 0; i < labels.length; i++) labels[i] = newId[fit.labels[i]!]!;
  return { ...fit, centroids, labels };
}

/** The reference for stable segment ids: the active model's segments and centroids. */
export function referenceOf(model: Model): ReferenceSegments {
  return {
    modelVersion: model.modelVersion,
    ids: model.segments.map((s) => s.id),
    names: model.segments.map((s) => s.name),
    columns: model.centroids.columns,
    original: model.centroids.original,
    scale: model.scaler.scale,
    nextId: model.lineage.nextId,
  };
}

/**
 * Trains a model version from customers; `now` stamps `createdAt` and the version's time part.
 * With the active model as `reference`, a segment that is the same as one of its segments keeps
 * that segment's id and name.
 */
export function trainModel(data: TrainingData, options: TrainOptions, now: Date, reference: Model | null = null): Model {
  const seed = options.seed ?? DEFAULT_SEED;
  const sampleSize = options.sampleSize ?? SAMPLE_ROWS;
  const restarts = options.restarts ?? defaultRestarts(data.customers.length, sampleSize);
  const maxIterations = options.maxIterations ?? KMEANS_DEFAULTS.maxIterations;
  const requestedK = options.k ?? 'auto';
  if (requestedK !== 'auto' && !(Number.isInteger(requestedK) && requestedK >= 1)) {
    throw new InvalidOptionError(`k must be a whole number ≥ 1 or "auto" (got ${String(requestedK)})`);
  }
  const mode = options.sweep ?? (requestedK === 'auto' ? 'full' : 'quick');
  if (!SWEEP_MODES.includes(mode)) throw new InvalidOptionError(`the sweep is one of ${SWEEP_MODES.join(', ')} (got ${String(mode)})`);
  if (mode === 'none' && requestedK === 'auto') throw new InvalidOptionError('without a sweep, k must be given');
  if (!Number.isInteger(sampleSize) || sampleSize < 1)
    throw new InvalidOptionError(`the sample size must be a whole number ≥ 1 (got ${sampleSize})`);
  const features = resolveFeatures(options);
  const { customers } = data;
  const raw = encodeRaw(customers, features);
  const scaler = fitScaler(raw, features);
  const x = applyScaler(raw, scaler);
  // every sample is a prefix of one order of the customers, from the seed and their ids
  // (sample-order.ts): the same rows, in the same order, as training from the table reads
  const columns = columnsOf(customers);
  const order = sampleOrder((row) => columns.customerId(row), seed, sampleOrderRows(x.rows, sampleSize), x.rows);
  const kmeansOptions = { seed, restarts, maxIterations, sampleSize, order };

  const maxK = options.maxK ?? DEFAULT_MAX_K;
  let sweep: Sweep | null = null;
  let found: KMeansFit | undefined;
  if (mode === 'full') {
    // on the first rows of the sample order when the data is large; the chosen k is then fitted on
    // all rows
    const result = fullSweep(x, { ...kmeansOptions, maxK, onK: options.onSweep });
    sweep = result.sweep;
    if (!result.sampled) found = result.fits.get(requestedK === 'auto' ? sweep.suggestedK : requestedK);
  } else if (mode === 'quick') {
    sweep = quickSweep(x, { seed, maxIterations, maxK, order, onK: options.onSweep });
  }
  const k = requestedK === 'auto' ? sweep!.suggestedK : requestedK;
  const fit = inCanonicalOrder(found ?? fitKMeans(x, k, kmeansOptions), x.cols);
  const distances = fit.distances ?? centroidDistances(x, fit.labels, fit.centroids);
  // the silhouette on rows of the restarts' sample, which training from the table holds too
  const silhouetteFrom = order.subarray(0, Math.min(x.rows, sampleSize));
  const metrics = clusterMetrics(x, fit.labels, fit.centroids, k, seed, { distances, silhouetteFrom });
  sweep ??= noSweep(
    {
      k,
      inertia: fit.inertia,
      silhouette: metrics.silhouette,
      daviesBouldin: metrics.daviesBouldin,
      calinskiHarabasz: metrics.calinskiHarabasz,
    },
    x.rows,
    restarts,
    metrics.silhouetteRows,
  );

  const profiles = profileSegments(customers, fit.labels, distances, k);
  const generated = nameSegments(
    segmentDeviations(customers, profiles).map((dev, i) => ({ dev, genderShares: profiles[i]!.categories.gender })),
  );
  const d = x.cols;
  const model = Array.from({ length: k }, (_, c) => Array.from(fit.centroids.subarray(c * d, (c + 1) * d)));
  const original = model.map((c) => toOriginalUnits(c, scaler));
  const matching = matchSegments(
    { columns: scaler.columns, original, scale: scaler.scale },
    reference === null ? null : referenceOf(reference),
  );
  const kept = new Set(matching.names.filter((n): n is string => n !== undefined));
  const segments = profiles.map((p, i) => {
    const name = matching.names[i] ?? (kept.has(generated[i]!) ? `${generated[i]} (new)` : generated[i]!);
    return { ...p, id: matching.ids[i]!, name };
  });
  const body = {
    schemaVersion: SCHEMA_VERSION,
    software: { ...SOFTWARE },
    features,
    scaler,
    k,
    seed,
    restarts,
    maxIterations,
    centroids: { columns: scaler.columns, model, original },
    metrics: {
      inertia: fit.inertia,
      silhouette: metrics.silhouette,
      daviesBouldin: metrics.daviesBouldin,
      calinskiHarabasz: metrics.calinskiHarabasz,
      sweep,
    },
    segments,
    warnings: dominanceWarnings(customers, fit.labels, segments, features),
    lineage: matching.lineage,
    baseline: baselineOf(customers, distances, countOutliers(distances, fit.labels, segments)),
    training: {
      source: data.source,
      rowsRead: data.rowsRead,
      rowsAccepted: customers.length,
      rowsRejected: data.rowsRejected,
      duplicates: data.duplicates,
      fingerprint: fingerprint(customers),
    },
  };
  // round-trip through canonical JSON so the hash covers exactly what is written
  return stampModel(JSON.parse(canonicalJson(body)), now);
}
