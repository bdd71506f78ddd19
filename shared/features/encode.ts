// Encoding customers into the model space: one-hot categoricals with fixed category lists,
// standard scaling (population std, constant column safe) and per-feature weights.

import * as z from 'zod';
import { columnsOf, type Customers } from '../csv/columns.ts';
import { GENDERS, type NumericField } from '../csv/contract.ts';
import { columnNames, type FeatureSpec } from './spec.ts';

export const ScalerSchema = z.object({
  columns: z.array(z.string()),
  mean: z.array(z.number()),
  scale: z.array(z.number().positive()),
  weight: z.array(z.number().positive()),
});
export type Scaler = z.infer<typeof ScalerSchema>;

/** A row-major n × d matrix. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Encodes customers into raw (unscaled) model columns, column by column; an unseen category yields
 * NaN in its row.
 */
export function encodeRaw(customers: Customers, features: readonly FeatureSpec[]): Matrix {
  const cols = columnNames(features).length;
  const rows = customers.length;
  const columns = columnsOf(customers);
  const data = new Float64Array(rows * cols);
  let j = 0;
  for (const f of features) {
    if (f.kind === 'numeric') {
      columns.copyNumeric(f.name as NumericField, data, j, cols);
      j++;
      continue;
    }
    // the one categorical feature is gender; each row's category is matched against the list
    const categories = f.categories ?? [];
    const codes = columns.genderCodes;
    const column = GENDERS.map((g) => categories.indexOf(g));
    for (let i = 0; i < rows; i++) {
      const at = column[codes[i]!]!;
      for (let c = 0; c < categories.length; c++) data[i * cols + j + c] = at < 0 ? Number.NaN : at === c ? 1 : 0;
    }
    j += categories.length;
  }
  return { data, rows, cols };
}

/** Fits the scaler: per-column mean and population standard deviation (a constant column gets scale 1). */
export function fitScaler(raw: Matrix, features: readonly FeatureSpec[]): Scaler {
  const { data, rows, cols } = raw;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += data[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j]! /= rows || 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = data[i * cols + j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  const scale = Array.from(sq, (s) => {
    const std = Math.sqrt(s / (rows || 1));
    return std > Number.EPSILON * 1e3 ? std : 1;
  });
  const weight = features.flatMap((f) => (f.kind === 'categorical' ? (f.categories ?? []).map(() => f.weight) : [f.weight]));
  return { columns: columnNames(features), mean: Array.from(mean), scale, weight };
}

/** Applies the scaler and weights in place and returns the matrix: (x − mean) / scale × weight. */
export function applyScaler(raw: Matrix, scaler: Scaler): Matrix {
  const { data, rows, cols } = raw;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const k = i * cols + j;
      data[k] = ((data[k]! - scaler.mean[j]!) / scaler.scale[j]!) * scaler.weight[j]!;
    }
  }
  return raw;
}

/** Maps a model-space point back to original units (one-hot columns become category shares). */
export function toOriginalUnits(point: ArrayLike<number>, scaler: Scaler): number[] {
  return Array.from({ length: scaler.columns.length }, (_, j) => (point[j]! / scaler.weight[j]!) * scaler.scale[j]! + scaler.mean[j]!);
}
