// Training a model from the customers table inside the database: the same steps as trainModel
// (train.ts), where the rows are. The database copies the table (a consistent set of rows for the
// whole run: shared/sql/table-training.ts), gives the scaler's sums and the first rows of the sample
// order; the k sweep and the restarts run here on that sample with the file path's own code
// (fullSweep, quickSweep, fitKMeans); the refinement on all rows is Lloyd iterations of one
// aggregate statement each; the profiles, metrics, drift baseline and fingerprint come from
// aggregates. For the same rows, the model is the one trainModel gives, up to the rounding of sums
// taken in another order (tested: same k, sizes, names and labels; centroids within 1e-9).

import { GENDERS, NUMERIC_FIELDS, type Customer, type NumericField } from '../csv/contract.ts';
import { ClusteringError, InvalidOptionError } from '../errors.ts';
import { encodeScaled, scalerOf } from '../features/encode.ts';
import { resolveFeatures } from '../features/spec.ts';
import { MALL_SCHEMA } from '../schema/customer-schema.ts';
import {
  assignToCentroids,
  fitKMeans,
  inOrder,
  KMEANS_DEFAULTS,
  SAMPLE_ROWS,
  squaredDistance,
  takeRows,
  type KMeansFit,
} from '../clustering/kmeans.ts';
import {
  calinskiHarabaszOfSums,
  daviesBouldinOfScatter,
  SILHOUETTE_EXACT_MAX_ROWS,
  silhouette,
  silhouetteSample,
} from '../clustering/metrics.ts';
import { sampleKey } from '../clustering/sample-order.ts';
import { fullSweep, noSweep, quickSweep, type Sweep } from '../clustering/sweep.ts';
import { dominanceWarningsOf, OUTLIER_PERCENTILE, type SegmentProfile } from '../profile/profile.ts';
import { quantile, summarizeAscending, type Ascending } from '../profile/stats.ts';
import type { Model } from '../model/artifact.ts';
import { baselineFromCounts, decileEdges, type Baseline } from '../model/drift.ts';
import {
  ALL,
  type ModelSpace,
  type RankedField,
  type RankRequest,
  type SegmentTotals,
  type TableTraining,
  type TrainingSnapshot,
} from '../ports.ts';
import { TABLE_SOURCE } from './database.ts';
import { assembleModel, canonicalOrder, reorderCentroids, resolveTrainOptions, sampleOrderRows, type TrainOptions } from './train.ts';

/**
 * A table-trained model's report is drawn from this many customers at most, the first of the
 * sample order for the model's seed (the restarts' sample by default): a fixed number, so that
 * rendering it again from the table (rewriteTableReport) draws the same customers.
 */
export const REPORT_SAMPLE_ROWS = SAMPLE_ROWS;

/** A model trained in the table, with what the rest of the run needs of its training. */
export interface TableModel {
  readonly model: Model;
  readonly snapshot: TrainingSnapshot;
  /** The report's sample: the first REPORT_SAMPLE_ROWS customers of the sample order (all of them when there are no more). */
  readonly sample: readonly Customer[];
  /** Customers by the reference's segment (rows) and the new model's (columns), positions in each model's arrays; null without a reference. */
  readonly movement: number[][] | null;
}

/**
 * Trains a model from the table through `training`, on the rows it copies for `runId`; `now`
 * stamps it and `reference` (the active model) keeps matched segments' ids and names, as in
 * trainModel. Leaves the run's copy in place (the caller records members from it, then drops it).
 */
export async function trainInTable(
  training: TableTraining,
  runId: string,
  options: TrainOptions,
  now: Date,
  reference: Model | null,
  log: (message: string) => void = () => undefined,
): Promise<TableModel> {
  const { seed, sampleSize, maxIterations, maxK, requestedK, mode, restartsFor } = resolveTrainOptions(options);
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('a whole-number seed is required');
  const features = resolveFeatures(options);

  const snapshot = await training.takeSnapshot(runId, seed);
  const n = snapshot.customers;
  log(`copied ${n} customers (${snapshot.points} distinct points) to train on`);
  if (n === 0) throw new ClusteringError('no rows to cluster');
  const restarts = restartsFor(n);
  const sums = await training.scalerSums(snapshot, features);
  const scaler = scalerOf(sums.mean, sums.squares, n, features);

  // the first rows of the sample order: the restarts' (sampleSize), the quick sweep's and the report's at least
  const sample: Customer[] = [];
  const sampleRows = Math.max(sampleOrderRows(n, sampleSize), Math.min(n, REPORT_SAMPLE_ROWS));
  for await (const page of training.readSample(snapshot, sampleRows, (id) => sampleKey(id, seed))) sample.push(...page);
  log(`read a sample of ${sample.length} customers`);
  const xs = encodeScaled(sample, features, scaler);
  const restartRows = Math.min(n, sampleSize);
  const xr = takeRows(xs, inOrder(xs.rows), restartRows);
  const kmeansOptions = { seed, restarts, maxIterations, sampleSize };

  let sweep: Sweep | null = null;
  let found: KMeansFit | undefined;
  if (mode === 'full') {
    const result = fullSweep(xs, { ...kmeansOptions, order: inOrder(xs.rows), maxK, onK: options.onSweep });
    sweep = result.sweep;
    // every row was in the sweep (trainModel's `sampled` false): its fit is the model's
    if (!result.sampled && xs.rows === n) found = result.fits.get(requestedK === 'auto' ? sweep.suggestedK : requestedK);
  } else if (mode === 'quick') {
    sweep = quickSweep(xs, { seed, maxIterations, maxK, order: inOrder(xs.rows), onK: options.onSweep });
  }
  const k = requestedK === 'auto' ? sweep!.suggestedK : requestedK;
  const start = found ?? fitKMeans(xr, k, { ...kmeansOptions, order: inOrder(xr.rows) });
  const d = xr.cols;
  const space = (centroids: Float64Array): ModelSpace => ({ features, scaler, centroids: rowsOf(centroids, k, d) });

  // above the sample size, the winner of the restarts is refined on every customer (refineLloyd)
  let centroids = start.centroids;
  if (n > restartRows) centroids = await refineInTable(training, snapshot, space, centroids, k, d, maxIterations, log);
  const { counts: finalSizes } = await training.lloydSums(snapshot, space(centroids));
  if (finalSizes.some((s) => s === 0)) throw new ClusteringError(`k = ${k} leaves a segment empty on the full data; choose a smaller k`);
  const ordered = reorderCentroids(centroids, canonicalOrder(finalSizes, centroids, d), d);
  const totals = await training.labelPoints(snapshot, space(ordered));
  log(`labeled the ${snapshot.points} points with the model's ${k} centroids`);

  const inertia = totals.reduce((s, t) => s + t.squaredDistanceSum, 0);
  const restartLabels = assignToCentroids(xr, ordered, k).labels;
  const silhouetteRows = silhouetteSample(restartLabels, k, SILHOUETTE_EXACT_MAX_ROWS, seed);
  const metrics = {
    silhouette: silhouette(xr, restartLabels, k, silhouetteRows),
    daviesBouldin: daviesBouldinOf(totals, ordered, k, d),
    calinskiHarabasz: calinskiHarabaszOf(totals, ordered, k, d, n),
  };
  sweep ??= noSweep({ k, inertia, ...metrics }, n, restarts, silhouetteRows.length);

  const figures = await figuresOf(training, snapshot, totals, n);
  log('profiled the segments');
  const fingerprint = await training.fingerprint(snapshot);
  log('fingerprinted the training rows');
  const parts = {
    customerSchema: MALL_SCHEMA,
    features,
    scaler,
    k,
    seed,
    restarts,
    maxIterations,
    centroids: ordered,
    metrics: { inertia, ...metrics, sweep },
    profiles: figures.profiles,
    deviations: figures.deviations,
    warnings: dominanceWarningsOf(figures.profiles, figures.eta, features),
    baseline: figures.baseline,
    training: { source: TABLE_SOURCE, rowsRead: n, rowsAccepted: n, rowsRejected: 0, duplicates: 0, fingerprint },
  };
  const stamped = assembleModel(parts, reference, now);
  const movement = reference === null ? null : await training.movement(snapshot, spaceOfModel(reference), k);
  return { model: stamped, snapshot, sample: sample.slice(0, Math.min(n, REPORT_SAMPLE_ROWS)), movement };
}

/** A model's space for SQL: its features, scaler and centroids. */
export function spaceOfModel(model: Model): ModelSpace {
  return { features: model.features, scaler: model.scaler, centroids: model.centroids.model };
}

function rowsOf(centroids: Float64Array, k: number, d: number): number[][] {
  return Array.from({ length: k }, (_, c) => Array.from(centroids.subarray(c * d, (c + 1) * d)));
}

/**
 * refineLloyd's loop with each step's sums from the database: nearest centroid (first on ties),
 * means of the customers (an empty cluster keeps its centroid), until no centroid moves more than
 * the tolerance (squared) or `maxIterations`.
 */
async function refineInTable(
  training: TableTraining,
  snapshot: TrainingSnapshot,
  space: (centroids: Float64Array) => ModelSpace,
  start: Float64Array,
  k: number,
  d: number,
  maxIterations: number,
  log: (message: string) => void,
): Promise<Float64Array> {
  let centroids = Float64Array.from(start);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const { counts, sums } = await training.lloydSums(snapshot, space(centroids));
    const next = new Float64Array(k * d);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) next[c * d + j] = counts[c]! > 0 ? sums[c * d + j]! / counts[c]! : centroids[c * d + j]!;
      shift = Math.max(shift, squaredDistance(next, c * d, centroids, c * d, d));
    }
    centroids = next;
    log(`refinement on every customer: iteration ${iteration}, largest centroid move² ${shift.toPrecision(3)}`);
    if (shift <= KMEANS_DEFAULTS.tolerance) break;
  }
  return centroids;
}

/** Davies–Bouldin from each segment's distance sum and the centroids. */
function daviesBouldinOf(totals: readonly SegmentTotals[], centroids: Float64Array, k: number, d: number): number | null {
  const scatter = totals.map((t) => (t.customers > 0 ? t.distanceSum / t.customers : 0));
  return daviesBouldinOfScatter(scatter, centroids, k, d);
}

/** Calinski–Harabasz from each segment's sums and the centroids. */
function calinskiHarabaszOf(totals: readonly SegmentTotals[], centroids: Float64Array, k: number, d: number, n: number): number | null {
  const mean = new Float64Array(d);
  for (const t of totals) for (let j = 0; j < d; j++) mean[j]! += t.modelSums[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const within = totals.reduce((s, t) => s + t.distanceSquareSum, 0);
  return calinskiHarabaszOfSums({ sizes: totals.map((t) => t.customers), mean, within, centroids, k, d, n });
}

/**
 * Values in ascending order known only at some ranks: what a statistic of stats.ts reads of them.
 * A first run records the ranks it reads (`values` null, every value 0); the database gives the
 * values at those ranks; a second run computes with them. The statistics are stats.ts's own
 * functions, so the ranks and the arithmetic are theirs.
 */
class RankedValues implements Ascending {
  constructor(
    readonly length: number,
    private readonly total: number,
    private readonly values: ReadonlyMap<number, number> | null,
    private readonly wanted: Set<number> = new Set(),
  ) {}

  at(rank: number): number {
    if (this.values === null) {
      this.wanted.add(rank);
      return 0;
    }
    const value = this.values.get(rank);
    if (value === undefined) throw new Error(`rank ${rank} of ${this.length} was not read`);
    return value;
  }

  sum(): number {
    return this.total;
  }

  countBelow(): number {
    throw new Error('counts below a value come from the database');
  }

  ranks(): number[] {
    return [...this.wanted];
  }
}

/** Runs `statistic` over the values of `field` by group at the ranks it reads (two passes, one statement). */
async function atRanks<T>(
  training: TableTraining,
  snapshot: TrainingSnapshot,
  field: RankedField,
  groups: readonly { group: number; length: number; total: number }[],
  statistic: (values: Ascending) => T,
): Promise<T[]> {
  const requests: RankRequest[] = [];
  for (const g of groups) {
    const recorder = new RankedValues(g.length, g.total, null);
    statistic(recorder);
    for (const rank of recorder.ranks()) requests.push({ group: g.group, rank });
  }
  const found = await training.valuesAtRanks(snapshot, field, requests);
  return groups.map((g) => {
    const values = new Map<number, number>();
    for (const r of requests) if (r.group === g.group) values.set(r.rank, found.get(`${g.group}:${r.rank}`)!);
    return statistic(new RankedValues(g.length, g.total, values));
  });
}

type Deviations = Record<NumericField, number>;
type Profile = Omit<SegmentProfile, 'name' | 'id'> & { id: number };

/** The segment profiles, deviations, η² per field and the drift baseline, from aggregates. */
async function figuresOf(
  training: TableTraining,
  snapshot: TrainingSnapshot,
  totals: readonly SegmentTotals[],
  n: number,
): Promise<{ profiles: Profile[]; deviations: Deviations[]; eta: Record<NumericField, number>; baseline: Baseline }> {
  const segments = totals.map((t, c) => ({ group: c, length: t.customers }));
  const stats = {} as Record<NumericField, ReturnType<typeof summarizeAscending>[]>;
  const edges = {} as Record<NumericField, number[]>;
  const overallSums = {} as Record<NumericField, number>;
  for (const field of NUMERIC_FIELDS) {
    overallSums[field] = totals.reduce((s, t) => s + t.fieldSums[field], 0);
    const bySegment = segments.map((s) => ({ ...s, total: totals[s.group]!.fieldSums[field] }));
    const all = { group: ALL, length: n, total: overallSums[field] };
    const results = await atRanks(training, snapshot, field, [...bySegment, all], (values) => ({
      summary: summarizeAscending(values),
      edges: decileEdges(values),
    }));
    stats[field] = results.slice(0, -1).map((r) => r.summary);
    edges[field] = results[results.length - 1]!.edges;
  }
  const distances = await atRanks(
    training,
    snapshot,
    'distance',
    segments.map((s) => ({ ...s, total: totals[s.group]!.distanceSum })),
    (values) => ({
      mean: values.sum() / values.length,
      median: quantile(values, 0.5),
      p90: quantile(values, 0.9),
      p99: quantile(values, OUTLIER_PERCENTILE),
      max: values.at(values.length - 1),
    }),
  );
  const means = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, n > 0 ? overallSums[f] / n : 0])) as Record<NumericField, number>;
  const counted = await training.countsAndSquares(
    snapshot,
    edges,
    distances.map((dist) => dist.p99),
    means,
  );
  const overall = Object.fromEntries(
    NUMERIC_FIELDS.map((f) => [f, { mean: means[f], std: n > 0 ? Math.sqrt(counted.squares[f] / n) : 0 }]),
  ) as Record<NumericField, { mean: number; std: number }>;

  const profiles: Profile[] = totals.map((t, id) => ({
    id,
    size: t.customers,
    share: t.customers / n,
    categories: { gender: Object.fromEntries(GENDERS.map((g) => [g, (t.genders[g] ?? 0) / t.customers])) },
    stats: Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, stats[f][id]!])) as SegmentProfile['stats'],
    distance: distances[id]!,
    outlierThreshold: distances[id]!.p99,
  }));
  const deviations = profiles.map(
    (p) =>
      Object.fromEntries(
        NUMERIC_FIELDS.map((f) => [f, overall[f].std > 0 ? (p.stats[f]!.mean - overall[f].mean) / overall[f].std : 0]),
      ) as Deviations,
  );
  const eta = Object.fromEntries(
    NUMERIC_FIELDS.map((f) => {
      const { mean, std } = overall[f];
      if (std === 0) return [f, 0];
      let between = 0;
      for (const t of totals) if (t.customers > 0) between += t.customers * (t.fieldSums[f] / t.customers - mean) ** 2;
      return [f, between / (n * std * std)];
    }),
  ) as Record<NumericField, number>;
  const outliers = counted.outliers.reduce((a, b) => a + b, 0);
  const distanceSum = totals.reduce((s, t) => s + t.distanceSum, 0);
  const baseline = baselineFromCounts(n, edges, counted.below, outliers, distanceSum);
  return { profiles, deviations, eta, baseline };
}
