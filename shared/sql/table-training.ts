// Training from the customers table inside the database: the statements of one run over its
// scratch tables (migration 005). The function only orchestrates; what crosses the connection is
// the sample for the k sweep and the restarts, and aggregates.
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
// Why points. A Lloyd iteration reads every row; customers with the same gender, age, income and
// spending score are the same point of model space, so the iterations, the labels and every figure
// but the sample, the fingerprint and the membership read training_points, one row per distinct
// point with its number of customers, instead of the customers. Measured on 10⁶ generated
// customers (123,753 distinct points), one iteration's statement: 3.1 s over the snapshot's rows,
// 0.2 s over the points (machine loaded). Each value in the model space is computed per point
// exactly as JavaScript computes it per row (scoring.ts, modelSpaceSql), so the labels are the
// same; sums weighted by the counts differ from JavaScript's row-by-row sums by rounding only.
//
// Batches. A statement whose work grows with the table is cut into parts so that none approaches
// the Data API's 45 s: the copy and the membership by a hash of customer_id (partsOf), the
// points' statements by the points' parts, grouped up to LLOYD_POINTS points per statement.

import type { Customer } from '../csv/contract.ts';
import { NUMERIC_FIELDS, type NumericField } from '../csv/contract.ts';
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
import { modelSpaceSql } from './scoring.ts';
import { int, toCustomer } from './rows.ts';

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
/** Points per Lloyd statement: about 3 s of one iteration with k = 5 on this machine, loaded. */
export const LLOYD_POINTS = 1_000_000;
/** Bytes of a sample page's response, under the Data API's 1 MiB with room for the JSON around values. */
const SAMPLE_PAGE_BYTES = 768 * 1024;
/**
 * A sample row's JSON besides its id, generously: field names, the other values, quotes and commas.
 * The id's own bound is measured by the copy (TrainingSnapshot.maxIdJsonBytes).
 */
const SAMPLE_ROW_OVERHEAD = 120;

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

/** How many hash parts `rows` rows take at `perPart` rows a part (at least one). */
export function partsOf(rows: number, perPart: number): number {
  return Math.max(1, Math.ceil(rows / perPart));
}

/** The filter that keeps one hash part of customer ids (`:part` of `:parts`), for a table alias. */
const inPart = (alias: string): string =>
  `mod(hashtext(${alias}.customer_id) & 2147483647, CAST(:parts AS integer)) = CAST(:part AS integer)`;

/** The SQL value of a ranked field over training_points. */
function fieldValue(field: RankedField): string {
  if (field === 'distance') return 'sqrt(sq_distance)';
  return `CAST(${field} AS double precision)`;
}

const RUN = 'run_id = CAST(:run_id AS uuid)';
/** The run's points in one batch of parts (`:from_part` to `:to_part`), as a source for ModelSpaceSql.measured. */
const PARTS = `training_points WHERE ${RUN} AND part BETWEEN CAST(:from_part AS integer) AND CAST(:to_part AS integer)`;

export class SqlTableTraining implements TableTraining {
  constructor(
    private readonly sql: SqlClient,
    /** Bytes of a sample page's response (tests make pages small). */
    private readonly samplePageBytes = SAMPLE_PAGE_BYTES,
  ) {}

  /**
   * Copies the customers table for run `runId`: every row into training_snapshots with its sample
   * key for `seed` (sample-order.ts), and the distinct points with their counts into training_points,
   * a hash part of the customers per statement pair. First deletes what runs that crashed left.
   */
  async takeSnapshot(runId: string, seed: number): Promise<Snapshot> {
    await this.clearStale();
    const [count] = await this.sql.query('SELECT CAST(count(*) AS bigint) AS n FROM customers');
    const copyParts = partsOf(int(count?.n), COPY_ROWS);
    const copied = await eachPart(copyParts, PARTS_IN_FLIGHT, async (part) => {
      const [row] = await this.sql.query(
        `WITH copied AS (
           INSERT INTO training_snapshots (run_id, customer_id, gender, age, annual_income_thousands, spending_score, sample_key)
           SELECT CAST(:run_id AS uuid), c.customer_id, c.gender, c.age, c.annual_income_thousands, c.spending_score,
             md5(CAST(:seed AS text) || ':' || c.customer_id)
           FROM customers AS c WHERE ${inPart('c')}
           RETURNING CASE WHEN customer_id ~ '^[ -~]*$' THEN 2 * octet_length(customer_id) ELSE 12 * char_length(customer_id) END + 2 AS id_json)
         SELECT CAST(count(*) AS bigint) AS n, CAST(coalesce(max(id_json), 0) AS integer) AS id_json FROM copied`,
        { run_id: runId, seed, part, parts: copyParts },
      );
      return { customers: int(row?.n), idJsonBytes: int(row?.id_json) };
    });
    const customers = copied.reduce((n, c) => n + c.customers, 0);
    const maxIdJsonBytes = Math.max(0, ...copied.map((c) => c.idJsonBytes));
    // the points of a part of the customers; a point whose customers fall in several parts is a
    // row in each (weights add up the same), so parts never need to meet
    const parts = partsOf(customers, GROUP_ROWS);
    const pointsByPart = await eachPart(parts, PARTS_IN_FLIGHT, async (part) => {
      const [grouped] = await this.sql.query(
        `WITH grouped AS (
           INSERT INTO training_points (run_id, part, gender, age, annual_income_thousands, spending_score, customers)
           SELECT CAST(:run_id AS uuid), CAST(:part AS integer), s.gender, s.age, CAST(s.annual_income_thousands AS double precision),
             s.spending_score, count(*)
           FROM training_snapshots AS s WHERE s.run_id = CAST(:run_id AS uuid) AND ${inPart('s')}
           GROUP BY s.gender, s.age, s.annual_income_thousands, s.spending_score
           RETURNING 1)
         SELECT CAST(count(*) AS bigint) AS n FROM grouped`,
        { run_id: runId, part, parts },
      );
      return int(grouped?.n);
    });
    return { runId, seed, customers, points: pointsByPart.reduce((a, b) => a + b, 0), parts, pointsByPart, maxIdJsonBytes };
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
    const pageRows = Math.max(1, Math.floor(this.samplePageBytes / (snapshot.maxIdJsonBytes + SAMPLE_ROW_OVERHEAD)));
    let afterKey = '';
    let afterId = '';
    for (let read = 0; read < size;) {
      const rows = await this.sql.query(
        `SELECT customer_id, gender, age, CAST(annual_income_thousands AS double precision) AS income, spending_score
         FROM training_snapshots
         WHERE ${RUN} AND (sample_key COLLATE "C", customer_id COLLATE "C") > (CAST(:after_key AS text) COLLATE "C", CAST(:after_id AS text) COLLATE "C")
         ORDER BY sample_key COLLATE "C", customer_id COLLATE "C" LIMIT CAST(:page_rows AS integer)`,
        { run_id: snapshot.runId, after_key: afterKey, after_id: afterId, page_rows: Math.min(pageRows, size - read) },
      );
      if (rows.length === 0) return;
      read += rows.length;
      const page = rows.map(toCustomer);
      yield page;
      afterId = page[page.length - 1]!.customerId;
      afterKey = keyOf(afterId);
    }
  }

  /**
   * One Lloyd step over every point of the run: each point's nearest centroid of `space` (first on
   * ties), and per centroid the customers and the sums of their model-space values. One aggregate
   * statement per batch of parts (LLOYD_POINTS points at most, a part never split).
   */
  async lloydSums(snapshot: Snapshot, space: ModelSpace): Promise<{ counts: Float64Array; sums: Float64Array }> {
    const k = space.centroids.length;
    const d = space.centroids[0]?.length ?? 0;
    const counts = new Float64Array(k);
    const sums = new Float64Array(k * d);
    for (const [from, to] of partBatches(snapshot)) {
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
   * the centroid's index) and its squared distance, and returns each segment's totals.
   */
  async labelPoints(snapshot: Snapshot, space: ModelSpace): Promise<SegmentTotals[]> {
    const k = space.centroids.length;
    const totals = Array.from({ length: k }, () => emptyTotals(space));
    for (const [from, to] of partBatches(snapshot)) {
      const params: Record<string, SqlValue> = { run_id: snapshot.runId, from_part: from, to_part: to };
      const s = modelSpaceSql(space, params);
      const xs = s.columns.map((_, j) => `x${j}`);
      const rows = await this.sql.query(
        `WITH labeled AS (
           UPDATE training_points AS p SET segment = b.segment, sq_distance = b.m
           FROM (
             SELECT ctid AS point, ${xs.join(', ')}, m, ${s.nearest()} AS segment FROM (${s.measured('ctid', PARTS)}) AS nearest
           ) AS b
           WHERE p.ctid = b.point
           RETURNING p.segment, p.customers, p.sq_distance, p.gender, p.age, p.annual_income_thousands, p.spending_score, ${xs.map((x) => `b.${x}`).join(', ')})
         SELECT segment, CAST(sum(customers) AS bigint) AS customers, sum(customers * sq_distance) AS squared,
           sum(customers * sqrt(sq_distance)) AS distance, sum(customers * (sqrt(sq_distance) * sqrt(sq_distance))) AS distance_squares,
           ${xs.map((x, j) => `sum(customers * ${x}) AS s${j}`).join(', ')},
           ${NUMERIC_FIELDS.map((f) => `sum(customers * CAST(${f} AS double precision)) AS f_${f}`).join(', ')},
           CAST(sum(customers) FILTER (WHERE gender = 'Female') AS bigint) AS female,
           CAST(sum(customers) FILTER (WHERE gender = 'Male') AS bigint) AS male
         FROM labeled GROUP BY segment`,
        params,
      );
      for (const row of rows) addTotals(totals[int(row.segment)]!, row);
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
    const rows = await this.sql.query(
      `WITH wanted (grp, position) AS (VALUES ${wanted.join(', ')}),
       counted AS (
         SELECT grp, value, sum(customers) AS customers FROM (${groups.join(' UNION ALL ')}) AS v GROUP BY grp, value
       ),
       ranked AS (
         SELECT grp, value, sum(customers) OVER (PARTITION BY grp ORDER BY value) AS upto, customers FROM counted
       )
       SELECT w.grp, w.position, r.value FROM wanted AS w
       JOIN ranked AS r ON r.grp = w.grp AND w.position < r.upto AND w.position >= r.upto - r.customers`,
      params,
    );
    for (const row of rows) found.set(`${int(row.grp)}:${int(row.position)}`, Number(row.value));
    return found;
  }

  /**
   * Over every customer of the run: how many have each numeric field below each of its `edges`,
   * how many of each segment lie farther than its `thresholds` entry from its centroid, and each
   * numeric field's sum of squared differences from its `means` entry.
   */
  async countsAndSquares(
    snapshot: Snapshot,
    edges: Readonly<Record<NumericField, readonly number[]>>,
    thresholds: readonly number[],
    means: Readonly<Record<NumericField, number>>,
  ): Promise<{ below: Record<NumericField, number[]>; outliers: number[]; squares: Record<NumericField, number> }> {
    const params: Record<string, SqlValue> = { run_id: snapshot.runId };
    const columns: string[] = [];
    for (const field of NUMERIC_FIELDS) {
      edges[field].forEach((edge, i) => {
        params[`e_${field}_${i}`] = edge;
        columns.push(
          `CAST(coalesce(sum(customers) FILTER (WHERE CAST(${field} AS double precision) < CAST(:e_${field}_${i} AS double precision)), 0) AS bigint) AS below_${field}_${i}`,
        );
      });
      params[`mean_${field}`] = means[field];
      columns.push(
        `sum(customers * ((CAST(${field} AS double precision) - CAST(:mean_${field} AS double precision)) * (CAST(${field} AS double precision) - CAST(:mean_${field} AS double precision)))) AS squares_${field}`,
      );
    }
    thresholds.forEach((threshold, c) => {
      params[`t_${c}`] = threshold;
      columns.push(
        `CAST(coalesce(sum(customers) FILTER (WHERE segment = ${c} AND sqrt(sq_distance) > CAST(:t_${c} AS double precision)), 0) AS bigint) AS outliers_${c}`,
      );
    });
    const [row] = await this.sql.query(`SELECT ${columns.join(', ')} FROM training_points WHERE ${RUN}`, params);
    const below = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, edges[f].map((_, i) => int(row?.[`below_${f}_${i}`]))])) as Record<
      NumericField,
      number[]
    >;
    const squares = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, Number(row?.[`squares_${f}`] ?? 0)])) as Record<NumericField, number>;
    return { below, outliers: thresholds.map((_, c) => int(row?.[`outliers_${c}`])), squares };
  }

  /**
   * Who moved where: customers by the nearest centroid of `previous` (first on ties, its index) and
   * their segment index in the labeled points, as counts[from][to].
   */
  async movement(snapshot: Snapshot, previous: ModelSpace, k: number): Promise<number[][]> {
    const params: Record<string, SqlValue> = { run_id: snapshot.runId };
    const s = modelSpaceSql(previous, params, 'p_');
    const rows = await this.sql.query(
      `SELECT before, segment, CAST(sum(customers) AS bigint) AS customers FROM (
         SELECT segment, customers, ${s.nearest()} AS before FROM (${s.measured('segment, customers', `training_points WHERE ${RUN}`)}) AS nearest
       ) AS moved GROUP BY before, segment`,
      params,
    );
    const counts = previous.centroids.map(() => Array<number>(k).fill(0));
    for (const row of rows) counts[int(row.before)]![int(row.segment)]! += int(row.customers);
    return counts;
  }

  /**
   * The training fingerprint of the run's rows: SHA-256 over the canonical text fingerprint.ts
   * hashes (`id␟gender␟age␟income␟score`, rows joined by line feeds, UTF-8), the rows in customer_id
   * byte order. It equals the fingerprint of a file of the same rows in that order. Numbers print
   * as JavaScript's String() prints them for every whole number below 10¹⁵ and every income from
   * 0.0001 up (PostgreSQL's shortest float8 text; below 0.0001 and from 10¹⁵ up the two write
   * exponents differently).
   */
  async fingerprint(snapshot: Snapshot): Promise<string> {
    const [row] = await this.sql.query(
      `SELECT encode(sha256(convert_to(coalesce(string_agg(
         customer_id || chr(31) || gender || chr(31) || CAST(age AS text) || chr(31)
           || CAST(CAST(annual_income_thousands AS double precision) AS text) || chr(31) || CAST(spending_score AS text),
         chr(10) ORDER BY customer_id COLLATE "C"), ''), 'UTF8')), 'hex') AS fingerprint
       FROM training_snapshots WHERE ${RUN}`,
      { run_id: snapshot.runId },
    );
    return String(row?.fingerprint);
  }

  /**
   * Records the model's training members: the run's copied rows whose live customers row still
   * has the copied values (a row changed, or deleted, since the copy is not a member). One INSERT
   * … SELECT per hash part of MEMBER_ROWS customers, in key order; returns how many were recorded.
   * A part is inserted whole or not at all, so a statement repeated after it ran (a retry after a
   * lost answer) finds a member of its part and inserts nothing: one probe per part instead of ON
   * CONFLICT's per row, which took 7.5 s against 4.2 s for 10⁶ members (machine loaded).
   */
  async recordMembers(snapshot: Snapshot, modelVersion: string): Promise<number> {
    const parts = partsOf(snapshot.customers, MEMBER_ROWS);
    const recorded = await eachPart(parts, PARTS_IN_FLIGHT, async (part) => {
      const [row] = await this.sql.query(
        `WITH added AS (
           INSERT INTO training_members (model_version, customer_id)
           SELECT CAST(:model_version AS text), s.customer_id FROM training_snapshots AS s
           JOIN customers AS c ON c.customer_id = s.customer_id AND c.gender = s.gender AND c.age = s.age
             AND c.annual_income_thousands = s.annual_income_thousands AND c.spending_score = s.spending_score
           WHERE s.run_id = CAST(:run_id AS uuid) AND ${inPart('s')} AND ${inPart('c')}
             AND NOT EXISTS (SELECT 1 FROM training_members AS m WHERE m.model_version = CAST(:model_version AS text) AND ${inPart('m')})
           ORDER BY s.customer_id
           RETURNING 1)
         SELECT CAST(count(*) AS bigint) AS n FROM added`,
        { model_version: modelVersion, run_id: snapshot.runId, part, parts },
      );
      return int(row?.n);
    });
    return recorded.reduce((a, b) => a + b, 0);
  }
}

/** Model columns of a feature list (one per category of a categorical feature). */
function countColumns(features: ModelSpace['features']): number {
  return features.reduce((n, f) => n + (f.kind === 'categorical' ? (f.categories ?? []).length : 1), 0);
}

/** Consecutive ranges of parts [from, to] of at most LLOYD_POINTS points each (a part is never split). */
function partBatches(snapshot: Snapshot): [number, number][] {
  const batches: [number, number][] = [];
  let from = 0;
  let points = 0;
  snapshot.pointsByPart.forEach((n, part) => {
    if (part > from && points + n > LLOYD_POINTS) {
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
  fieldSums: Record<NumericField, number>;
  genders: Record<string, number>;
}

function emptyTotals(space: ModelSpace): MutableTotals {
  return {
    customers: 0,
    squaredDistanceSum: 0,
    distanceSum: 0,
    distanceSquareSum: 0,
    modelSums: Array<number>(space.centroids[0]?.length ?? 0).fill(0),
    fieldSums: { age: 0, annual_income_thousands: 0, spending_score: 0 },
    genders: { Female: 0, Male: 0 },
  };
}

function addTotals(t: MutableTotals, row: SqlRow): void {
  t.customers += int(row.customers);
  t.squaredDistanceSum += Number(row.squared);
  t.distanceSum += Number(row.distance);
  t.distanceSquareSum += Number(row.distance_squares);
  t.modelSums.forEach((_, j) => (t.modelSums[j]! += Number(row[`s${j}`])));
  for (const f of NUMERIC_FIELDS) t.fieldSums[f] += Number(row[`f_${f}`]);
  t.genders.Female! += int(row.female);
  t.genders.Male! += int(row.male);
}
