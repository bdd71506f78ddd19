// Labeling customers with a model: encode with the model's fixed categories and scaler, then
// nearest centroid, Euclidean distance in model space, and the segment's outlier threshold.

import { columnsOf, type Customers } from '../csv/columns.ts';
import { GENDERS, NUMERIC_FIELDS, type Customer, type NumericField } from '../csv/contract.ts';
import type { Matrix } from '../features/encode.ts';
import { featureValue, NUMERIC_VALUE } from '../features/spec.ts';
import type { Model } from './artifact.ts';

export interface Assignment {
  /** Index of the nearest centroid in the model's arrays. */
  readonly index: number;
  /** Id of its segment (stable across retrains; not always equal to the index). */
  readonly segment: number;
  readonly distance: number;
  readonly isOutlier: boolean;
}

/** Why a customer cannot be labeled by this model (an unseen category), or undefined. */
export function unassignableReason(customer: Customer, model: Model): string | undefined {
  for (const f of model.features) {
    if (f.kind !== 'categorical') continue;
    const value = f.name === 'gender' ? customer.gender : undefined;
    if (value !== undefined && !(f.categories ?? []).includes(value)) {
      return `${f.name} "${value}" was not seen when model ${model.modelVersion} was trained`;
    }
  }
  return undefined;
}

/**
 * Nearest-centroid labeling with one model, one customer at a time and no intermediate matrix (the
 * streaming CLI labels a million rows this way); the arithmetic is encodeRaw + applyScaler's.
 */
export class Assigner {
  private readonly point: Float64Array;
  private readonly centroids: Float64Array;
  private readonly encode: (customer: Customer, into: Float64Array) => void;

  constructor(private readonly model: Model) {
    const { mean, scale, weight } = model.scaler;
    this.point = new Float64Array(mean.length);
    this.centroids = Float64Array.from(model.centroids.model.flat());
    // one accessor per model column, resolved once: the per-row work is a property read
    const columns = model.features.flatMap((f): Array<(c: Customer) => number> =>
      f.kind === 'categorical'
        ? (f.categories ?? []).map((category) => (c: Customer) => (featureValue(c, f.name) === category ? 1 : 0))
        : [NUMERIC_VALUE[f.name as NumericField]],
    );
    this.encode = (customer, into) => {
      for (let j = 0; j < columns.length; j++) into[j] = ((columns[j]!(customer) - mean[j]!) / scale[j]!) * weight[j]!;
    };
  }

  /** The customer's label; the customer must be assignable (see unassignableReason). */
  assign(customer: Customer): Assignment {
    this.encode(customer, this.point);
    return nearest(this.point, this.centroids, this.model);
  }
}

/** Rows encoded at a time by nearestCentroids (a small buffer that stays in cache). */
const BLOCK_ROWS = 1024;

/** A numeric field's values in customer order, as the report and labeling share them. */
export type NumericColumns = Readonly<Record<NumericField, Float64Array>>;

/** The numeric fields of customers as one Float64Array each (copied once from the columns). */
export function numericColumns(customers: Customers): NumericColumns {
  const columns = columnsOf(customers);
  return Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, columns.numeric(f)])) as Record<NumericField, Float64Array>;
}

/** Per model column: the numeric field's values, or (one-hot) the scaled value per gender code. */
function modelColumns(
  model: Model,
  values: NumericColumns,
): { numeric: Array<Float64Array | undefined>; byGender: Array<Float64Array | undefined> } {
  const { mean, scale, weight } = model.scaler;
  const numeric: Array<Float64Array | undefined> = [];
  const byGender: Array<Float64Array | undefined> = [];
  for (const f of model.features) {
    if (f.kind === 'numeric') {
      numeric.push(values[f.name as NumericField]);
      byGender.push(undefined);
      continue;
    }
    const categories = f.categories ?? [];
    categories.forEach((category, c) => {
      const j = numeric.length;
      numeric.push(undefined);
      byGender.push(
        Float64Array.from(GENDERS, (g) => {
          const at = categories.indexOf(g);
          const raw = at < 0 ? Number.NaN : at === c ? 1 : 0;
          return ((raw - mean[j]!) / scale[j]!) * weight[j]!;
        }),
      );
    });
  }
  return { numeric, byGender };
}

/**
 * Some customers' points in model space (rows of a row-major matrix, in the order of `rows`), as
 * encodeRaw + applyScaler would give them, without encoding everybody else.
 */
export function modelSpaceRows(customers: Customers, model: Model, rows: Int32Array, values?: NumericColumns): Matrix {
  const columns = columnsOf(customers);
  const { mean, scale, weight } = model.scaler;
  const d = mean.length;
  const { numeric, byGender } = modelColumns(model, values ?? numericColumns(columns));
  const codes = columns.genderCodes;
  const data = new Float64Array(rows.length * d);
  for (let j = 0; j < d; j++) {
    const source = numeric[j];
    const table = byGender[j];
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r]!;
      data[r * d + j] = source !== undefined ? ((source[i]! - mean[j]!) / scale[j]!) * weight[j]! : table![codes[i]!]!;
    }
  }
  return { data, rows: rows.length, cols: d };
}

/** Nearest centroids of many customers: positions in the model's arrays and, when asked, distances. */
export interface NearestCentroids {
  /** Index of the nearest centroid in the model's arrays, per customer. */
  readonly index: Int32Array;
  /** Euclidean distance to it in model space, per customer (only when asked for). */
  readonly distance: Float64Array | null;
}

/**
 * Nearest-centroid labels of customers as typed arrays: no matrix of model-space points and no
 * object per customer (a million rows take a few tens of milliseconds). The arithmetic is
 * encodeRaw + applyScaler's and nearest's, so labels and distances are those of assignCustomers;
 * an unseen category gives index 0 and distance Infinity, as there. `values` are the numeric
 * columns when the caller already holds them.
 */
export function nearestCentroids(
  customers: Customers,
  model: Model,
  options: { readonly distances?: boolean; readonly values?: NumericColumns } = {},
): NearestCentroids {
  const columns = columnsOf(customers);
  const n = columns.length;
  const { mean, scale, weight } = model.scaler;
  const d = mean.length;
  const k = model.centroids.model.length;
  const { numeric, byGender } = modelColumns(model, options.values ?? numericColumns(columns));
  const centroids = Float64Array.from(model.centroids.model.flat());
  const codes = columns.genderCodes;
  // One-hot columns ahead of every numeric one add the same to a centroid's distance for every
  // customer of a gender: summed once per gender and centroid, in the same order as nearest sums.
  let lead = 0;
  while (lead < d && numeric[lead] === undefined) lead++;
  const start = new Float64Array(GENDERS.length * k);
  for (let g = 0; g < GENDERS.length; g++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < lead; j++) {
        const diff = byGender[j]![g]! - centroids[c * d + j]!;
        s += diff * diff;
      }
      start[g * k + c] = s;
    }
  }
  const index = new Int32Array(n);
  const distance = options.distances ? new Float64Array(n) : null;
  // a block of rows at a time, column by column into `points`, then nearest centroid row by row
  const block = Math.max(1, Math.min(n, BLOCK_ROWS));
  const points = new Float64Array(block * d);
  for (let first = 0; first < n; first += block) {
    const rows = Math.min(block, n - first);
    for (let j = lead; j < d; j++) {
      const source = numeric[j];
      if (source !== undefined) {
        const m = mean[j]!;
        const sc = scale[j]!;
        const w = weight[j]!;
        for (let r = 0, at = j; r < rows; r++, at += d) points[at] = ((source[first + r]! - m) / sc) * w;
      } else {
        const table = byGender[j]!;
        for (let r = 0, at = j; r < rows; r++, at += d) points[at] = table[codes[first + r]!]!;
      }
    }
    if (d - lead === 3) {
      // gender, then the three numeric fields (the default features): the same sums, unrolled
      for (let r = 0, p = lead; r < rows; r++, p += d) {
        const g = codes[first + r]! * k;
        const x0 = points[p]!;
        const x1 = points[p + 1]!;
        const x2 = points[p + 2]!;
        let best = 0;
        let bestDist = Number.POSITIVE_INFINITY;
        for (let c = 0, at = lead; c < k; c++, at += d) {
          const d0 = x0 - centroids[at]!;
          const d1 = x1 - centroids[at + 1]!;
          const d2 = x2 - centroids[at + 2]!;
          let s = start[g + c]!;
          s += d0 * d0;
          s += d1 * d1;
          s += d2 * d2;
          if (s < bestDist) {
            bestDist = s;
            best = c;
          }
        }
        index[first + r] = best;
        if (distance !== null) distance[first + r] = Math.sqrt(bestDist);
      }
      continue;
    }
    for (let r = 0, p = 0; r < rows; r++, p += d) {
      const g = codes[first + r]! * k;
      let best = 0;
      let bestDist = Number.POSITIVE_INFINITY;
      for (let c = 0, at = 0; c < k; c++, at += d) {
        let s = start[g + c]!;
        for (let j = lead; j < d; j++) {
          const diff = points[p + j]! - centroids[at + j]!;
          s += diff * diff;
        }
        if (s < bestDist) {
          bestDist = s;
          best = c;
        }
      }
      index[first + r] = best;
      if (distance !== null) distance[first + r] = Math.sqrt(bestDist);
    }
  }
  return { index, distance };
}

/**
 * Labels customers with the nearest centroid, all at once (from the columns: training customers
 * held as columns are never turned into objects); customers must be assignable (see
 * unassignableReason). The same arithmetic as Assigner.
 */
export function assignCustomers(customers: Customers, model: Model): Assignment[] {
  const { index, distance } = nearestCentroids(customers, model, { distances: true });
  const out: Assignment[] = new Array(index.length);
  for (let i = 0; i < index.length; i++) {
    const segment = model.segments[index[i]!]!;
    out[i] = { index: index[i]!, segment: segment.id, distance: distance![i]!, isOutlier: distance![i]! > segment.outlierThreshold };
  }
  return out;
}

/** The nearest centroid to a model-space point. */
function nearest(point: Float64Array, centroids: Float64Array, model: Model): Assignment {
  const d = point.length;
  let best = 0;
  let bestDist = Number.POSITIVE_INFINITY;
  for (let c = 0, at = 0; at < centroids.length; c++, at += d) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = point[j]! - centroids[at + j]!;
      s += diff * diff;
    }
    if (s < bestDist) {
      bestDist = s;
      best = c;
    }
  }
  const distance = Math.sqrt(bestDist);
  const segment = model.segments[best]!;
  return { index: best, segment: segment.id, distance, isOutlier: distance > segment.outlierThreshold };
}
