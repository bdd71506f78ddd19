// Labeling customers with a model: encode with the model's fixed categories and scaler, then
// nearest centroid, Euclidean distance in model space, and the segment's outlier threshold.

import type { Customer } from '../csv/contract.ts';
import { applyScaler, encodeRaw } from '../features/encode.ts';
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

/** Labels customers with the nearest centroid; customers must be assignable (see unassignableReason). */
export function assignCustomers(customers: readonly Customer[], model: Model): Assignment[] {
  const x = applyScaler(encodeRaw(customers, model.features), model.scaler);
  const { data, cols: d } = x;
  const centroids = model.centroids.model;
  return customers.map((_, i) => {
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    for (let c = 0; c < centroids.length; c++) {
      const centroid = centroids[c]!;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = data[i * d + j]! - centroid[j]!;
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
  });
}
