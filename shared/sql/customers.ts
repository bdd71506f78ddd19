// CustomerRepository over SqlClient: the customers table — upserts (plain, and labeled by ingest),
// key-ordered pages, and labeling in the database in bounded key ranges.

import type { Customer } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import type { Assignment } from '../model/assign.ts';
import type { ObservedPopulation } from '../model/drift.ts';
import {
  UPLOAD_BATCH_ROWS,
  type CustomerRepository,
  type LabeledBatch,
  type SqlClient,
  type SqlParams,
  type SqlRow,
  type SqlValue,
  type StoredBatch,
  type UploadRef,
  type UploadRow,
  type UpsertCounts,
} from '../ports.ts';
import { populationStatement } from './drift.ts';
import { CUSTOMER_PAGE_ROWS, int, LABELED_PAGE_ROWS, pagesByKey, toCustomer } from './rows.ts';
import { labelBatchStatement } from './scoring.ts';

/** The batch's rows as the JSON array the statement reads with jsonb_to_recordset (short keys: a smaller request). */
function rowsJson(rows: readonly UploadRow[], labeled: boolean): string {
  const objects = rows.map(({ customer: c, assignment: a }) =>
    labeled
      ? {
          i: c.customerId,
          g: c.gender,
          a: c.age,
          n: c.annual_income_thousands,
          s: c.spending_score,
          k: a!.segment,
          d: a!.distance,
          o: a!.isOutlier,
        }
      : { i: c.customerId, g: c.gender, a: c.age, n: c.annual_income_thousands, s: c.spending_score },
  );
  return JSON.stringify(objects);
}

const UPSERT_CUSTOMERS = `INSERT INTO customers AS c (customer_id, gender, age, annual_income_thousands, spending_score)
  SELECT r.i, r.g, r.a, r.n, r.s FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(i text, g text, a integer, n numeric, s integer)
  ON CONFLICT (customer_id) DO UPDATE SET
    gender = EXCLUDED.gender, age = EXCLUDED.age,
    annual_income_thousands = EXCLUDED.annual_income_thousands, spending_score = EXCLUDED.spending_score,
    segment = NULL, segment_origin = NULL, segment_name = NULL, model_version = NULL,
    segment_distance = NULL, is_outlier = NULL, segmented_at = NULL, updated_at = now()
  WHERE (c.gender, c.age, c.annual_income_thousands, c.spending_score)
    IS DISTINCT FROM (EXCLUDED.gender, EXCLUDED.age, EXCLUDED.annual_income_thousands, EXCLUDED.spending_score)
  RETURNING (xmax = 0) AS inserted`;

// a row's segment name comes from :names (segment id → name), so it does not travel once per row
const UPSERT_LABELED = `INSERT INTO customers AS c (customer_id, gender, age, annual_income_thousands, spending_score,
    segment, segment_name, segment_distance, is_outlier, segment_origin, model_version, segmented_at)
  SELECT r.i, r.g, r.a, r.n, r.s, r.k, CAST(:names AS jsonb)->>CAST(r.k AS text), r.d, r.o, 'assigned', CAST(:model_version AS text), now()
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(i text, g text, a integer, n numeric, s integer, k integer, d double precision, o boolean)
  ON CONFLICT (customer_id) DO UPDATE SET
    gender = EXCLUDED.gender, age = EXCLUDED.age,
    annual_income_thousands = EXCLUDED.annual_income_thousands, spending_score = EXCLUDED.spending_score,
    segment = EXCLUDED.segment, segment_name = EXCLUDED.segment_name,
    segment_distance = EXCLUDED.segment_distance, is_outlier = EXCLUDED.is_outlier,
    segment_origin = CASE WHEN EXISTS (
      SELECT 1 FROM training_members AS t WHERE t.model_version = EXCLUDED.model_version AND t.customer_id = c.customer_id
    ) THEN 'created' ELSE 'assigned' END,
    model_version = EXCLUDED.model_version, segmented_at = now(), updated_at = now()
  WHERE (c.gender, c.age, c.annual_income_thousands, c.spending_score)
      IS DISTINCT FROM (EXCLUDED.gender, EXCLUDED.age, EXCLUDED.annual_income_thousands, EXCLUDED.spending_score)
    OR c.model_version IS DISTINCT FROM EXCLUDED.model_version OR c.segment IS NULL
  RETURNING (xmax = 0) AS inserted`;

/**
 * One statement that upserts a batch of rows (labeled with `model`, or plain) and answers its counts
 * and, with a model, which of its customers the model was trained on; with `done`, it also records
 * the batch in the upload's progress (a data-modifying CTE: both commit, or neither).
 */
function upsertStatement(
  rows: readonly UploadRow[],
  model: Model | null,
  done?: { upload: UploadRef; batch: number },
): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = { rows: rowsJson(rows, model !== null) };
  const parts = [`up AS (${model === null ? UPSERT_CUSTOMERS : UPSERT_LABELED})`];
  let created = 'CAST(NULL AS text)';
  if (model !== null) {
    params.model_version = model.modelVersion;
    params.names = JSON.stringify(Object.fromEntries(model.segments.map((s) => [String(s.id), s.name])));
    created = `(SELECT CAST(json_agg(t.customer_id) AS text) FROM training_members AS t
      WHERE t.model_version = CAST(:model_version AS text)
        AND t.customer_id IN (SELECT r.i FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(i text)))`;
  }
  if (done !== undefined) {
    Object.assign(params, { bucket: done.upload.bucket, key: done.upload.key, etag: done.upload.etag, batch: done.batch });
    parts.push(`done AS (INSERT INTO ingest_batches (bucket, key, etag, batch)
      VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:batch AS integer)) ON CONFLICT DO NOTHING)`);
  }
  const sql = `WITH ${parts.join(', ')}
    SELECT CAST(count(*) FILTER (WHERE inserted) AS integer) AS inserted, CAST(count(*) AS integer) AS written, ${created} AS created FROM up`;
  return { sql, params };
}

/** What an upsert statement answered: its counts, and the customers it named as trained on. */
function storedBatch(row: SqlRow | undefined, total: number): StoredBatch {
  const inserted = int(row?.inserted);
  const updated = int(row?.written) - inserted;
  const ids = row?.created === null || row?.created === undefined ? [] : (JSON.parse(String(row.created)) as string[]);
  return { inserted, updated, unchanged: total - inserted - updated, created: new Set(ids) };
}

export class SqlCustomers implements CustomerRepository {
  constructor(private readonly sql: SqlClient) {}

  async upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts> {
    return await this.upsertAll(
      customers.map((customer) => ({ customer, assignment: null })),
      null,
    );
  }

  async upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts> {
    return await this.upsertAll(items, model);
  }

  /** Every row upserted, UPLOAD_BATCH_ROWS per statement, one statement after another. */
  private async upsertAll(rows: readonly UploadRow[], model: Model | null): Promise<UpsertCounts> {
    let inserted = 0;
    let updated = 0;
    for (let start = 0; start < rows.length; start += UPLOAD_BATCH_ROWS) {
      const batch = rows.slice(start, start + UPLOAD_BATCH_ROWS);
      const { sql, params } = upsertStatement(batch, model);
      const stored = storedBatch((await this.sql.query(sql, params))[0], batch.length);
      inserted += stored.inserted;
      updated += stored.updated;
    }
    return { inserted, updated, unchanged: rows.length - inserted - updated };
  }

  async storeUploadBatch(upload: UploadRef, batch: number, rows: readonly UploadRow[], model: Model | null): Promise<StoredBatch> {
    if (rows.length > UPLOAD_BATCH_ROWS) throw new RangeError(`a batch of an upload holds at most ${UPLOAD_BATCH_ROWS} rows`);
    const { sql, params } = upsertStatement(rows, model, { upload, batch });
    const [row] = await this.sql.query(sql, params);
    return storedBatch(row, rows.length);
  }

  async *readCustomers(pageSize = CUSTOMER_PAGE_ROWS): AsyncGenerator<Customer[]> {
    const pages = pagesByKey(
      this.sql,
      `SELECT customer_id, gender, age, CAST(annual_income_thousands AS double precision) AS income, spending_score
       FROM customers WHERE customer_id > CAST(:after AS text) ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      {},
      pageSize,
    );
    for await (const rows of pages) yield rows.map(toCustomer);
  }

  readSegment(modelVersion: string, segment: number, pageSize = LABELED_PAGE_ROWS): AsyncGenerator<SqlRow[]> {
    return pagesByKey(
      this.sql,
      `SELECT customer_id, gender, age, CAST(annual_income_thousands AS text) AS annual_income_thousands, spending_score,
         segment, segment_name, segment_origin, segment_distance, is_outlier, model_version
       FROM customers WHERE model_version = CAST(:model_version AS text) AND segment = CAST(:segment AS integer) AND customer_id > CAST(:after AS text)
       ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      { model_version: modelVersion, segment },
      pageSize,
    );
  }

  async countPending(modelVersion: string | null): Promise<number> {
    const [row] = await this.sql.query(
      modelVersion === null
        ? 'SELECT CAST(count(*) AS integer) AS n FROM customers WHERE segment IS NULL'
        : `SELECT CAST(count(*) AS integer) AS n FROM customers
           WHERE segment IS NULL OR model_version IS DISTINCT FROM CAST(:model_version AS text)`,
      modelVersion === null ? {} : { model_version: modelVersion },
    );
    return int(row?.n);
  }

  /**
   * Runs as its own transaction, never inside one: the statement commits without waiting for the
   * WAL flush, which inside a transaction would apply to everything before it too.
   */
  async labelNextBatch(model: Model, after: string, batchSize: number): Promise<LabeledBatch | null> {
    const { sql, params } = labelBatchStatement(model, after, batchSize);
    const [row] = await this.sql.query(sql, params);
    // the batch read no pending row: done (a batch whose rows all changed meanwhile is not the end)
    if (!row || int(row.seen) === 0) return null;
    return { labeled: int(row.labeled), outliers: int(row.outliers), lastKey: String(row.last_key) };
  }

  async observePopulation(model: Model): Promise<ObservedPopulation> {
    const { sql, params } = populationStatement(model);
    const rows = await this.sql.query(sql, params);
    const totals = rows.find((r) => r.field === '');
    const bins: Record<string, number[]> = {};
    for (const [field, { edges }] of Object.entries(model.baseline.bins)) bins[field] = new Array<number>(edges.length + 1).fill(0);
    for (const r of rows) {
      if (r.field === '') continue;
      const counts = bins[String(r.field)];
      if (counts) counts[int(r.bin)] = int(r.n);
    }
    return {
      assigned: int(totals?.assigned),
      created: int(totals?.created),
      outliers: int(totals?.outliers),
      distanceSum: Number(totals?.distance_sum ?? 0),
      bins,
    };
  }
}
