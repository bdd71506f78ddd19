// Labeling customers with a model: encode with the model's fixed categories and scaler, then
// nearest centroid, Euclidean distance in model space, and the segment's outlier threshold.

import type { Customers } from '../csv/columns.ts';
import type { Customer, NumericField } from '../csv/contract.ts';
import { applyScaler, encodeRaw } from '../features/encode.ts';
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

/**
 * Labels customers with the nearest centroid, all at once (as a matrix, column by column: training
 * customers held as columns are never turned into objects); customers must be assignable (see
 * unassignableReason). The same arithmetic as Assigner.
 */
export function assignCustomers(customers: Customers, model: Model): Assignment[] {
  const { data, rows, cols: d } = applyScaler(encodeRaw(customers, model.features), model.scaler);
  const centroids = Float64Array.from(model.centroids.model.flat());
  const out: Assignment[] = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = nearest(data.subarray(i * d, (i + 1) * d), centroids, model);
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
