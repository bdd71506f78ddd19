// Training: encode and scale → sweep k → fit → profile and name → a stamped model artifact.
// Pure: the caller supplies customers, the clock and where the data came from.

import { columnsOf, type Customers } from '../csv/columns.ts';
import { fingerprint } from '../csv/fingerprint.ts';
import type { CustomerColumnsCsv } from '../csv/read-customers.ts';
import { InvalidOptionError } from '../errors.ts';
import { applyScaler, encodeRaw, ENCODING_STEPS, fitScaler, toOriginalUnits, type Scaler } from '../features/encode.ts';
import { learnCategories, resolveFeatures, type FeatureOptions, type FeatureSpec } from '../features/spec.ts';
import type { CustomerSchema } from '../schema/customer-schema.ts';
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
import { dominanceWarnings, nameSegments, profileSegments, segmentDeviations, type SegmentProfile } from '../profile/profile.ts';
import { canonicalJson, SCHEMA_VERSION, stampModel, type Model } from '../model/artifact.ts';
import { SOFTWARE } from '../model/software.ts';
import { matchSegments, type ReferenceSegments } from '../model/lineage.ts';
import { baselineOf, type Baseline } from '../model/drift.ts';

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
  /** The schema of customers held as objects (default: the mall's); columns carry their own. */
  readonly schema?: CustomerSchema;
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

/** The training options checked and with their defaults: what both training paths start from. */
export interface TrainSettings {
  readonly seed: number;
  readonly sampleSize: number;
  readonly maxIterations: number;
  readonly maxK: number;
  readonly requestedK: number | 'auto';
  readonly mode: SweepMode;
  /** The restarts: the given number, or defaultRestarts for `rows` customers and the sample size. */
  readonly restartsFor: (rows: number) => number;
}

/**
 * Checks the options and fills in their defaults. The restarts wait for the number of rows, which
 * training from the table knows only once it has copied them (after these checks).
 */
export function resolveTrainOptions(options: TrainOptions): TrainSettings {
  const seed = options.seed ?? DEFAULT_SEED;
  const sampleSize = options.sampleSize ?? SAMPLE_ROWS;
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
  const maxK = options.maxK ?? DEFAULT_MAX_K;
  const restartsFor = (rows: number): number => options.restarts ?? defaultRestarts(rows, sampleSize);
  return { seed, sampleSize, maxIterations, maxK, requestedK, mode, restartsFor };
}

/** A trained model before its segments have ids and names: what assembleModel makes a model of. */
export interface TrainedParts {
  readonly customerSchema: CustomerSchema;
  readonly features: FeatureSpec[];
  readonly scaler: Scaler;
  readonly k: number;
  readonly seed: number;
  readonly restarts: number;
  readonly maxIterations: number;
  /** The centroids in model units and canonical order (canonicalOrder), k rows one after another. */
  readonly centroids: Float64Array;
  readonly metrics: Model['metrics'];
  /** The segments' profiles by centroid, and how each differs from everyone (what names them). */
  readonly profiles: readonly Omit<SegmentProfile, 'name'>[];
  readonly deviations: readonly Readonly<Record<string, number>>[];
  readonly warnings: string[];
  readonly baseline: Baseline;
  readonly training: Model['training'];
}

/**
 * The stamped model of both training paths: segments matched to the reference's (same segment,
 * same id and name) or named from their deviations, with " (new)" where a generated name is one a
 * kept segment already has.
 */
export function assembleModel(parts: TrainedParts, reference: Model | null, now: Date): Model {
  const { features, scaler, k, centroids, profiles } = parts;
  const d = centroids.length / k;
  const model = Array.from({ length: k }, (_, c) => Array.from(centroids.subarray(c * d, (c + 1) * d)));
  const original = model.map((c) => toOriginalUnits(c, scaler));
  const matching = matchSegments(
    { columns: scaler.columns, original, scale: scaler.scale },
    reference === null ? null : referenceOf(reference),
  );
  const generated = nameSegments(
    parts.customerSchema,
    parts.deviations.map((dev, i) => ({ dev, categories: profiles[i]!.categories })),
  );
  const kept = new Set(matching.names.filter((name): name is string => name !== undefined));
  const segments = profiles.map((p, i) => {
    const name = matching.names[i] ?? (kept.has(generated[i]!) ? `${generated[i]} (new)` : generated[i]!);
    return { ...p, id: matching.ids[i]!, name };
  });
  const body = {
    schemaVersion: SCHEMA_VERSION,
    software: { ...SOFTWARE },
    customerSchema: parts.customerSchema,
    encoding: [...ENCODING_STEPS],
    features,
    scaler,
    k,
    seed: parts.seed,
    restarts: parts.restarts,
    maxIterations: parts.maxIterations,
    centroids: { columns: scaler.columns, model, original },
    metrics: parts.metrics,
    segments,
    warnings: parts.warnings,
    lineage: matching.lineage,
    baseline: parts.baseline,
    training: parts.training,
  };
  // round-trip through canonical JSON so the hash covers exactly what is written
  return stampModel(JSON.parse(canonicalJson(body)), now);
}

/**
 * Trains a model version from customers; `now` stamps `createdAt` and the version's time part.
 * With the active model as `reference`, a segment that is the same as one of its segments keeps
 * that segment's id and name.
 */
export function trainModel(data: TrainingData, options: TrainOptions, now: Date, reference: Model | null = null): Model {
  const { seed, sampleSize, maxIterations, maxK, requestedK, mode, restartsFor } = resolveTrainOptions(options);
  const restarts = restartsFor(data.customers.length);
  const customers = columnsOf(data.customers, data.schema);
  const customerSchema = customers.schema;
  const features = learnCategories(resolveFeatures(options, customerSchema), customers);
  const raw = encodeRaw(customers, features);
  const scaler = fitScaler(raw, features);
  const x = applyScaler(raw, scaler);
  // every sample is a prefix of one order of the customers, from the seed and their ids
  // (sample-order.ts): the same rows, in the same order, as training from the table reads
  const order = sampleOrder((row) => customers.customerId(row), seed, sampleOrderRows(x.rows, sampleSize), x.rows);
  const kmeansOptions = { seed, restarts, maxIterations, sampleSize, order };

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
  const parts = {
    customerSchema,
    features,
    scaler,
    k,
    seed,
    restarts,
    maxIterations,
    centroids: fit.centroids,
    metrics: {
      inertia: fit.inertia,
      silhouette: metrics.silhouette,
      daviesBouldin: metrics.daviesBouldin,
      calinskiHarabasz: metrics.calinskiHarabasz,
      sweep,
    },
    profiles,
    deviations: segmentDeviations(customers, profiles),
    warnings: dominanceWarnings(customers, fit.labels, profiles, features),
    baseline: baselineOf(customers, distances, countOutliers(distances, fit.labels, profiles)),
    training: {
      source: data.source,
      rowsRead: data.rowsRead,
      rowsAccepted: customers.length,
      rowsRejected: data.rowsRejected,
      duplicates: data.duplicates,
      fingerprint: fingerprint(customers),
    },
  };
  return assembleModel(parts, reference, now);
}
