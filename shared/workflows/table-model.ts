// Training a model from the customers table inside the database: the same steps as trainModel
// (train.ts), where the rows are. The database copies the table (a consistent set of rows for the
// whole run: shared/sql/table-training.ts), gives the scaler's sums and the first rows of the sample
// order; the k sweep and the restarts run here on that sample with the file path's own code
// (fullSweep, quickSweep, fitKMeans); the refinement on all rows is Lloyd iterations of one
// aggregate statement each; the profiles, metrics, drift baseline and fingerprint come from
// aggregates. For the same rows, the model is the one trainModel gives, up to the rounding of sums
// taken in another order (tested: same k, sizes, names and labels; centroids within 1e-9), for any
// customer schema the table has: the features, learned categories, profiles and baseline are the
// schema's, as trainModel's are. A log1p feature's value is ln(1 + x) in the database and
// Math.log1p(x) here: the two can differ in the last bit (scoring.ts, rawValueSql), which moves
// the sums by rounding only.

import { CustomerColumns } from '../csv/columns.ts';
import type { Customer } from '../csv/contract.ts';
import { ClusteringError, InvalidOptionError } from '../errors.ts';
import { encodeScaled, scalerOf } from '../features/encode.ts';
import { resolveFeatures, type FeatureSpec } from '../features/spec.ts';
import { MALL_SCHEMA, type CategoricalSchemaFeature, type CustomerSchema } from '../schema/customer-schema.ts';
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
import { baselineFromCounts, decileEdges, type Baseline, type CategoryCounts } from '../model/drift.ts';
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

/** Training options of a table training: the file path's, and the schema. */
export interface TableTrainingOptions extends TrainOptions {
  /** The customer schema to train with (the mall's by default): the customers table must have its feature columns. */
  readonly schema?: CustomerSchema;
}

/**
 * Trains a model from the table through `training`, on the rows it copies for `runId`; `now`
 * stamps it and `reference` (the active model) keeps matched segments' ids and names, as in
 * trainModel. Leaves the run's copy in place (the caller records members from it, then drops it).
 */
export async function trainInTable(
  training: TableTraining,
  runId: string,
  options: TableTrainingOptions,
  now: Date,
  reference: Model | null,
  log: (message: string) => void = () => undefined,
): Promise<TableModel> {
  const { seed, sampleSize, maxIterations, maxK, requestedK, mode, restartsFor } = resolveTrainOptions(options);
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError('a whole-number seed is required');
  const schema = options.schema ?? MALL_SCHEMA;
  const chosen = resolveFeatures(options, schema);

  const snapshot = await training.takeSnapshot(runId, seed, schema);
  const n = snapshot.customers;
  const leftOut = snapshot.leftOut.missing + snapshot.leftOut.outside;
  log(`copied ${n} customers (${snapshot.points} distinct points) to train on${leftOut > 0 ? `, left out ${leftOut}` : ''}`);
  if (n === 0) throw new ClusteringError(`no rows to cluster${leftOut > 0 ? ` (${leftOutText(snapshot.leftOut)})` : ''}`);
  // learned categories as trainModel learns them (learnCategories): the values the rows have, sorted
  const features = withLearned(chosen, snapshot.learned);
  const restarts = restartsFor(n);
  const sums = await training.scalerSums(snapshot, features);
  const scaler = scalerOf(sums.mean, sums.squares, n, features);

  // the first rows of the sample order: the restarts' (sampleSize), the quick sweep's and the report's at least
  const sample: Customer[] = [];
  const sampleRows = Math.max(sampleOrderRows(n, sampleSize), Math.min(n, REPORT_SAMPLE_ROWS));
  for await (const page of training.readSample(snapshot, sampleRows, (id) => sampleKey(id, seed))) sample.push(...page);
  log(`read a sample of ${sample.length} customers`);
  const xs = encodeScaled(CustomerColumns.from(sample, schema), features, scaler);
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
  // one labeling of the points with the centroids as found (ties to the first, as trainModel's fit
  // labels its rows), then the canonical order of their sizes: the points keep the found index
  // (`order[id]`), which the statements after this one are given
  const labeled = await training.labelPoints(snapshot, space(centroids));
  if (labeled.some((t) => t.customers === 0))
    throw new ClusteringError(`k = ${k} leaves a segment empty on the full data; choose a smaller k`);
  const order = canonicalOrder(
    labeled.map((t) => t.customers),
    centroids,
    d,
  );
  const ordered = reorderCentroids(centroids, order, d);
  const totals = order.map((index) => labeled[index]!);
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

  const figures = await figuresOf(training, snapshot, totals, order, n);
  log('profiled the segments');
  const fingerprint = await training.fingerprint(snapshot);
  log('fingerprinted the training rows');
  const parts = {
    customerSchema: schema,
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
    warnings: [
      ...dominanceWarningsOf(figures.profiles, figures.eta, features),
      ...(leftOut > 0 ? [`${leftOutText(snapshot.leftOut)}: the model is trained on the other ${n}`] : []),
    ],
    baseline: figures.baseline,
    training: { source: TABLE_SOURCE, rowsRead: n + leftOut, rowsAccepted: n, rowsRejected: leftOut, duplicates: 0, fingerprint },
  };
  const stamped = assembleModel(parts, reference, now);
  // the points' segments are the found indexes: each row of counts by its position in `ordered`
  const moved = reference === null ? null : await training.movement(snapshot, spaceOfModel(reference), k);
  const movement = moved === null ? null : moved.map((row) => order.map((index) => row[index]!));
  return { model: stamped, snapshot, sample: sample.slice(0, Math.min(n, REPORT_SAMPLE_ROWS)), movement };
}

/** The rows of the table a copy left out, and why, in words. */
export function leftOutText({ missing, outside }: TrainingSnapshot['leftOut']): string {
  const rows = (count: number): string => `${count} row${count === 1 ? '' : 's'}`;
  const why = [
    ...(missing > 0
      ? [`${rows(missing)} with a feature empty (stored before its column was added: upload them again with every feature)`]
      : []),
    ...(outside > 0 ? [`${rows(outside)} with a value the schema does not accept`] : []),
  ];
  return `${rows(missing + outside)} of the customers table left out of training: ${why.join('; ')}`;
}

/** The features with each learned categorical feature's categories: its values among the rows, sorted as learnCategories sorts them. */
function withLearned(features: readonly FeatureSpec[], learned: TrainingSnapshot['learned']): FeatureSpec[] {
  return features.map((f) =>
    f.kind === 'categorical' && f.categories === undefined ? { ...f, categories: [...(learned[f.name] ?? [])].sort() } : f,
  );
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

type Deviations = Record<string, number>;
type Profile = Omit<SegmentProfile, 'name' | 'id'> & { id: number };

/**
 * A categorical feature's values as profiles and the baseline list them, as trainModel's do: a
 * listed feature's in the schema's order, a learned one's that the rows have, sorted.
 */
function valuesOf(feature: CategoricalSchemaFeature, snapshot: TrainingSnapshot): string[] {
  return feature.categories === 'learned' ? [...(snapshot.learned[feature.name] ?? [])].sort() : [...feature.categories];
}

/**
 * The segment profiles, deviations, η² per numeric feature and the drift baseline, from aggregates,
 * over every feature of the snapshot's schema. `totals` are in the model's order; the points carry
 * the found index `order[id]` of segment `id`, which the statements are given.
 */
async function figuresOf(
  training: TableTraining,
  snapshot: TrainingSnapshot,
  totals: readonly SegmentTotals[],
  order: readonly number[],
  n: number,
): Promise<{ profiles: Profile[]; deviations: Deviations[]; eta: Record<string, number>; baseline: Baseline }> {
  const { features } = snapshot.schema;
  const numeric = features.filter((f) => f.kind === 'numeric').map((f) => f.name);
  const categorical = features.filter((f): f is CategoricalSchemaFeature => f.kind === 'categorical');
  const segments = totals.map((t, id) => ({ group: order[id]!, length: t.customers }));
  const stats: Record<string, ReturnType<typeof summarizeAscending>[]> = {};
  const edges: Record<string, number[]> = {};
  const overallSums: Record<string, number> = {};
  for (const field of numeric) {
    overallSums[field] = totals.reduce((s, t) => s + t.fieldSums[field]!, 0);
    const bySegment = segments.map((s, id) => ({ ...s, total: totals[id]!.fieldSums[field]! }));
    const all = { group: ALL, length: n, total: overallSums[field] };
    const results = await atRanks(training, snapshot, { feature: field }, [...bySegment, all], (values) => ({
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
    segments.map((s, id) => ({ ...s, total: totals[id]!.distanceSum })),
    (values) => ({
      mean: values.sum() / values.length,
      median: quantile(values, 0.5),
      p90: quantile(values, 0.9),
      p99: quantile(values, OUTLIER_PERCENTILE),
      max: values.at(values.length - 1),
    }),
  );
  const means = Object.fromEntries(numeric.map((f) => [f, n > 0 ? overallSums[f]! / n : 0]));
  // the thresholds by the points' (found) index
  const thresholds = Array<number>(order.length);
  order.forEach((index, id) => (thresholds[index] = distances[id]!.p99));
  const counted = await training.countsAndSquares(snapshot, edges, thresholds, means);
  const overall = Object.fromEntries(numeric.map((f) => [f, { mean: means[f]!, std: n > 0 ? Math.sqrt(counted.squares[f]! / n) : 0 }]));

  const values = categorical.map((f) => valuesOf(f, snapshot));
  const profiles: Profile[] = totals.map((t, id) => ({
    id,
    size: t.customers,
    share: t.customers / n,
    categories: Object.fromEntries(
      categorical.map((f, c) => [f.name, Object.fromEntries(values[c]!.map((v) => [v, (t.categories[f.name]?.[v] ?? 0) / t.customers]))]),
    ),
    stats: Object.fromEntries(numeric.map((f) => [f, stats[f]![id]!])),
    distance: distances[id]!,
    outlierThreshold: distances[id]!.p99,
  }));
  const deviations = profiles.map((p) =>
    Object.fromEntries(numeric.map((f) => [f, overall[f]!.std > 0 ? (p.stats[f]!.mean - overall[f]!.mean) / overall[f]!.std : 0])),
  );
  const eta = Object.fromEntries(
    numeric.map((f) => {
      const { mean, std } = overall[f]!;
      if (std === 0) return [f, 0];
      let between = 0;
      for (const t of totals) if (t.customers > 0) between += t.customers * (t.fieldSums[f]! / t.customers - mean) ** 2;
      return [f, between / (n * std * std)];
    }),
  );
  const outliers = counted.outliers.reduce((a, b) => a + b, 0);
  const distanceSum = totals.reduce((s, t) => s + t.distanceSum, 0);
  const categories: Record<string, CategoryCounts> = Object.fromEntries(
    categorical.map((f, c) => [
      f.name,
      { values: values[c]!, counts: values[c]!.map((v) => totals.reduce((sum, t) => sum + (t.categories[f.name]?.[v] ?? 0), 0)) },
    ]),
  );
  const baseline = baselineFromCounts(n, edges, counted.below, outliers, distanceSum, categories);
  return { profiles, deviations, eta, baseline };
}
