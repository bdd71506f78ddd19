// Training from the customers table inside the database: the statements of one run over its
// scratch tables (migration 005, recreated with a schema's feature columns by customer-table.ts).
// The function only orchestrates; what crosses the connection is the sample for the k sweep and
// the restarts, and aggregates. Every statement is generated from the run's customer schema: a
// feature's column only through quoteIdentifier, a category value only as a parameter.
//
// Consistent rows without a session. The Data API has no session, so a run cannot hold one
// snapshot of the table across its statements. Instead its first statements copy the rows it trains
// on into training_snapshots under a run id (a uuid), with each row's values, and their distinct
// feature values with counts into training_points; every later statement reads those copies,
// never the live table, so every figure of the model describes the same rows. At the end the
// training members are the copied rows whose live row still has the copied values (INSERT …
// SELECT, recordMembers): a row that changed (or went) while the model trained is not a member, so the
// origin rule stays true (members are labeled `created`, every other row `assigned`). The values
// are compared, not updated_at, because labeling a row (the nightly run, an ingest) moves
// updated_at without changing what the model was trained on. The run deletes its copies when it
// ends (dropSnapshot), and every run first deletes copies older than a day (STALE_SECONDS): what a run
// that crashed left behind.
//
// Rows left out. A row with a feature NULL (stored before the feature's column was added: the
// table gives existing rows NULL when a feature without a fill arrives) or with a value the schema
// does not accept (a category it does not list, a negative value where log1p needs ≥ 0, a value
// outside its bounds: possible once a schema is redefined without changing its columns) is not
// copied; the copy counts them (TrainingSnapshot.leftOut), in the statement that copies the others.
//
// Why points. A Lloyd iteration reads every row; customers with the same values of every feature
// are the same point of model space, so the iterations, the labels and every figure but the sample,
// the fingerprint and the membership read training_points, one row per distinct point with its
// number of customers, instead of the customers. Measured on 10⁶ generated mall customers (123,753
// distinct points), one iteration's statement: 3.1 s over the snapshot's rows, 0.2 s over the points
// (machine loaded); a schema of many decimal features has about as many points as customers. Each
// value in the model space is computed per point as JavaScript computes it per row (scoring.ts,
// modelSpaceSql), so the labels are the same; sums weighted by the counts differ from JavaScript's
// row-by-row sums by rounding only.
//
// Batches. A statement whose work grows with the table is cut into parts so that none approaches
// the Data API's 45 s: key ranges of customer_id, cut once per run (cutKeys: every MEMBER_ROWS-th
// id in the column's order), the copy, the grouping into points and the membership each taking a
// run of consecutive ranges (the copy and the membership reach theirs through the primary key);
// the statements over the points by the points' parts (POINT_ROWS points or so each), as many in
// one statement as its work allows (LLOYD_WORK, LABEL_POINTS).
// Key ranges replace a hash of customer_id (hashtext, which PostgreSQL does not document): they
// take one pass over the primary key to cut, and the copy reads only its range of the customers.

import type { Customer, FeatureValue } from '../csv/contract.ts';
import { MAX_CATEGORIES } from '../csv/contract.ts';
import { SchemaError } from '../errors.ts';
import { MALL_SCHEMA, type CustomerSchema, type NumericSchemaFeature, type SchemaFeature } from '../schema/customer-schema.ts';
import type {
  ModelSpace,
  RankedField,
  RankRequest,
  SegmentTotals,
  SqlClient,
  SqlRow,
  SqlValue,
  TableTraining,
  TrainingSnapshot as Snapshot,
} from '../ports.ts';
import { ALL } from '../ports.ts';
import { columnType, featureColumn, pointColumnType, quoteIdentifier } from './customer-table.ts';
import { modelSpaceSql } from './scoring.ts';
import { int } from './rows.ts';

/** Copies older than this belong to a run that ended without deleting them (a crash, a timeout). */
export const STALE_SECONDS = 24 * 60 * 60;
/**
 * Customers per copying statement (and per membership statement: MEMBER_ROWS): measured at 10⁶
 * customers, the copy took 2.2–5.0 s and the membership 7.4–8.6 s in one statement each (machine
 * loaded), so statements of these sizes stay near 2 s.
 */
export const COPY_ROWS = 500_000;
export const MEMBER_ROWS = 250_000;
/** Customers per statement that groups the copy into points: 1.0–2.0 s at 10⁶ (machine loaded). */
export const GROUP_ROWS = 2_000_000;
/**
 * Points per part of the points: a grouping statement spreads its points over
 * ceil(GROUP_ROWS / POINT_ROWS) parts, so that a statement over the points can take as few as it
 * should (a schema with decimal features has about as many points as customers).
 */
const POINT_ROWS = 100_000;
/**
 * Work of one statement that measures points against centroids (Lloyd sums, the movement): points ×
 * centroids × model columns. 25·10⁶ is about 2 s on this machine (10⁶ points of a 12-column model
 * and k = 5 took 4.7 s in one statement, unloaded); the mall's 10⁶ customers (about 124,000 points
 * of 5 columns) stay one statement at k up to 40.
 */
const LLOYD_WORK = 25_000_000;
/**
 * Points per labeling statement at most (labelPoints also updates each point: 10⁶ points of a
 * 12-column model took 9 s to label and update, 13 s with the sums, in one statement).
 */
const LABEL_POINTS = 250_000;

/** The sizes of a run's statements (tests make them small, to run many parts on few rows). */
export interface PartSizes {
  /** Customers per copying statement, per membership statement, per grouping statement. */
  readonly copyRows: number;
  readonly memberRows: number;
  readonly groupRows: number;
  /** Points per part of the points. */
  readonly pointRows: number;
  /** Points × centroids × model columns per statement that measures points (at least a part's). */
  readonly lloydWork: number;
  /** Points per labeling statement (at least a part's). */
  readonly labelPoints: number;
}

const PART_SIZES: PartSizes = {
  copyRows: COPY_ROWS,
  memberRows: MEMBER_ROWS,
  groupRows: GROUP_ROWS,
  pointRows: POINT_ROWS,
  lloydWork: LLOYD_WORK,
  labelPoints: LABEL_POINTS,
};

/** Points per statement that measures them against `space`'s centroids (sizes.lloydWork of work). */
const measuredPoints = (sizes: PartSizes, space: ModelSpace): number =>
  Math.max(1, Math.floor(sizes.lloydWork / Math.max(1, space.centroids.length * (space.centroids[0]?.length ?? 1))));
/** Bytes of a sample page's response, under the Data API's 1 MiB with room for the JSON around values. */
const SAMPLE_PAGE_BYTES = 768 * 1024;
/** JSON bytes of a number at most (`-1.2345678901234567e-100`). */
const MAX_NUMBER_BYTES = 24;
/** JSON bytes of a bigint at most (`-9223372036854775808`). */
const BIGINT_JSON_BYTES = 20;

/**
 * Statements of one step in flight at once (the copy's parts, the membership's parts): each call
 * runs on its own connection, so the database works on two parts at a time (measured on 2 cores).
 */
export const PARTS_IN_FLIGHT = 2;

/** Runs `task` for 0..count-1 with at most `limit` running at once; the results in order. */
async function eachPart<T>(count: number, limit: number, task: (part: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const part = next++;
      results[part] = await task(part);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

/** How many parts `rows` rows take at `perPart` rows a part (at least one). */
export function partsOf(rows: number, perPart: number): number {
  return Math.max(1, Math.ceil(rows / perPart));
}

/**
 * Part `part` of `parts` of the key ranges that `keys` cut (keys.length + 1 ranges, the first and
 * the last open-ended): consecutive ranges, as evenly as they divide. Its bounds: customer_id
 * above `after` (none: from the first) and up to `upTo` included (none: to the last).
 */
export function keyRange(keys: readonly string[], part: number, parts: number): { after?: string; upTo?: string } {
  const ranges = keys.length + 1;
  const first = Math.floor((part * ranges) / parts);
  const end = Math.floor(((part + 1) * ranges) / parts);
  return { ...(first > 0 ? { after: keys[first - 1]! } : {}), ...(end < ranges ? { upTo: keys[end - 1]! } : {}) };
}

/** The condition keeping `alias`'s rows in a key range (TRUE for all), its bounds added to `params`. */
function inRange(alias: string, range: { after?: string; upTo?: string }, params: Record<string, SqlValue>): string {
  const conditions: string[] = [];
  if (range.after !== undefined) {
    params.after_key = range.after;
    conditions.push(`${alias}.customer_id > CAST(:after_key AS text)`);
  }
  if (range.upTo !== undefined) {
    params.up_to_key = range.upTo;
    conditions.push(`${alias}.customer_id <= CAST(:up_to_key AS text)`);
  }
  return conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
}

/** A column's value as double precision. */
const double = (expression: string): string => `CAST(${expression} AS double precision)`;

/** The SQL value of a ranked field over training_points. */
function fieldValue(field: RankedField): string {
  return field === 'distance' ? 'sqrt(sq_distance)' : double(quoteIdentifier(field.feature));
}

/**
 * The canonical text of a feature's value as fingerprint.ts writes it: a category as itself, a
 * whole-number column's digits, a decimal column's double in PostgreSQL's shortest text (String()'s
 * for every value from 0.0001 up to below 10¹⁵; outside that range the two write exponents
 * differently).
 */
function fingerprintText(feature: SchemaFeature): string {
  const name = quoteIdentifier(feature.name);
  if (feature.kind === 'categorical') return name;
  return columnType(feature) === 'numeric' && !feature.integer ? `CAST(${double(name)} AS text)` : `CAST(${name} AS text)`;
}

/** The conditions that keep the rows a schema accepts, over `alias`, their parameters added to `params`. */
interface Acceptance {
  /** Every feature column the table may hold NULL in is not NULL (TRUE when none may). */
  readonly complete: string;
  /** Every value within the schema's rules (TRUE when it has none to check). */
  readonly accepted: string;
}

function acceptance(schema: CustomerSchema, nullable: ReadonlySet<string>, alias: string, params: Record<string, SqlValue>): Acceptance {
  const complete: string[] = [];
  const accepted: string[] = [];
  schema.features.forEach((f, i) => {
    const value = featureColumn(f.name, alias);
    if (nullable.has(f.name)) complete.push(`${value} IS NOT NULL`);
    if (f.kind === 'categorical') {
      if (f.categories === 'learned') return;
      const listed = f.categories.map((category, j) => {
        params[`category_${i}_${j}`] = category;
        return `CAST(:category_${i}_${j} AS text)`;
      });
      accepted.push(`${value} IN (${listed.join(', ')})`);
      return;
    }
    const min = f.transform === 'log1p' ? Math.max(0, f.min ?? 0) : f.min;
    if (min !== undefined) {
      params[`min_${i}`] = min;
      accepted.push(`${double(value)} >= CAST(:min_${i} AS double precision)`);
    }
    if (f.max !== undefined) {
      params[`max_${i}`] = f.max;
      accepted.push(`${double(value)} <= CAST(:max_${i} AS double precision)`);
    }
  });
  return {
    complete: complete.length === 0 ? 'TRUE' : complete.join(' AND '),
    accepted: accepted.length === 0 ? 'TRUE' : accepted.join(' AND '),
  };
}

/** JSON bytes of a text value at most, quotes included: 6 a character outside printable ASCII (`\u00e9`), 2 for `"` and `\`. */
function jsonTextBytes(text: string): number {
  let bytes = 2;
  for (const ch of text) bytes += /[ -~]/.test(ch) ? (ch === '"' || ch === '\\' ? 2 : 1) : 6 * ch.length;
  return bytes;
}

/**
 * JSON bytes of a numeric feature's value in a sample row at most: a whole-number column's (read
 * as it is) by its bounds' digits, else a double's longest.
 */
function numberJsonBytes(feature: NumericSchemaFeature): number {
  if (columnType(feature) === 'numeric') return MAX_NUMBER_BYTES;
  const { min, max } = feature;
  return min === undefined || max === undefined ? BIGINT_JSON_BYTES : Math.max(String(min).length, String(max).length);
}

/**
 * JSON bytes of a sample row besides its id's value, at most: the keys, the values (categories by
 * the longest of the feature's values, numbers at their longest), braces, commas.
 */
function sampleRowOverhead(snapshot: Snapshot): number {
  let bytes = '{"customer_id":},'.length;
  snapshot.schema.features.forEach((f, i) => {
    bytes += `,"f${i}":`.length;
    if (f.kind === 'numeric') bytes += numberJsonBytes(f);
    else bytes += Math.max(2, ...(f.categories === 'learned' ? (snapshot.learned[f.name] ?? []) : f.categories).map(jsonTextBytes));
  });
  return bytes;
}

const RUN = 'run_id = CAST(:run_id AS uuid)';
/** The run's points in one batch of parts (`:from_part` to `:to_part`), as a source for ModelSpaceSql.measured. */
const PARTS = `training_points WHERE ${RUN} AND part BETWEEN CAST(:from_part AS integer) AND CAST(:to_part AS integer)`;

export class SqlTableTraining implements TableTraining {
  constructor(
    private readonly sql: SqlClient,
    /** Bytes of a sample page's response (tests make pages small). */
    private readonly samplePageBytes = SAMPLE_PAGE_BYTES,
    private readonly sizes: PartSizes = PART_SIZES,
  ) {}

  /**
   * Copies the customers table for run `runId`: every row `schema` accepts (the mall's by default;
   * the table must have its feature columns) into training_snapshots with its sample key for `seed` (sample-order.ts),
   * counting the rows left out, and the distinct points with their counts into training_points; a
   * run of key ranges per statement. Reads each learned categorical feature's values. First deletes
   * what runs that crashed left.
   */
  async takeSnapshot(runId: string, seed: number, trained: CustomerSchema = MALL_SCHEMA): Promise<Snapshot> {
    await this.clearStale();
    const { nullable, rows } = await this.checkColumns(trained);
    const keys = await this.cutKeys(rows);
    const names = trained.features.map((f) => quoteIdentifier(f.name));
    const copyParts = Math.min(keys.length + 1, partsOf(rows, this.sizes.copyRows));
    const copied = await eachPart(copyParts, PARTS_IN_FLIGHT, async (part) => {
      const params: Record<string, SqlValue> = { run_id: runId, seed };
      const range = inRange('c', keyRange(keys, part, copyParts), params);
      const { complete, accepted } = acceptance(trained, nullable, 'c', params);
      const checked = complete !== 'TRUE' || accepted !== 'TRUE';
      const [row] = await this.sql.query(
        `WITH copied AS (
           INSERT INTO training_snapshots (run_id, customer_id, ${names.join(', ')}, sample_key)
           SELECT CAST(:run_id AS uuid), c.customer_id, ${names.map((n) => `c.${n}`).join(', ')},
             md5(CAST(:seed AS text) || ':' || c.customer_id)
           FROM customers AS c WHERE ${range} AND ${complete} AND ${accepted}
           RETURNING CASE WHEN customer_id ~ '^[ -~]*$' THEN 2 * octet_length(customer_id) ELSE 12 * char_length(customer_id) END + 2 AS id_json)${
             checked
               ? `, left_out AS (
           SELECT CAST(count(*) FILTER (WHERE NOT (${complete})) AS bigint) AS missing,
             CAST(count(*) FILTER (WHERE ${complete} AND NOT (${accepted})) AS bigint) AS outside
           FROM customers AS c WHERE ${range} AND NOT (${complete} AND ${accepted}))`
               : ''
           }
         SELECT CAST(count(*) AS bigint) AS n, CAST(coalesce(max(id_json), 0) AS integer) AS id_json${
           checked ? ', (SELECT missing FROM left_out) AS missing, (SELECT outside FROM left_out) AS outside' : ''
         }
         FROM copied`,
        params,
      );
      return { customers: int(row?.n), idJsonBytes: int(row?.id_json), missing: int(row?.missing), outside: int(row?.outside) };
    });
    const customers = copied.reduce((n, c) => n + c.customers, 0);
    const maxIdJsonBytes = Math.max(0, ...copied.map((c) => c.idJsonBytes));
    const leftOut = { missing: copied.reduce((n, c) => n + c.missing, 0), outside: copied.reduce((n, c) => n + c.outside, 0) };
    // the points of a run of key ranges; a point whose customers fall in several ranges is a row in
    // each (weights add up the same), so ranges never need to meet. A grouping statement deals its
    // points out to `spread` parts in turn (the parts of statement g are g·spread … g·spread + spread − 1)
    const groups = Math.min(keys.length + 1, partsOf(customers, this.sizes.groupRows));
    const spread = partsOf(this.sizes.groupRows, this.sizes.pointRows);
    const values = trained.features.map((f) =>
      pointColumnType(f) === columnType(f) ? `s.${quoteIdentifier(f.name)}` : double(`s.${quoteIdentifier(f.name)}`),
    );
    const pointsByPart = Array<number>(groups * spread).fill(0);
    await eachPart(groups, PARTS_IN_FLIGHT, async (group) => {
      const params: Record<string, SqlValue> = { run_id: runId, group, spread };
      const range = inRange('s', keyRange(keys, group, groups), params);
      const grouped = await this.sql.query(
        `WITH grouped AS (
           INSERT INTO training_points (run_id, part, ${names.join(', ')}, customers)
           SELECT CAST(:run_id AS uuid),
             CAST(:group AS integer) * CAST(:spread AS integer) + CAST(mod(row_number() OVER (), CAST(:spread AS bigint)) AS integer),
             ${values.join(', ')}, count(*)
           FROM training_snapshots AS s WHERE s.run_id = CAST(:run_id AS uuid) AND ${range}
           GROUP BY ${names.map((n) => `s.${n}`).join(', ')}
           RETURNING part)
         SELECT part, CAST(count(*) AS bigint) AS n FROM grouped GROUP BY part`,
        params,
      );
      for (const row of grouped) pointsByPart[int(row.part)] = int(row.n);
    });
    const learned: Record<string, string[]> = {};
    for (const f of trained.features) {
      if (f.kind === 'categorical' && f.categories === 'learned') learned[f.name] = await this.valuesOf(runId, f.name);
    }
    return {
      runId,
      seed,
      schema: trained,
      customers,
      leftOut,
      learned,
      keys,
      points: pointsByPart.reduce((a, b) => a + b, 0),
      parts: pointsByPart.length,
      pointsByPart,
      maxIdJsonBytes,
    };
  }

  /**
   * Checks that the customers table and the scratch tables have every feature column of `schema`
   * with the type customer-table.ts gives it (one SchemaError naming the first that does not);
   * returns the features whose customers column may hold NULL, and the table's rows (counted in the
   * same statement, one call fewer).
   */
  private async checkColumns(schema: CustomerSchema): Promise<{ nullable: Set<string>; rows: number }> {
    const columns = await this.sql.query(
      `SELECT CAST(table_name AS text) AS table_name, CAST(column_name AS text) AS column_name,
         CAST(data_type AS text) AS data_type, CAST(is_nullable AS text) AS is_nullable,
         (SELECT CAST(count(*) AS bigint) FROM customers) AS customers
       FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name IN ('customers', 'training_snapshots', 'training_points')`,
    );
    const found = new Map(columns.map((r) => [`${String(r.table_name)}.${String(r.column_name)}`, r]));
    const nullable = new Set<string>();
    for (const f of schema.features) {
      quoteIdentifier(f.name);
      for (const [table, type] of [
        ['customers', columnType(f)],
        ['training_snapshots', columnType(f)],
        ['training_points', pointColumnType(f)],
      ] as const) {
        const row = found.get(`${table}.${f.name}`);
        if (row === undefined) {
          throw new SchemaError(
            `feature "${f.name}" of schema ${schema.name} has no column in table ${table}: apply the schema to the customers table first`,
          );
        }
        if (row.data_type !== type) {
          throw new SchemaError(
            `feature "${f.name}" of schema ${schema.name}: column ${table}.${f.name} is ${String(row.data_type)}, the schema makes it ${type}: apply the schema to the customers table first`,
          );
        }
      }
      if (found.get(`customers.${f.name}`)?.is_nullable === 'YES') nullable.add(f.name);
    }
    return { nullable, rows: int(columns[0]?.customers) };
  }

  /**
   * customer_id values cutting the table into ranges of about as many customers as the smallest
   * part takes (none when they fit one), in the column's order: one pass over the primary key.
   * Rows that arrive later fall into some range all the same (the first and the last are
   * open-ended).
   */
  private async cutKeys(rows: number): Promise<string[]> {
    const ranges = partsOf(rows, Math.min(this.sizes.copyRows, this.sizes.memberRows, this.sizes.groupRows));
    if (ranges === 1) return [];
    const found = await this.sql.query(
      `SELECT customer_id FROM (
         SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS position FROM customers
       ) AS ordered
       WHERE position % CAST(:every AS bigint) = 0 ORDER BY position LIMIT CAST(:cuts AS integer)`,
      { every: Math.ceil(rows / ranges), cuts: ranges - 1 },
    );
    return found.map((r) => String(r.customer_id));
  }

  /** A learned categorical feature's values among the run's points (at most MAX_CATEGORIES, as a file holds). */
  private async valuesOf(runId: string, name: string): Promise<string[]> {
    const rows = await this.sql.query(
      `SELECT ${quoteIdentifier(name)} AS value FROM training_points WHERE ${RUN} GROUP BY ${quoteIdentifier(name)} LIMIT CAST(:limit AS integer)`,
      { run_id: runId, limit: MAX_CATEGORIES + 1 },
    );
    if (rows.length > MAX_CATEGORIES) {
      throw new SchemaError(
        `feature "${name}" has more than ${MAX_CATEGORIES} values in the customers table, the most a learned categorical feature takes: list its categories in the schema, or drop it`,
      );
    }
    return rows.map((r) => String(r.value));
  }

  /** Deletes the copies of runs that started more than STALE_SECONDS ago; returns the rows deleted. */
  async clearStale(): Promise<number> {
    let deleted = 0;
    for (const table of ['training_snapshots', 'training_points']) {
      const [row] = await this.sql.query(
        `WITH gone AS (DELETE FROM ${table} WHERE taken_at < now() - make_interval(secs => CAST(:seconds AS integer)) RETURNING 1)
         SELECT CAST(count(*) AS bigint) AS n FROM gone`,
        { seconds: STALE_SECONDS },
      );
      deleted += int(row?.n);
    }
    return deleted;
  }

  /**
   * The table's customers by label origin and its outliers (labeled rows beyond their segment's
   * threshold), in one pass: what tableStatsOf reads of the three passes of a table status.
   */
  async labelCounts(): Promise<{ total: number; created: number; assigned: number; unlabeled: number; outliers: number }> {
    const [row] = await this.sql.query(
      `SELECT CAST(count(*) AS bigint) AS total,
         CAST(count(*) FILTER (WHERE segment_origin = 'created') AS bigint) AS created,
         CAST(count(*) FILTER (WHERE segment_origin = 'assigned') AS bigint) AS assigned,
         CAST(count(*) FILTER (WHERE segment_origin IS NULL) AS bigint) AS unlabeled,
         CAST(count(*) FILTER (WHERE segment IS NOT NULL AND is_outlier) AS bigint) AS outliers
       FROM customers`,
    );
    return {
      total: int(row?.total),
      created: int(row?.created),
      assigned: int(row?.assigned),
      unlabeled: int(row?.unlabeled),
      outliers: int(row?.outliers),
    };
  }

  /** Deletes the run's copies (at the end of a run, whatever its outcome). */
  async dropSnapshot(runId: string): Promise<void> {
    await this.sql.query(`DELETE FROM training_points WHERE ${RUN}`, { run_id: runId });
    await this.sql.query(`DELETE FROM training_snapshots WHERE ${RUN}`, { run_id: runId });
  }

  /**
   * The scaler's sums over every customer of the run, per model column of `features`: the mean,
   * then the sum of squared differences from it (fitScaler's two passes, each customer's value
   * counted once per customer).
   */
  async scalerSums(snapshot: Snapshot, features: ModelSpace['features']): Promise<{ mean: number[]; squares: number[] }> {
    const d = countColumns(features);
    const space = (mean: readonly number[]): ModelSpace => ({
      features,
      scaler: { columns: [], mean: [...mean], scale: Array<number>(d).fill(1), weight: Array<number>(d).fill(1) },
      centroids: [],
    });
    const n = snapshot.customers;
    const sums = await this.weightedColumnSums(snapshot, space(Array<number>(d).fill(0)), false);
    const mean = sums.map((s) => s / (n || 1));
    const squares = await this.weightedColumnSums(snapshot, space(mean), true);
    return { mean, squares };
  }

  /** Σ customers × x_j (or × x_j² with `squared`) of raw values x minus `space`'s mean (scale and weight 1). */
  private async weightedColumnSums(snapshot: Snapshot, space: ModelSpace, squared: boolean): Promise<number[]> {
    const params: Record<string, SqlValue> = { run_id: snapshot.runId };
    const { columns } = modelSpaceSql(space, params);
    const sums = columns.map((_, j) => `sum(customers * ${squared ? `x${j} * x${j}` : `x${j}`}) AS s${j}`);
    const [row] = await this.sql.query(
      `SELECT ${sums.join(', ')} FROM (SELECT customers, ${columns.join(', ')} FROM training_points WHERE ${RUN} OFFSET 0) AS x`,
      params,
    );
    return columns.map((_, j) => Number(row?.[`s${j}`] ?? 0));
  }

  /**
   * The first `size` customers of the run in the sample order for the snapshot's seed
   * (sample-order.ts: ascending sample key, then customer_id in byte order), page by page, each
   * page under the Data API's 1 MiB. `keyOf` gives a customer's sample key (the next page starts
   * after the last row's key and id).
   */
  async *readSample(snapshot: Snapshot, size: number, keyOf: (customerId: string) => string): AsyncGenerator<Customer[]> {
    const { features } = snapshot.schema;
    const pageRows = Math.max(1, Math.floor(this.samplePageBytes / (snapshot.maxIdJsonBytes + sampleRowOverhead(snapshot))));
    // a category as its text, a whole number as it is, a decimal (which the Data API returns as a
    // string) as the double of its decimal text, as the CSV reader gives it; each under a short
    // name (f<i>), as the response repeats it on every row
    const select = features.map((f, i) => {
      const name = quoteIdentifier(f.name);
      return `${columnType(f) === 'numeric' ? double(name) : name} AS f${i}`;
    });
    let afterKey = '';
    let afterId = '';
    for (let read = 0; read < size;) {
      const rows = await this.sql.query(
        `SELECT customer_id, ${select.join(', ')}
         FROM training_snapshots
         WHERE ${RUN} AND (sample_key COLLATE "C", customer_id COLLATE "C") > (CAST(:after_key AS text) COLLATE "C", CAST(:after_id AS text) COLLATE "C")
         ORDER BY sample_key COLLATE "C", customer_id COLLATE "C" LIMIT CAST(:page_rows AS integer)`,
        { run_id: snapshot.runId, after_key: afterKey, after_id: afterId, page_rows: Math.min(pageRows, size - read) },
      );
      if (rows.length === 0) return;
      read += rows.length;
      const page = rows.map((row) => customerOf(row, features));
      yield page;
      afterId = page[page.length - 1]!.customerId;
      afterKey = keyOf(afterId);
    }
  }

  /**
   * One Lloyd step over every point of the run: each point's nearest centroid of `space` (first on
   * ties), and per centroid the customers and the sums of their model-space values. One aggregate
   * statement per batch of parts (LLOYD_WORK of work at most, a part never split).
   */
  async lloydSums(snapshot: Snapshot, space: ModelSpace): Promise<{ counts: Float64Array; sums: Float64Array }> {
    const k = space.centroids.length;
    const d = space.centroids[0]?.length ?? 0;
    const counts = new Float64Array(k);
    const sums = new Float64Array(k * d);
    for (const [from, to] of partBatches(snapshot, measuredPoints(this.sizes, space))) {
      const params: Record<string, SqlValue> = { run_id: snapshot.runId, from_part: from, to_part: to };
      const s = modelSpaceSql(space, params);
      const xs = s.columns.map((_, j) => `x${j}`);
      const rows = await this.sql.query(
        `SELECT segment, CAST(sum(customers) AS bigint) AS customers, ${xs.map((x, j) => `sum(customers * ${x}) AS s${j}`).join(', ')}
         FROM (SELECT customers, ${xs.join(', ')}, ${s.nearest()} AS segment FROM (${s.measured('customers', PARTS)}) AS nearest) AS labeled
         GROUP BY segment`,
        params,
      );
      for (const row of rows) {
        const c = int(row.segment);
        counts[c]! += int(row.customers);
        for (let j = 0; j < d; j++) sums[c * d + j]! += Number(row[`s${j}`]);
      }
    }
    return { counts, sums };
  }

  /**
   * Labels every point of the run with its nearest centroid of `space` (first on ties; `segment` is
   * the centroid's index) and its squared distance, and returns each segment's totals: the sums,
   * and the customers per value of each categorical feature (from the same labeled rows, in the
   * same statement). One statement per batch of at most LABEL_POINTS points.
   */
  async labelPoints(snapshot: Snapshot, space: ModelSpace): Promise<SegmentTotals[]> {
    const { features } = snapshot.schema;
    const numeric = features.filter((f) => f.kind === 'numeric');
    const categorical = features.filter((f) => f.kind === 'categorical');
    const k = space.centroids.length;
    const totals = Array.from({ length: k }, () => emptyTotals(space, snapshot.schema));
    const names = features.map((f) => quoteIdentifier(f.name));
    // a category's customers by segment from the same labeled rows: each point once per categorical feature
    const byValue = categorical.map((f, i) => `(${i}, ${quoteIdentifier(f.name)})`);
    const limit = Math.min(this.sizes.labelPoints, measuredPoints(this.sizes, space));
    for (const [from, to] of partBatches(snapshot, limit)) {
      const params: Record<string, SqlValue> = { run_id: snapshot.runId, from_part: from, to_part: to };
      const s = modelSpaceSql(space, params);
      const xs = s.columns.map((_, j) => `x${j}`);
      const sums = [
        ['sum(customers * sq_distance)', 'squared'],
        ['sum(customers * sqrt(sq_distance))', 'distance'],
        ['sum(customers * (sqrt(sq_distance) * sqrt(sq_distance)))', 'distance_squares'],
        ...xs.map((x, j) => [`sum(customers * ${x})`, `s${j}`]),
        ...numeric.map((f, i) => [`sum(customers * ${double(quoteIdentifier(f.name))})`, `f${i}`]),
      ];
      const counts =
        byValue.length === 0
          ? ''
          : `
         UNION ALL
         SELECT segment, v.feature, v.value, CAST(sum(customers) AS bigint)${sums.map(() => ', CAST(NULL AS double precision)').join('')}
         FROM labeled CROSS JOIN LATERAL (VALUES ${byValue.join(', ')}) AS v (feature, value) GROUP BY segment, v.feature, v.value`;
      const rows = await this.sql.query(
        `WITH labeled AS (
           UPDATE training_points AS p SET segment = b.segment, sq_distance = b.m
           FROM (
             SELECT ctid AS point, ${xs.join(', ')}, m, ${s.nearest()} AS segment FROM (${s.measured('ctid', PARTS)}) AS nearest
           ) AS b
           WHERE p.ctid = b.point
           RETURNING p.segment, p.customers, p.sq_distance, ${names.map((n) => `p.${n}`).join(', ')}${xs.map((x) => `, b.${x}`).join('')})
         SELECT segment, CAST(NULL AS integer) AS feature, CAST(NULL AS text) AS value, CAST(sum(customers) AS bigint) AS customers,
           ${sums.map(([sum, alias]) => `${sum} AS ${alias}`).join(', ')}
         FROM labeled GROUP BY segment${counts}`,
        params,
      );
      for (const row of rows) {
        const t = totals[int(row.segment)]!;
        if (row.feature === null || row.feature === undefined) {
          addTotals(t, row, numeric);
          continue;
        }
        const counted = t.categories[categorical[int(row.feature)]!.name]!;
        const value = String(row.value);
        counted[value] = (counted[value] ?? 0) + int(row.customers);
      }
    }
    return totals;
  }

  /**
   * The values of `field` at the requested ranks, over the labeled points (each point counted
   * once per customer): the value of rank r of a group is the one whose customers, in ascending
   * order of value, take positions r. One statement per field; answers keyed `${group}:${rank}`.
   */
  async valuesAtRanks(snapshot: Snapshot, field: RankedField, requests: readonly RankRequest[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (requests.length === 0) return found;
    const params: Record<string, SqlValue> = { run_id: snapshot.runId };
    const wanted = requests.map((r, i) => {
      params[`g_${i}`] = r.group;
      params[`r_${i}`] = r.rank;
      return `(CAST(:g_${i} AS integer), CAST(:r_${i} AS bigint))`;
    });
    const value = fieldValue(field);
    const groups = [`SELECT segment AS grp, ${value} AS value, customers FROM training_points WHERE ${RUN}`];
    if (requests.some((r) => r.group === ALL)) groups.push(`SELECT ${ALL}, ${value}, customers FROM training_points WHERE ${RUN}`);
    // each group's wanted positions in ascending order, as width_bucket reads thresholds
    const byGroup = new Map<number, number[]>();
    requests.forEach((r, i) => byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), i]));
    const positions = [...byGroup].map(([group, indexes]) => {
      const ascending = [...new Map(indexes.map((i) => [requests[i]!.rank, i])).values()].sort(
        (a, b) => requests[a]!.rank - requests[b]!.rank,
      );
      return `WHEN ${group} THEN ARRAY[${ascending.map((i) => `CAST(:r_${i} AS bigint)`).join(', ')}]`;
    });
    // each point its own run of positions (ROWS: points of equal value follow one another), in
    // bigint; the points holding a wanted position found by a binary search in the group's
    // positions (width_bucket counts those at or below a number), so that only they meet the
    // wanted list: compared with every wanted position, 10⁶ points took half the statement
    const rows = await this.sql.query(
      `WITH wanted (grp, position) AS (VALUES ${wanted.join(', ')}),
       ranked AS (
         SELECT grp, value, CAST(sum(customers) OVER (PARTITION BY grp ORDER BY value ROWS UNBOUNDED PRECEDING) AS bigint) AS upto,
           customers, CASE grp ${positions.join(' ')} END AS positions
         FROM (${groups.join(' UNION ALL ')}) AS v
       ),
       holding AS (
         SELECT grp, value, upto, customers FROM ranked
         WHERE width_bucket(upto - 1, positions) > width_bucket(upto - customers - 1, positions)
       )
       SELECT w.grp, w.position, h.value FROM wanted AS w
       JOIN holding AS h ON h.grp = w.grp AND w.position < h.upto AND w.position >= h.upto - h.customers`,
      params,
    );
    for (const row of rows) found.set(`${int(row.grp)}:${int(row.position)}`, Number(row.value));
    return found;
  }

  /**
   * Over every customer of the run: how many have each numeric feature below each of its `edges`,
   * how many of each segment lie farther than its `thresholds` entry from its centroid, and each
   * numeric feature's sum of squared differences from its `means` entry (the features of `means`).
   */
  async countsAndSquares(
    snapshot: Snapshot,
    edges: Readonly<Record<string, readonly number[]>>,
    thresholds: readonly number[],
    means: Readonly<Record<string, number>>,
  ): Promise<{ below: Record<string, number[]>; outliers: number[]; squares: Record<string, number> }> {
    const params: Record<string, SqlValue> = { run_id: snapshot.runId };
    const columns: string[] = [];
    const numeric = snapshot.schema.features.filter((f) => f.kind === 'numeric').map((f) => f.name);
    const binned = numeric.filter((name) => edges[name] !== undefined);
    const centred = numeric.filter((name) => means[name] !== undefined);
    binned.forEach((name, i) => {
      const value = double(quoteIdentifier(name));
      edges[name]!.forEach((edge, e) => {
        params[`e_${i}_${e}`] = edge;
        columns.push(
          `CAST(coalesce(sum(customers) FILTER (WHERE ${value} < CAST(:e_${i}_${e} AS double precision)), 0) AS bigint) AS below_${i}_${e}`,
        );
      });
    });
    centred.forEach((name, i) => {
      const value = double(quoteIdentifier(name));
      params[`mean_${i}`] = means[name]!;
      columns.push(
        `sum(customers * ((${value} - CAST(:mean_${i} AS double precision)) * (${value} - CAST(:mean_${i} AS double precision)))) AS squares_${i}`,
      );
    });
    thresholds.forEach((threshold, c) => {
      params[`t_${c}`] = threshold;
      columns.push(
        `CAST(coalesce(sum(customers) FILTER (WHERE segment = ${c} AND sqrt(sq_distance) > CAST(:t_${c} AS double precision)), 0) AS bigint) AS outliers_${c}`,
      );
    });
    const [row] =
      columns.length === 0 ? [undefined] : await this.sql.query(`SELECT ${columns.join(', ')} FROM training_points WHERE ${RUN}`, params);
    return {
      below: Object.fromEntries(binned.map((name, i) => [name, edges[name]!.map((_, e) => int(row?.[`below_${i}_${e}`]))])),
      outliers: thresholds.map((_, c) => int(row?.[`outliers_${c}`])),
      squares: Object.fromEntries(centred.map((name, i) => [name, Number(row?.[`squares_${i}`] ?? 0)])),
    };
  }

  /**
   * Who moved where: customers by the nearest centroid of `previous` (first on ties, its index) and
   * their segment index in the labeled points, as counts[from][to]; batched as lloydSums.
   */
  async movement(snapshot: Snapshot, previous: ModelSpace, k: number): Promise<number[][]> {
    const counts = previous.centroids.map(() => Array<number>(k).fill(0));
    for (const [from, to] of partBatches(snapshot, measuredPoints(this.sizes, previous))) {
      const params: Record<string, SqlValue> = { run_id: snapshot.runId, from_part: from, to_part: to };
      const s = modelSpaceSql(previous, params, 'p_');
      const rows = await this.sql.query(
        `SELECT before, segment, CAST(sum(customers) AS bigint) AS customers FROM (
           SELECT segment, customers, ${s.nearest()} AS before FROM (${s.measured('segment, customers', PARTS)}) AS nearest
         ) AS moved GROUP BY before, segment`,
        params,
      );
      for (const row of rows) counts[int(row.before)]![int(row.segment)]! += int(row.customers);
    }
    return counts;
  }

  /**
   * The training fingerprint of the run's rows: SHA-256 over the canonical text fingerprint.ts
   * hashes (the id, then each feature's value in schema order, separated by U+001F; rows joined by
   * line feeds, UTF-8), the rows in customer_id byte order. It equals the fingerprint of a file of
   * the same rows in that order (numbers as fingerprintText writes them).
   */
  async fingerprint(snapshot: Snapshot): Promise<string> {
    const values = snapshot.schema.features.map((f) => ` || chr(31) || ${fingerprintText(f)}`).join('');
    const [row] = await this.sql.query(
      `SELECT encode(sha256(convert_to(coalesce(string_agg(customer_id${values}, chr(10) ORDER BY customer_id COLLATE "C"), ''), 'UTF8')), 'hex') AS fingerprint
       FROM training_snapshots WHERE ${RUN}`,
      { run_id: snapshot.runId },
    );
    return String(row?.fingerprint);
  }

  /**
   * Records the model's training members: the run's copied rows whose live customers row still
   * has the copied values (a row changed, or deleted, since the copy is not a member). One INSERT
   * … SELECT per run of key ranges of about MEMBER_ROWS customers, in key order; returns how many
   * were recorded. A part is inserted whole or not at all, so a statement repeated after it ran (a
   * retry after a lost answer) finds a member in its key range and inserts nothing: one probe per
   * part instead of ON CONFLICT's per row, which took 7.5 s against 4.2 s for 10⁶ members (machine
   * loaded).
   */
  async recordMembers(snapshot: Snapshot, modelVersion: string): Promise<number> {
    const { keys } = snapshot;
    const parts = Math.min(keys.length + 1, partsOf(snapshot.customers, this.sizes.memberRows));
    const same = snapshot.schema.features.map((f) => ` AND ${featureColumn(f.name, 'c')} = ${featureColumn(f.name, 's')}`).join('');
    const recorded = await eachPart(parts, PARTS_IN_FLIGHT, async (part) => {
      const params: Record<string, SqlValue> = { model_version: modelVersion, run_id: snapshot.runId };
      const range = keyRange(keys, part, parts);
      const [row] = await this.sql.query(
        `WITH added AS (
           INSERT INTO training_members (model_version, customer_id)
           SELECT CAST(:model_version AS text), s.customer_id FROM training_snapshots AS s
           JOIN customers AS c ON c.customer_id = s.customer_id${same}
           WHERE s.run_id = CAST(:run_id AS uuid) AND ${inRange('s', range, params)} AND ${inRange('c', range, params)}
             AND NOT EXISTS (SELECT 1 FROM training_members AS m WHERE m.model_version = CAST(:model_version AS text) AND ${inRange('m', range, params)})
           ORDER BY s.customer_id
           RETURNING 1)
         SELECT CAST(count(*) AS bigint) AS n FROM added`,
        params,
      );
      return int(row?.n);
    });
    return recorded.reduce((a, b) => a + b, 0);
  }
}

/** A customer of a sample row (feature i as `f<i>`): categories as text, numbers as numbers. */
function customerOf(row: SqlRow, features: CustomerSchema['features']): Customer {
  const customer: Record<string, FeatureValue> = { customerId: String(row.customer_id) };
  features.forEach((f, i) => (customer[f.name] = f.kind === 'categorical' ? String(row[`f${i}`]) : Number(row[`f${i}`])));
  return customer as Customer;
}

/** Model columns of a feature list (one per category of a categorical feature). */
function countColumns(features: ModelSpace['features']): number {
  return features.reduce((n, f) => n + (f.kind === 'categorical' ? (f.categories ?? []).length : 1), 0);
}

/** Consecutive ranges of parts [from, to] of at most `limit` points each (a part is never split). */
function partBatches(snapshot: Snapshot, limit: number): [number, number][] {
  const batches: [number, number][] = [];
  let from = 0;
  let points = 0;
  snapshot.pointsByPart.forEach((n, part) => {
    if (part > from && points + n > limit) {
      batches.push([from, part - 1]);
      from = part;
      points = 0;
    }
    points += n;
  });
  batches.push([from, Math.max(from, snapshot.pointsByPart.length - 1)]);
  return batches;
}

interface MutableTotals {
  customers: number;
  squaredDistanceSum: number;
  distanceSum: number;
  distanceSquareSum: number;
  modelSums: number[];
  fieldSums: Record<string, number>;
  categories: Record<string, Record<string, number>>;
}

function emptyTotals(space: ModelSpace, schema: CustomerSchema): MutableTotals {
  return {
    customers: 0,
    squaredDistanceSum: 0,
    distanceSum: 0,
    distanceSquareSum: 0,
    modelSums: Array<number>(space.centroids[0]?.length ?? 0).fill(0),
    fieldSums: Object.fromEntries(schema.features.filter((f) => f.kind === 'numeric').map((f) => [f.name, 0])),
    categories: Object.fromEntries(schema.features.filter((f) => f.kind === 'categorical').map((f) => [f.name, {}])),
  };
}

function addTotals(t: MutableTotals, row: SqlRow, numeric: readonly SchemaFeature[]): void {
  t.customers += int(row.customers);
  t.squaredDistanceSum += Number(row.squared);
  t.distanceSum += Number(row.distance);
  t.distanceSquareSum += Number(row.distance_squares);
  t.modelSums.forEach((_, j) => (t.modelSums[j]! += Number(row[`s${j}`])));
  numeric.forEach((f, i) => (t.fieldSums[f.name]! += Number(row[`f${i}`])));
}
