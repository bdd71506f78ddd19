// The in-database labeling statement: for one bounded key range of pending customers, compute the
// model-space features, the squared distance to every centroid and the nearest one, and update
// the rows — all in PostgreSQL, so customer rows never travel to the caller. The model reaches
// the statement only as named parameters; its feature names reach it only as quoted identifiers
// (quoteIdentifier), and a category value only as a parameter.
// Each intermediate step is a subquery fenced with OFFSET 0: inlined, PostgreSQL would re-evaluate
// every distance expression at each reference (k² distance computations per row instead of k);
// fenced, each value is computed once per row and streamed to the next step, with no temporary
// table in between (MATERIALIZED steps spilled a batch of 50,000 rows to disk).

import type { ModelSpace, SqlParams, SqlValue } from '../ports.ts';
import type { FeatureSpec } from '../features/spec.ts';
import type { Model } from '../model/artifact.ts';
import { featureColumn } from './customer-table.ts';
import { complete } from './rows.ts';

const double = (param: string): string => `CAST(:${param} AS double precision)`;
// double precision constants for one-hot columns: the literals 1.0 and 0.0 are numeric, converted per row
const ONE = 'CAST(1 AS double precision)';
const ZERO = 'CAST(0 AS double precision)';
/**
 * `SET LOCAL synchronous_commit = off` as a function call inside the statement: it lasts until the end
 * of the transaction the statement runs in (its own: the statement is sent alone, so this costs no
 * extra call or transaction block, through the Data API too), and that commit then returns without
 * waiting for the WAL flush. Safe because labels are recomputable: a crash right after a commit can
 * lose only the labels of the last batches (a fraction of a second of commits), never half a batch,
 * and those rows are simply pending again for the next run. Nothing outside this transaction changes.
 */
const ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)";
/** Carried through every step: the key, and the row version the label is computed from. */
const VALUE_COLUMNS = 'customer_id, row_version';

/**
 * A numeric feature's raw model-space value over its column, as a double: the column's value, or
 * for a log1p feature ln(1 + value) in double precision (PostgreSQL has no log1p).
 *
 * ln(1 + x) is not Math.log1p(x) to the bit: 1 + x is rounded to a double first (for a value with
 * a fraction, such as cents; whole numbers below 2^53 add exactly), and ln and log1p are different
 * approximations, each within an ulp or so. The two values can differ in their last bits (a relative
 * difference of the order of 1e-16), and so can the scaled value and every squared distance built
 * on it, by about the same relative amount. A label can differ from the JavaScript Assigner's only
 * when the two nearest centroids are that close to tied: distances equal to about 1e-15 relative,
 * far inside 1e-12. Away from such ties, labels are equal and distances agree to about 1e-15.
 */
export function rawValueSql(feature: FeatureSpec, column: string): string {
  const value = `CAST(${column} AS double precision)`;
  return feature.transform === 'log1p' ? `ln(${ONE} + ${value})` : value;
}

/** Combinations of the leading categorical features' values (unseen ones included) at most, for their part of the distances. */
const MAX_LEAD_COMBINATIONS = 64;

/** The categorical features that lead a model's columns (their one-hot blocks first), and how many columns they cover. */
interface Lead {
  readonly features: ReadonlyArray<{ readonly column: string; readonly categories: readonly string[]; readonly first: number }>;
  readonly columns: number;
}

/**
 * The leading categorical features of a model, while their value combinations (each feature's
 * categories and an unseen value) stay within MAX_LEAD_COMBINATIONS; none when they cover fewer
 * than two columns (nothing to save).
 */
function leadingCategories(space: ModelSpace): Lead {
  const features: Array<Lead['features'][number]> = [];
  let combinations = 1;
  let columns = 0;
  for (const feature of space.features) {
    const categories = feature.categories ?? [];
    if (feature.kind !== 'categorical' || combinations * (categories.length + 1) > MAX_LEAD_COMBINATIONS) break;
    combinations *= categories.length + 1;
    features.push({ column: featureColumn(feature.name), categories, first: columns });
    columns += categories.length;
  }
  return columns < 2 ? { features: [], columns: 0 } : { features, columns };
}

/**
 * Centroid `c`'s part of the squared distance over the leading one-hot columns, as a CASE over the
 * leading features' raw values: for each combination of values, the sum JavaScript computes (the
 * Assigner and kmeans.ts add the terms from the first column on, so the sum of the first terms is
 * the running sum at that point: the same double), passed as a parameter. A value outside a
 * feature's categories has all its one-hot columns 0, as encode.ts gives it. The one-hot columns'
 * x<j> are still computed (table training reads them); the distances no longer repeat their terms.
 */
function leadPart(space: ModelSpace, lead: Lead, c: number, params: Record<string, SqlValue>, prefix: string): string {
  const { mean, scale, weight } = space.scaler;
  const centroid = space.centroids[c]!;
  let n = 0;
  const part = (level: number, values: ReadonlyArray<string | null>): string => {
    if (level === lead.features.length) {
      let sum = 0;
      lead.features.forEach(({ categories, first }, f) => {
        categories.forEach((category, i) => {
          const j = first + i;
          const x = (((values[f] === category ? 1 : 0) - mean[j]!) / scale[j]!) * weight[j]!;
          sum += (x - centroid[j]!) * (x - centroid[j]!);
        });
      });
      const name = `${prefix}lead_${c}_${n++}`;
      params[name] = sum;
      return double(name);
    }
    const { column, categories, first } = lead.features[level]!;
    const whens = categories.map(
      (category, i) => `WHEN ${column} = CAST(:${prefix}category_${first + i} AS text) THEN ${part(level + 1, [...values, category])}`,
    );
    return `CASE ${whens.join(' ')} ELSE ${part(level + 1, [...values, null])} END`;
  };
  return part(0, []);
}

/** SQL expressions of a model's space over a row's raw columns, with their parameters. */
export interface ModelSpaceSql {
  /** `… AS x<j>` per model column: `((raw − mean) / scale) × weight`, as encode.ts computes it. */
  readonly columns: readonly string[];
  /**
   * `… AS d<c>` per centroid: the squared distance, summed over the columns in order as kmeans.ts
   * does, the leading categorical features' part as one constant per combination of their values
   * (leadPart): over the x<j> and those features' raw columns, as measured() carries them.
   */
  readonly distances: readonly string[];
  /** The smallest squared distance, of the `d<c>` columns. */
  readonly least: string;
  /** The index of the nearest centroid (the first on ties), of the `d<c>` and `m` (the least) columns; `ids[c]` in its place when given. */
  nearest(ids?: readonly number[]): string;
  /**
   * A subquery over `source` (a table or CTE name, with its WHERE if any) giving, per row, the
   * `carry` columns, the model-space `x<j>`, the distances `d<c>` and their least `m`: each step
   * fenced with OFFSET 0 (see the header), so a select over it names the nearest centroid with
   * `nearest()` computing each distance once.
   */
  measured(carry: string, source: string): string;
}

/**
 * The model-space expressions of `space` over the raw feature columns (each named as its feature,
 * quoted), its numbers added to `params` as named parameters (names prefixed by `prefix`, so that
 * two models can meet in one statement). Each value is the same double that encode.ts and kmeans.ts
 * compute in JavaScript: the same operations on the same doubles, in the same order (the one-hot
 * value as a double 1 or 0, the squared differences added from the first column on), so a row gets
 * the centroid JavaScript gives it, first on ties — but for a log1p feature's last bits (rawValueSql).
 */
export function modelSpaceSql(space: ModelSpace, params: Record<string, SqlValue>, prefix = ''): ModelSpaceSql {
  const columns: string[] = [];
  let j = 0;
  for (const feature of space.features) {
    const column = featureColumn(feature.name);
    const values = feature.kind === 'categorical' ? (feature.categories ?? []) : [null];
    for (const category of values) {
      params[`${prefix}mean_${j}`] = space.scaler.mean[j]!;
      params[`${prefix}scale_${j}`] = space.scaler.scale[j]!;
      params[`${prefix}weight_${j}`] = space.scaler.weight[j]!;
      let raw = rawValueSql(feature, column);
      if (category !== null) {
        params[`${prefix}category_${j}`] = category;
        raw = `CASE WHEN ${column} = CAST(:${prefix}category_${j} AS text) THEN ${ONE} ELSE ${ZERO} END`;
      }
      columns.push(
        `(${raw} - ${double(`${prefix}mean_${j}`)}) / ${double(`${prefix}scale_${j}`)} * ${double(`${prefix}weight_${j}`)} AS x${j}`,
      );
      j++;
    }
  }
  const lead = leadingCategories(space);
  // the squared distance's terms after the leading one-hot columns, added to their part in order
  const distances = space.centroids.map((centroid, c) => {
    const terms = centroid.map((value, d) => {
      params[`${prefix}centroid_${c}_${d}`] = value;
      const p = double(`${prefix}centroid_${c}_${d}`);
      return `(x${d} - ${p}) * (x${d} - ${p})`;
    });
    if (lead.columns === 0) return `${terms.join(' + ')} AS d${c}`;
    return `${[leadPart(space, lead, c, params, prefix), ...terms.slice(lead.columns)].join(' + ')} AS d${c}`;
  });
  const k = space.centroids.length;
  const all = Array.from({ length: k }, (_, c) => `d${c}`);
  const least = k === 1 ? 'd0' : `LEAST(${all.join(', ')})`;
  const xs = columns.map((_, j) => `x${j}`).join(', ');
  return {
    columns,
    distances,
    least,
    measured: (carry, source) => `SELECT *, ${least} AS m FROM (
      SELECT ${carry}, ${xs}, ${distances.join(', ')} FROM (
        SELECT ${[carry, ...lead.features.map((f) => f.column), ...columns].join(', ')} FROM ${source} OFFSET 0
      ) AS scaled OFFSET 0
    ) AS distances OFFSET 0`,
    nearest: (ids = all.map((_, c) => c)) =>
      k === 1 ? String(ids[0]) : `CASE ${all.map((d, c) => `WHEN ${d} = m THEN ${ids[c]}`).join(' ')} END`,
  };
}

/** The distinct feature names of a model's features, in order. */
export const featureNames = (features: readonly FeatureSpec[]): string[] => [...new Set(features.map((f) => f.name))];

/** The model's feature columns, quoted, for a select list. */
const featureList = (features: readonly FeatureSpec[]): string =>
  featureNames(features)
    .map((name) => featureColumn(name))
    .join(', ');

/**
 * SQL and parameters that label the next `batchSize` pending customers after `after` (exclusive),
 * and up to `until` (inclusive) when given: a lane of the key range that another lane's statements
 * do not touch.
 */
export function labelBatchStatement(model: Model, after: string, batchSize: number, until?: string): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = { model_version: model.modelVersion, after, batch_size: batchSize };
  if (until !== undefined) params.until = until;
  const space = modelSpaceSql({ features: model.features, scaler: model.scaler, centroids: model.centroids.model }, params);
  const { columns, distances } = space;
  const ids = model.segments.map((s) => s.id);
  const nearest = space.nearest(ids);
  const names = model.segments.map((s) => {
    params[`name_${s.id}`] = s.name;
    params[`threshold_${s.id}`] = s.outlierThreshold;
    return s.id;
  });
  const byId = (prefix: string, cast: (p: string) => string): string =>
    `CASE b.segment ${names.map((id) => `WHEN ${id} THEN ${cast(`${prefix}_${id}`)}`).join(' ')} END`;

  // No comments inside the SQL text (the Data API's parameter scanner and comments: design.md).
  // In the UPDATE: the key range (`> :after`, `<= last_key`) lets PostgreSQL reach the batch's rows
  // by index instead of scanning the table; `c.xmin = b.row_version` leaves alone a row that another
  // transaction changed since this statement read it (an upload, another run), since its label was
  // computed from values it no longer has.
  // A row with a NULL in a column the model uses (stored before the column existed) is not pending:
  // it cannot be labeled until its values are uploaded again (countPending counts it apart).
  const batch = `(
    SELECT customer_id, xmin AS row_version, ${featureList(model.features)} FROM customers
    WHERE customer_id > CAST(:after AS text)${until === undefined ? '' : ' AND customer_id <= CAST(:until AS text)'}
      AND (segment IS NULL OR model_version IS DISTINCT FROM CAST(:model_version AS text))
      AND ${complete(featureNames(model.features))}
    ORDER BY customer_id LIMIT CAST(:batch_size AS integer)
  ) AS batch`;
  const sql = `WITH best AS (
  SELECT ${VALUE_COLUMNS}, ${nearest} AS segment, sqrt(m) AS distance FROM (${space.measured(VALUE_COLUMNS, batch)}) AS nearest
), bounds AS (
  SELECT CAST(count(*) AS integer) AS seen, max(customer_id) AS last_key FROM best
), updated AS (
  UPDATE customers AS c SET
    segment = b.segment,
    segment_name = ${byId('name', (p) => `CAST(:${p} AS text)`)},
    segment_origin = CASE WHEN EXISTS (
      SELECT 1 FROM training_members AS t WHERE t.model_version = CAST(:model_version AS text) AND t.customer_id = c.customer_id
    ) THEN 'created' ELSE 'assigned' END,
    model_version = CAST(:model_version AS text),
    segment_distance = b.distance,
    is_outlier = b.distance > ${byId('threshold', double)},
    segmented_at = now(),
    updated_at = now()
  FROM best AS b
  WHERE c.customer_id = b.customer_id AND c.customer_id > CAST(:after AS text) AND c.customer_id <= (SELECT last_key FROM bounds)
    AND c.xmin = b.row_version
  RETURNING c.is_outlier
)
SELECT (SELECT seen FROM bounds) AS seen, (SELECT last_key FROM bounds) AS last_key,
  CAST(count(*) AS integer) AS labeled, CAST(count(*) FILTER (WHERE is_outlier) AS integer) AS outliers,
  ${ASYNC_COMMIT} AS commit_mode
FROM updated`;
  return { sql, params };
}
