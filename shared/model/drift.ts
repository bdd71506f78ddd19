// Drift: the training population's distribution saved in the model (decile bins per numeric
// field, outlier rate, mean distance), and the comparison a nightly run makes against it —
// population stability index (PSI) per field, outlier rate, share assigned vs created.

import * as z from 'zod';
import type { Customers } from '../csv/columns.ts';
import { NUMERIC_FIELDS, type NumericField } from '../csv/contract.ts';
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

export const BaselineSchema = z.object({
  bins: z.record(z.string(), z.object({ edges: z.array(z.number()), shares: z.array(z.number()) })),
  outlierRate: z.number().nonnegative(),
  meanDistance: z.number().nonnegative(),
});
export type Baseline = z.infer<typeof BaselineSchema>;

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
 * The baseline from counts over `rows` customers: per field its edges and the customers below
 * each edge (bin i is [edge i−1, edge i): the counts below, differenced), the customers beyond
 * their segment's outlier threshold and the sum of every customer's distance to its centroid.
 * baselineOf counts from the sorted values; training from the table from the database's counts.
 */
export function baselineFromCounts(
  rows: number,
  edges: Readonly<Record<NumericField, number[]>>,
  below: Readonly<Record<NumericField, readonly number[]>>,
  outliers: number,
  distanceSum: number,
): Baseline {
  const bins: Baseline['bins'] = {};
  for (const field of NUMERIC_FIELDS) {
    const counts: number[] = [];
    let before = 0;
    for (const b of below[field]) {
      counts.push(b - before);
      before = b;
    }
    counts.push(rows - before);
    bins[field] = { edges: edges[field], shares: counts.map((c) => c / Math.max(1, rows)) };
  }
  return { bins, outlierRate: outliers / Math.max(1, rows), meanDistance: distanceSum / Math.max(1, rows) };
}

/**
 * The training population's figures that nightly runs compare against; `distances` holds each
 * customer's. Each field is put in order once (counted or radix-sorted; the counts
 * profileSegments made when it ran first); its bins are counted from that order, not value by
 * value.
 */
export function baselineOf(customers: Customers, distances: Float64Array, outliers: number): Baseline {
  const edges = {} as Record<NumericField, number[]>;
  const below = {} as Record<NumericField, number[]>;
  let buffer: Float64Array | undefined;
  for (const field of NUMERIC_FIELDS) {
    const sorted = fieldAscending(customers, field, () => (buffer ??= new Float64Array(customers.length)));
    edges[field] = decileEdges(sorted);
    below[field] = edges[field].map((edge) => sorted.countBelow(edge));
  }
  let sum = 0;
  for (let i = 0; i < distances.length; i++) sum += distances[i]!;
  return baselineFromCounts(customers.length, edges, below, outliers, sum);
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

export const DriftSchema = z.object({
  assigned: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  assignedShare: z.number().nullable(),
  outlierRate: z.number().nullable(),
  trainingOutlierRate: z.number(),
  meanDistance: z.number().nullable(),
  trainingMeanDistance: z.number(),
  psi: z.record(z.string(), z.number()),
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
  /** Bin counts per field among the assigned customers, bins as in the baseline. */
  readonly bins: Readonly<Record<string, readonly number[]>>;
}

/** Compares the assigned customers with the training population; says whether to retrain and why. */
export function assessDrift(baseline: Baseline, observed: ObservedPopulation): Drift {
  const { assigned, created } = observed;
  const labeled = assigned + created;
  const psiByField: Record<string, number> = {};
  for (const [field, { shares }] of Object.entries(baseline.bins)) psiByField[field] = psi(shares, observed.bins[field] ?? []);
  const outlierRate = assigned > 0 ? observed.outliers / assigned : null;
  const reasons: string[] = [];
  if (assigned >= MIN_DRIFT_SAMPLE) {
    for (const [field, value] of Object.entries(psiByField)) {
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
    retrainRecommended: reasons.length > 0,
    reasons,
  };
}
