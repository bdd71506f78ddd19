// Drift: the training population's distribution saved in the model (decile bins per numeric
// feature, category shares per categorical one, outlier rate, mean distance), and the comparison a
// nightly run makes against it — population stability index (PSI) per numeric feature over its
// bins and per categorical feature over its categories, outlier rate, share assigned vs created.

import * as z from 'zod';
import { columnsOf, type Customers } from '../csv/columns.ts';
import { fieldAscending } from '../profile/profile.ts';
import { quantile, type Ascending } from '../profile/stats.ts';

const BINS = 10;
/** PSI above this on any field recommends retraining (the common rule of thumb: > 0.2 is a shift). */
const PSI_THRESHOLD = 0.2;
/** An outlier rate above this many times the training rate recommends retraining. */
const OUTLIER_RATE_FACTOR = 2;
/** Below this many assigned customers the figures are reported but recommend nothing (too noisy). */
const MIN_DRIFT_SAMPLE = 100;
/** Share given to an empty bin so that PSI stays finite. */
const EMPTY_BIN_SHARE = 1e-4;

/** A categorical feature's values at training and the share of the training customers with each. */
const CategorySharesSchema = z.object({ values: z.array(z.string()), shares: z.array(z.number()) });
export type CategoryShares = z.infer<typeof CategorySharesSchema>;

export const BaselineSchema = z.object({
  /** Per numeric feature of the customer schema: decile edges of its raw values (before any transform) and the shares between them. */
  bins: z.record(z.string(), z.object({ edges: z.array(z.number()), shares: z.array(z.number()) })),
  /**
   * Per categorical feature of the customer schema: its values (a listed feature's, in the schema's
   * order; a learned one's seen at training, sorted) and their shares. Models written before it
   * existed have none: their drift has no categorical part, as before.
   */
  categories: z.record(z.string(), CategorySharesSchema).optional(),
  outlierRate: z.number().nonnegative(),
  meanDistance: z.number().nonnegative(),
});
export type Baseline = z.infer<typeof BaselineSchema>;

/** A categorical feature's values and how many training customers have each. */
export interface CategoryCounts {
  readonly values: readonly string[];
  readonly counts: readonly number[];
}

/**
 * Decile edges of the values (duplicates merged, so discrete fields may get fewer bins). Training
 * from the table runs it over values read at the ranks it asks for (table-model.ts).
 */
export function decileEdges(sorted: Ascending): number[] {
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let q = 1; q < BINS; q++) {
    const edge = quantile(sorted, q / BINS);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  // an edge at the minimum would leave bin 0 empty by construction
  const min = sorted.at(0);
  return edges.filter((e) => e > min);
}

/**
 * The baseline from counts over `rows` customers: per numeric feature (each key of `edges`) its
 * edges and the customers below each edge (bin i is [edge i−1, edge i): the counts below,
 * differenced), per categorical feature its values and their customers (when given: a baseline
 * without them has no categorical drift), the customers beyond their segment's outlier threshold
 * and the sum of every customer's distance to its centroid. baselineOf counts from the sorted
 * values; training from the table from the database's counts.
 */
export function baselineFromCounts(
  rows: number,
  edges: Readonly<Record<string, readonly number[]>>,
  below: Readonly<Record<string, readonly number[]>>,
  outliers: number,
  distanceSum: number,
  categories?: Readonly<Record<string, CategoryCounts>>,
): Baseline {
  const bins: Baseline['bins'] = {};
  const per = (count: number): number => count / Math.max(1, rows);
  for (const [field, fieldEdges] of Object.entries(edges)) {
    const counts: number[] = [];
    let before = 0;
    for (const b of below[field] ?? []) {
      counts.push(b - before);
      before = b;
    }
    counts.push(rows - before);
    bins[field] = { edges: [...fieldEdges], shares: counts.map(per) };
  }
  const baseline: Baseline = { bins, outlierRate: per(outliers), meanDistance: per(distanceSum) };
  if (categories === undefined) return baseline;
  const shares: Record<string, CategoryShares> = {};
  for (const [field, { values, counts }] of Object.entries(categories)) shares[field] = { values: [...values], shares: counts.map(per) };
  return { ...baseline, categories: shares };
}

/**
 * The training population's figures that nightly runs compare against, over every feature of the
 * customers' schema; `distances` holds each customer's. Each numeric feature is put in order once
 * (counted or radix-sorted; the counts profileSegments made when it ran first); its bins are
 * counted from that order, not value by value. A categorical feature's customers are counted by
 * code.
 */
export function baselineOf(customers: Customers, distances: Float64Array, outliers: number): Baseline {
  const columns = columnsOf(customers);
  const edges: Record<string, number[]> = {};
  const below: Record<string, number[]> = {};
  const categories: Record<string, CategoryCounts> = {};
  let buffer: Float64Array | undefined;
  for (const feature of columns.schema.features) {
    const field = feature.name;
    if (feature.kind === 'categorical') {
      categories[field] = categoryCounts(columns.categories(field), columns.codes(field), columns.length, feature.categories === 'learned');
      continue;
    }
    const sorted = fieldAscending(customers, field, () => (buffer ??= new Float64Array(customers.length)));
    edges[field] = decileEdges(sorted);
    below[field] = edges[field].map((edge) => sorted.countBelow(edge));
  }
  let sum = 0;
  for (let i = 0; i < distances.length; i++) sum += distances[i]!;
  return baselineFromCounts(customers.length, edges, below, outliers, sum, categories);
}

/**
 * Customers per value of a categorical feature from its codes: every listed value in the schema's
 * order (none left out), or a learned feature's values that some customer has, sorted.
 */
function categoryCounts(values: readonly string[], codes: Uint8Array, rows: number, learned: boolean): CategoryCounts {
  const byCode = new Float64Array(values.length);
  for (let i = 0; i < rows; i++) byCode[codes[i]!]!++;
  const order = values.map((_, code) => code).filter((code) => !learned || byCode[code]! > 0);
  if (learned) order.sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : 0));
  return { values: order.map((code) => values[code]!), counts: order.map((code) => byCode[code]!) };
}

/** Population stability index of observed bin counts against expected shares. */
export function psi(expected: readonly number[], observed: readonly number[]): number {
  const total = observed.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let value = 0;
  expected.forEach((e, i) => {
    const p = Math.max(e, EMPTY_BIN_SHARE);
    const q = Math.max((observed[i] ?? 0) / total, EMPTY_BIN_SHARE);
    value += (q - p) * Math.log(q / p);
  });
  return value;
}

/** A categorical feature's drift: its values' shares at training and now, and the PSI over them. */
const CategoryDriftSchema = z.object({
  psi: z.number(),
  values: z.array(z.string()),
  training: z.array(z.number()),
  /** Shares among the assigned customers, per value (null: none assigned). */
  now: z.array(z.number()).nullable(),
  /** Share of the assigned customers with a value not seen at training (null: none assigned). */
  unseen: z.number().nullable(),
});

export const DriftSchema = z.object({
  assigned: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  assignedShare: z.number().nullable(),
  outlierRate: z.number().nullable(),
  trainingOutlierRate: z.number(),
  meanDistance: z.number().nullable(),
  trainingMeanDistance: z.number(),
  /** PSI per numeric feature over its training bins. */
  psi: z.record(z.string(), z.number()),
  /** Per categorical feature (a baseline with category shares only: older drift figures have none). */
  categories: z.record(z.string(), CategoryDriftSchema).optional(),
  retrainRecommended: z.boolean(),
  reasons: z.array(z.string()),
});
export type Drift = z.infer<typeof DriftSchema>;

/** What the table says of the customers labeled by the active model. */
export interface ObservedPopulation {
  readonly assigned: number;
  readonly created: number;
  readonly outliers: number;
  readonly distanceSum: number;
  /** Bin counts per numeric feature among the assigned customers, bins as in the baseline. */
  readonly bins: Readonly<Record<string, readonly number[]>>;
  /**
   * Counts per categorical feature among the assigned customers: one per value of the baseline's,
   * then one of the values it does not have.
   */
  readonly categories?: Readonly<Record<string, readonly number[]>>;
}

/** Compares the assigned customers with the training population; says whether to retrain and why. */
export function assessDrift(baseline: Baseline, observed: ObservedPopulation): Drift {
  const { assigned, created } = observed;
  const labeled = assigned + created;
  const psiByField: Record<string, number> = {};
  // a field the observation left out (its column no longer in the table) gets no figure
  for (const [field, { shares }] of Object.entries(baseline.bins)) {
    const counts = observed.bins[field];
    if (counts !== undefined) psiByField[field] = psi(shares, counts);
  }
  const categories = baseline.categories === undefined ? undefined : categoryDrift(baseline.categories, observed.categories ?? {});
  const outlierRate = assigned > 0 ? observed.outliers / assigned : null;
  const reasons: string[] = [];
  if (assigned >= MIN_DRIFT_SAMPLE) {
    const shifted = [...Object.entries(psiByField), ...Object.entries(categories ?? {}).map(([f, c]) => [f, c.psi] as const)];
    for (const [field, value] of shifted) {
      if (value > PSI_THRESHOLD) reasons.push(`${field} has shifted: PSI ${value.toFixed(2)} > ${PSI_THRESHOLD}`);
    }
    const limit = OUTLIER_RATE_FACTOR * Math.max(baseline.outlierRate, EMPTY_BIN_SHARE);
    if (outlierRate !== null && outlierRate > limit) {
      reasons.push(
        `outlier rate ${(outlierRate * 100).toFixed(1)} % is above ${OUTLIER_RATE_FACTOR}× the training rate (${(baseline.outlierRate * 100).toFixed(1)} %)`,
      );
    }
  }
  return {
    assigned,
    created,
    assignedShare: labeled > 0 ? assigned / labeled : null,
    outlierRate,
    trainingOutlierRate: baseline.outlierRate,
    meanDistance: assigned > 0 ? observed.distanceSum / assigned : null,
    trainingMeanDistance: baseline.meanDistance,
    psi: psiByField,
    ...(categories === undefined ? {} : { categories }),
    retrainRecommended: reasons.length > 0,
    reasons,
  };
}

/** The largest PSI of any feature, numeric or categorical (0 when none has one): the MaxPsi metric. */
export function maxPsi(drift: Drift): number {
  const categorical = Object.values(drift.categories ?? {}).map((c) => c.psi);
  return Math.max(0, ...Object.values(drift.psi), ...categorical);
}

/** Each categorical feature's shares now against training, and the PSI over its values and the unseen ones. */
function categoryDrift(
  baseline: Readonly<Record<string, CategoryShares>>,
  observed: Readonly<Record<string, readonly number[]>>,
): NonNullable<Drift['categories']> {
  const out: NonNullable<Drift['categories']> = {};
  for (const [field, { values, shares }] of Object.entries(baseline)) {
    const counts = observed[field];
    if (counts === undefined) continue;
    const total = counts.reduce((a, b) => a + b, 0);
    out[field] = {
      psi: psi([...shares, 0], counts),
      values: [...values],
      training: [...shares],
      now: total > 0 ? values.map((_, i) => (counts[i] ?? 0) / total) : null,
      unseen: total > 0 ? (counts[values.length] ?? 0) / total : null,
    };
  }
  return out;
}
