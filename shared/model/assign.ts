// Labeling customers with a model: encode with the model's fixed categories and scaler, then
// nearest centroid, Euclidean distance in model space, and the segment's outlier threshold.

import { columnsOf, type CustomerColumns, type Customers } from '../csv/columns.ts';
import type { Categories, Customer, HeaderMap, KnownValues } from '../csv/contract.ts';
import { transformed, type Matrix } from '../features/encode.ts';
import type { Model } from './artifact.ts';

export interface Assignment {
  /** Index of the nearest centroid in the model's arrays. */
  readonly index: number;
  /** Id of its segment (stable across retrains; not always equal to the index). */
  readonly segment: number;
  readonly distance: number;
  readonly isOutlier: boolean;
}

/** The model's values of each categorical feature: a file read for it starts its learned features from them. */
export function knownValuesOf(model: Model | null): KnownValues {
  if (model === null) return {};
  return Object.fromEntries(model.features.flatMap((f) => (f.kind === 'categorical' ? [[f.name, f.categories ?? []]] : [])));
}

/** Why a customer cannot be labeled by this model (a category it was not trained with), or undefined. */
export function unassignableReason(customer: Customer, model: Model): string | undefined {
  for (const f of model.features) {
    if (f.kind !== 'categorical') continue;
    const value = customer[f.name];
    if (value !== undefined && !(f.categories ?? []).includes(String(value))) {
      return `${f.name} "${String(value)}" was not seen when model ${model.modelVersion} was trained`;
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
    const columns = model.features.flatMap((f): Array<(c: Customer) => number> => {
      if (f.kind === 'categorical') return (f.categories ?? []).map((category) => (c: Customer) => (c[f.name] === category ? 1 : 0));
      const log1p = f.transform === 'log1p';
      return [(c: Customer) => transformed(c[f.name] as number, log1p)];
    });
    this.encode = (customer, into) => {
      for (let j = 0; j < columns.length; j++) into[j] = ((columns[j]!(customer) - mean[j]!) / scale[j]!) * weight[j]!;
    };
  }

  /** The customer's label; the customer must be assignable (see unassignableReason). */
  assign(customer: Customer): Assignment {
    this.encode(customer, this.point);
    return nearest(this.point, this.centroids, this.model);
  }

  /** Labels rows as the CSV reader holds them for `header` (ParsedRow's values), with no customer object. */
  forHeader(header: HeaderMap): RowAssigner {
    return new RowAssigner(this.model, header, this.point, this.centroids);
  }
}

/** A categorical model feature as rows of one header hold it: a code per value, the model's index per code. */
interface CodedFeature {
  readonly name: string;
  readonly position: number;
  readonly categories: Categories;
  readonly modelCategories: readonly string[];
  /** Per code of the header's values, its index among the model's categories (−1: unseen); grown as values are learned. */
  indexOf: Int16Array;
}

/** What model column j is in a row: a number (as is or log1p), a one-hot column, or a feature the row does not have. */
const NUMERIC = 0;
const LOG1P = 1;
const ONE_HOT = 2;
/** A numeric feature the header lacks: NaN, as a customer without it gives. */
const NO_NUMBER = 3;
/** A categorical feature the header lacks: 0 in each of its one-hot columns. */
const NO_CATEGORY = 4;

/**
 * Assigner's labeling and unassignableReason over a row's values (values[at + position], as
 * checkRow writes them): the same encoding, so the same labels and distances, without a customer
 * object per row. A feature the header does not have reads as a customer without it would (NaN for
 * a number, 0 in every one-hot column).
 */
export class RowAssigner {
  private readonly coded: CodedFeature[] = [];
  /** Per model column: its kind (NUMERIC … NO_CATEGORY); its position in the row; a one-hot column's category index. */
  private readonly kind: Uint8Array;
  private readonly position: Int32Array;
  private readonly category: Int32Array;
  /** Per model column, its feature's index in `coded` (one-hot columns). */
  private readonly slot: Int32Array;
  /** Per feature of `coded`, the current row's index among the model's categories. */
  private readonly rowIndex: Int32Array;

  constructor(
    private readonly model: Model,
    header: HeaderMap,
    private readonly point: Float64Array,
    private readonly centroids: Float64Array,
  ) {
    const d = model.scaler.mean.length;
    this.kind = new Uint8Array(d);
    this.position = new Int32Array(d);
    this.category = new Int32Array(d);
    this.slot = new Int32Array(d);
    let j = 0;
    for (const f of model.features) {
      const rule = header.rules.find((r) => r.name === f.name);
      if (f.kind === 'numeric') {
        this.kind[j] = rule === undefined ? NO_NUMBER : f.transform === 'log1p' ? LOG1P : NUMERIC;
        this.position[j] = rule?.position ?? 0;
        j++;
        continue;
      }
      const modelCategories = f.categories ?? [];
      const coded =
        rule?.kind === 'categorical'
          ? { name: f.name, position: rule.position, categories: rule.categories, modelCategories, indexOf: new Int16Array(0) }
          : undefined;
      if (coded !== undefined) this.coded.push(coded);
      modelCategories.forEach((_, c) => {
        this.kind[j] = coded === undefined ? NO_CATEGORY : ONE_HOT;
        this.position[j] = coded?.position ?? 0;
        this.category[j] = c;
        this.slot[j] = this.coded.length - 1;
        j++;
      });
    }
    this.rowIndex = new Int32Array(this.coded.length);
  }

  /** Why the model cannot label this row (a category it was not trained with), or undefined: unassignableReason's. */
  unassignable(values: Float64Array, at: number): string | undefined {
    for (const feature of this.coded) {
      const code = values[at + feature.position]!;
      if (this.modelIndex(feature, code) < 0) {
        return `${feature.name} "${feature.categories.values[code]!}" was not seen when model ${this.model.modelVersion} was trained`;
      }
    }
    return undefined;
  }

  /** The row's label; the row must be assignable (see unassignable). */
  assign(values: Float64Array, at: number): Assignment {
    const { mean, scale, weight } = this.model.scaler;
    const { kind, position, point, coded, rowIndex } = this;
    for (let f = 0; f < coded.length; f++) rowIndex[f] = this.modelIndex(coded[f]!, values[at + coded[f]!.position]!);
    for (let j = 0; j < kind.length; j++) {
      const k = kind[j]!;
      const value = values[at + position[j]!]!;
      let x: number;
      if (k === NUMERIC) x = value;
      else if (k === LOG1P) x = Math.log1p(value);
      else if (k === ONE_HOT) x = rowIndex[this.slot[j]!] === this.category[j]! ? 1 : 0;
      else x = k === NO_NUMBER ? Number.NaN : 0;
      point[j] = ((x - mean[j]!) / scale[j]!) * weight[j]!;
    }
    return nearest(point, this.centroids, this.model);
  }

  private modelIndex(feature: CodedFeature, code: number): number {
    if (code >= feature.indexOf.length) {
      // a value learned since: the table again, for every value the header knows now
      const known = feature.categories.values;
      feature.indexOf = Int16Array.from(known, (value) => feature.modelCategories.indexOf(value));
    }
    return feature.indexOf[code]!;
  }
}

/** Rows encoded at a time by nearestCentroids (a small buffer that stays in cache). */
const BLOCK_ROWS = 1024;

/** Each numeric feature's values in customer order, as the report and labeling share them. */
export type NumericColumns = Readonly<Record<string, Float64Array>>;

/** The numeric features of customers as one Float64Array each (copied once from the columns). */
export function numericColumns(customers: Customers): NumericColumns {
  const columns = columnsOf(customers);
  return Object.fromEntries(columns.schema.features.filter((f) => f.kind === 'numeric').map((f) => [f.name, columns.numeric(f.name)]));
}

/**
 * Per model column, where its scaled value comes from: a numeric feature's values (transformed,
 * then scaled), or a one-hot column's scaled value per code of its feature's byte column.
 */
interface ModelColumns {
  readonly numeric: Array<{ readonly values: Float64Array; readonly log1p: boolean } | undefined>;
  readonly byCode: Array<{ readonly codes: Uint8Array; readonly table: Float64Array } | undefined>;
}

function modelColumns(model: Model, columns: CustomerColumns, values: NumericColumns): ModelColumns {
  const { mean, scale, weight } = model.scaler;
  const numeric: ModelColumns['numeric'] = [];
  const byCode: ModelColumns['byCode'] = [];
  for (const f of model.features) {
    if (f.kind === 'numeric') {
      numeric.push({ values: values[f.name] ?? columns.numeric(f.name), log1p: f.transform === 'log1p' });
      byCode.push(undefined);
      continue;
    }
    const categories = f.categories ?? [];
    const known = columns.categories(f.name);
    const codes = columns.codes(f.name);
    categories.forEach((_, c) => {
      const j = numeric.length;
      numeric.push(undefined);
      const table = Float64Array.from({ length: 256 }, (_, code) => {
        const at = code < known.length ? categories.indexOf(known[code]!) : -1;
        const raw = at < 0 ? Number.NaN : at === c ? 1 : 0;
        return ((raw - mean[j]!) / scale[j]!) * weight[j]!;
      });
      byCode.push({ codes, table });
    });
  }
  return { numeric, byCode };
}

/** Column j's scaled value of row i (see ModelColumns). */
function scaledValue(cols: ModelColumns, scaler: Model['scaler'], j: number, i: number): number {
  const source = cols.numeric[j];
  if (source === undefined) {
    const { codes, table } = cols.byCode[j]!;
    return table[codes[i]!]!;
  }
  return ((transformed(source.values[i]!, source.log1p) - scaler.mean[j]!) / scaler.scale[j]!) * scaler.weight[j]!;
}

/**
 * Some customers' points in model space (rows of a row-major matrix, in the order of `rows`), as
 * encodeRaw + applyScaler would give them, without encoding everybody else.
 */
export function modelSpaceRows(customers: Customers, model: Model, rows: Int32Array, values?: NumericColumns): Matrix {
  const columns = columnsOf(customers);
  const d = model.scaler.mean.length;
  const cols = modelColumns(model, columns, values ?? numericColumns(columns));
  const data = new Float64Array(rows.length * d);
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < rows.length; r++) data[r * d + j] = scaledValue(cols, model.scaler, j, rows[r]!);
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
  const cols = modelColumns(model, columns, options.values ?? numericColumns(columns));
  const { numeric, byCode } = cols;
  const centroids = Float64Array.from(model.centroids.model.flat());
  // The one-hot columns of a leading categorical feature (the mall's gender) add the same to a
  // centroid's distance for every customer of a category: summed once per code and centroid, in
  // the same order as nearest sums.
  let lead = 0;
  const leadCodes = byCode[0]?.codes;
  while (lead < d && byCode[lead]?.codes === leadCodes && leadCodes !== undefined) lead++;
  const codeCount = leadCodes === undefined ? 1 : 256;
  const codes = leadCodes ?? new Uint8Array(n);
  const start = new Float64Array(codeCount * k);
  for (let g = 0; g < codeCount; g++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < lead; j++) {
        const diff = byCode[j]!.table[g]! - centroids[c * d + j]!;
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
        const values = source.values;
        if (source.log1p) for (let r = 0, at = j; r < rows; r++, at += d) points[at] = ((Math.log1p(values[first + r]!) - m) / sc) * w;
        else for (let r = 0, at = j; r < rows; r++, at += d) points[at] = ((values[first + r]! - m) / sc) * w;
      } else {
        const { codes: own, table } = byCode[j]!;
        for (let r = 0, at = j; r < rows; r++, at += d) points[at] = table[own[first + r]!]!;
      }
    }
    if (d - lead === 3) {
      // three columns after the leading one-hot ones (the mall's default features): the same sums, unrolled
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
