// Encoding customers into the model space, in the fixed order the model records (ENCODING_STEPS):
// a numeric feature's transform (log1p), one-hot categoricals with fixed category lists, standard
// scaling (population std, constant column safe), per-feature weights.

import * as z from 'zod';
import { columnsOf, type CustomerColumns, type Customers } from '../csv/columns.ts';
import { columnNames, type FeatureSpec } from './spec.ts';

/** The encoding's steps, in the order they apply: recorded in every model. */
export const ENCODING_STEPS = ['transform', 'one-hot', 'standard-scale', 'weight'] as const;

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
 * Where a model column's raw values come from: a column of bytes (category codes, small whole
 * numbers) through a table of their raw values, or a column of numbers (transformed as the
 * feature says).
 */
type ColumnSource =
  /** `raw[byte]`: the raw value (for a category's one-hot column 1, 0, or NaN: a value the model does not know) */
  | { readonly kind: 'bytes'; readonly feature: string; readonly raw: Float64Array }
  | { readonly kind: 'numbers'; readonly feature: string; readonly log1p: boolean };

/** Every byte as itself. */
const BYTE_VALUES = Float64Array.from({ length: 256 }, (_, v) => v);

/** The raw model-space value of a number: the feature's transform applied. */
export function transformed(value: number, log1p: boolean): number {
  return log1p ? Math.log1p(value) : value;
}

/** The model columns' sources, in column order. */
function sourcesOf(columns: CustomerColumns, features: readonly FeatureSpec[]): ColumnSource[] {
  return features.flatMap((f): ColumnSource[] => {
    const stored = columns.column(f.name);
    if (f.kind === 'numeric') {
      const log1p = f.transform === 'log1p';
      if (stored.kind === 'numbers') return [{ kind: 'numbers', feature: f.name, log1p }];
      return [{ kind: 'bytes', feature: f.name, raw: BYTE_VALUES.map((v) => transformed(v, log1p)) }];
    }
    const values = columns.categories(f.name);
    const categories = f.categories ?? [];
    const at = Array.from({ length: 256 }, (_, code) => (code < values.length ? categories.indexOf(values[code]!) : -1));
    return categories.map((_, c) => ({
      kind: 'bytes',
      feature: f.name,
      raw: Float64Array.from(at, (a) => (a < 0 ? Number.NaN : a === c ? 1 : 0)),
    }));
  });
}

/** Writes matrix column `j` of rows [start, start + block.length): each byte's value in `table`. */
function fillFromBytes(data: Float64Array, cols: number, j: number, start: number, block: Uint8Array, table: Float64Array): void {
  for (let i = 0, k = start * cols + j; i < block.length; i++, k += cols) data[k] = table[block[i]!]!;
}

/** Writes matrix column `j` of rows [start, start + block.length): `((value − mean) / scale) × weight`, the value transformed. */
function fillFromNumbers(
  data: Float64Array,
  cols: number,
  j: number,
  start: number,
  block: Float64Array,
  scaling: Scaling,
  log1p: boolean,
): void {
  const { mean, scale, weight } = scaling;
  if (log1p)
    for (let i = 0, k = start * cols + j; i < block.length; i++, k += cols) data[k] = ((Math.log1p(block[i]!) - mean) / scale) * weight;
  else for (let i = 0, k = start * cols + j; i < block.length; i++, k += cols) data[k] = ((block[i]! - mean) / scale) * weight;
}

interface Scaling {
  readonly mean: number;
  readonly scale: number;
  readonly weight: number;
}

const RAW: Scaling = { mean: 0, scale: 1, weight: 1 };

/**
 * Encodes the customers into the model columns, a block of rows at a time (the matrix's rows of a
 * block stay in cache while each column is written); `scaler` null: raw values. A column of bytes
 * is written from a table of its 256 values, each scaled by applyScaler's expression: the same
 * doubles, without a division per row.
 */
function encode(customers: Customers, features: readonly FeatureSpec[], scaler: Scaler | null): Matrix {
  const columns = columnsOf(customers);
  const sources = sourcesOf(columns, features);
  const rows = columns.length;
  const cols = sources.length;
  const data = new Float64Array(rows * cols);
  const scaling = sources.map((_, j): Scaling =>
    scaler === null ? RAW : { mean: scaler.mean[j]!, scale: scaler.scale[j]!, weight: scaler.weight[j]! },
  );
  const tables = sources.map((source, j) => {
    if (source.kind !== 'bytes') return BYTE_VALUES;
    const { mean, scale, weight } = scaling[j]!;
    return scaler === null ? source.raw : source.raw.map((raw) => ((raw - mean) / scale) * weight);
  });
  const bytes = sources.map((source) => (source.kind === 'bytes' ? columns.byteBlocks(source.feature) : []));
  const numbers = sources.map((source) => (source.kind === 'numbers' ? columns.numberBlocks(source.feature) : []));
  const size = columns.blockRows;
  for (let b = 0, start = 0; start < rows; b++, start += size) {
    for (let j = 0; j < cols; j++) {
      const source = sources[j]!;
      if (source.kind === 'bytes') fillFromBytes(data, cols, j, start, bytes[j]![b]!, tables[j]!);
      else fillFromNumbers(data, cols, j, start, numbers[j]![b]!, scaling[j]!, source.log1p);
    }
  }
  return { data, rows, cols };
}

/**
 * Encodes customers into raw (unscaled) model columns; an unseen category yields NaN in its row.
 */
export function encodeRaw(customers: Customers, features: readonly FeatureSpec[]): Matrix {
  return encode(customers, features, null);
}

/**
 * encodeRaw then applyScaler in one pass and one matrix, with the same values bit for bit (each
 * value is the same expression of the same numbers): what training holds of a million rows is this
 * n × d matrix and nothing else of its size.
 */
export function encodeScaled(customers: Customers, features: readonly FeatureSpec[], scaler: Scaler): Matrix {
  return encode(customers, features, scaler);
}

/**
 * The scaler fitScaler fits to encodeRaw's matrix, from the customers' columns without the matrix:
 * each column's sums are taken over the same values in the same order, so it is the same scaler
 * bit for bit.
 */
export function fitScalerOf(customers: Customers, features: readonly FeatureSpec[]): Scaler {
  const columns = columnsOf(customers);
  const sources = sourcesOf(columns, features);
  const rows = columns.length;
  const mean = new Float64Array(sources.length);
  const sq = new Float64Array(sources.length);
  sources.forEach((source, j) => {
    let sum = 0;
    let squares = 0;
    if (source.kind === 'bytes') {
      const blocks = columns.byteBlocks(source.feature);
      for (const block of blocks) sum = addBytes(sum, block, source.raw);
      mean[j] = sum / (rows || 1);
      for (const block of blocks) squares = addByteSquares(squares, block, source.raw, mean[j]!);
    } else {
      const blocks = columns.numberBlocks(source.feature);
      for (const block of blocks) sum = addNumbers(sum, block, source.log1p);
      mean[j] = sum / (rows || 1);
      for (const block of blocks) squares = addNumberSquares(squares, block, mean[j]!, source.log1p);
    }
    sq[j] = squares;
  });
  return scalerOf(mean, sq, rows, features);
}

// `total` plus a block's values, or their squared differences from `mean`, in row order: fitScaler's
// sums, carried from block to block (so the same doubles). A byte's value is `raw[byte]`.

function addBytes(total: number, block: Uint8Array, raw: Float64Array): number {
  let s = total;
  for (let i = 0; i < block.length; i++) s += raw[block[i]!]!;
  return s;
}

function addByteSquares(total: number, block: Uint8Array, raw: Float64Array, mean: number): number {
  let s = total;
  for (let i = 0; i < block.length; i++) {
    const d = raw[block[i]!]! - mean;
    s += d * d;
  }
  return s;
}

function addNumbers(total: number, block: Float64Array, log1p: boolean): number {
  let s = total;
  if (log1p) for (let i = 0; i < block.length; i++) s += Math.log1p(block[i]!);
  else for (let i = 0; i < block.length; i++) s += block[i]!;
  return s;
}

function addNumberSquares(total: number, block: Float64Array, mean: number, log1p: boolean): number {
  let s = total;
  for (let i = 0; i < block.length; i++) {
    const d = (log1p ? Math.log1p(block[i]!) : block[i]!) - mean;
    s += d * d;
  }
  return s;
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
  return scalerOf(mean, sq, rows, features);
}

/**
 * Whether a column is constant as scikit-learn's StandardScaler decides it (`_is_constant_feature`):
 * a variance within the rounding error its sums can carry. A constant log1p column is not exactly
 * constant after the sums (10⁶ copies of log1p(12345): std 9e-11), and gets scale 1, as there.
 */
function isConstant(variance: number, mean: number, rows: number): boolean {
  const eps = Number.EPSILON;
  return variance <= rows * eps * variance + (rows * mean * eps) ** 2;
}

/**
 * The scaler from each column's mean and sum of squared differences from it over `rows` rows:
 * fitScaler's, and training from the table's from sums the database takes (table-model.ts).
 */
export function scalerOf(mean: ArrayLike<number>, sq: ArrayLike<number>, rows: number, features: readonly FeatureSpec[]): Scaler {
  const scale = Array.from(sq, (s, j) => {
    const variance = s / (rows || 1);
    return isConstant(variance, mean[j]!, rows) ? 1 : Math.sqrt(variance);
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
