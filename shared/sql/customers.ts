// CustomerRepository over SqlClient: the customers table — upserts (plain, and labeled by ingest),
// key-ordered pages, and labeling in the database in bounded key ranges — for a customer schema:
// every statement's feature columns are generated from it (quoted names), its values only ever
// travel as parameters.

import type { Customer } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import type { Assignment } from '../model/assign.ts';
import type { ObservedPopulation } from '../model/drift.ts';
import {
  uploadBatchRows,
  type ColumnCheck,
  type CustomerRepository,
  type LabeledBatch,
  type PendingCounts,
  type SqlClient,
  type SqlParams,
  type SqlRow,
  type SqlValue,
  type StoredBatch,
  type UploadRef,
  type UploadRow,
  type UpsertCounts,
} from '../ports.ts';
import { MALL_SCHEMA, type CustomerSchema, type SchemaFeature } from '../schema/customer-schema.ts';
import { columnType, featureColumn } from './customer-table.ts';
import { populationStatements } from './drift.ts';
import { complete, customerReader, CUSTOMER_PAGE_ROWS, featureSelect, int, LABELED_PAGE_ROWS, pageRows, pagesByKey } from './rows.ts';
import { featureNames, labelBatchStatement } from './scoring.ts';

/**
 * The statements of a schema's upserts. A row travels in the `rows` JSON array with short keys (`i`
 * the id, `f<n>` the n-th feature, `k`, `d`, `o` the label), each feature read by jsonb_to_recordset
 * as its column's type. A categorical feature's values travel once per statement, in a `values_<n>`
 * JSON array (the batch's distinct values), and a row holds its value's index there: a row's size
 * does not depend on how long the values are.
 */
class UpsertSql {
  /** Statement text without labels, and with them (the segment name from :names, not once per row). */
  readonly plain: string;
  readonly labeled: string;

  constructor(private readonly schema: CustomerSchema) {
    const features = schema.features;
    const columns = features.map((f) => featureColumn(f.name));
    // a categorical feature's value is its dictionary's entry: `->>` of an integer gives the array's element as text
    const values = features.map((f, n) => (f.kind === 'categorical' ? `CAST(:values_${n} AS jsonb)->>r.f${n}` : `r.f${n}`));
    const recordType = (f: SchemaFeature, n: number): string => `f${n} ${f.kind === 'categorical' ? 'integer' : columnType(f)}`;
    const record = ['i text', ...features.map(recordType)];
    const set = columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    const changed = `(${columns.map((c) => `c.${c}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')})`;
    this.plain = `INSERT INTO customers AS c (customer_id, ${columns.join(', ')})
  SELECT r.i, ${values.join(', ')} FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(${record.join(', ')})
  ON CONFLICT (customer_id) DO UPDATE SET
    ${set},
    segment = NULL, segment_origin = NULL, segment_name = NULL, model_version = NULL,
    segment_distance = NULL, is_outlier = NULL, segmented_at = NULL, updated_at = now()
  WHERE ${changed}
  RETURNING (xmax = 0) AS inserted`;
    this.labeled = `INSERT INTO customers AS c (customer_id, ${columns.join(', ')},
    segment, segment_name, segment_distance, is_outlier, segment_origin, model_version, segmented_at)
  SELECT r.i, ${values.join(', ')}, r.k, CAST(:names AS jsonb)->>CAST(r.k AS text), r.d, r.o, 'assigned', CAST(:model_version AS text), now()
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(${[...record, 'k integer', 'd double precision', 'o boolean'].join(', ')})
  ON CONFLICT (customer_id) DO UPDATE SET
    ${set},
    segment = EXCLUDED.segment, segment_name = EXCLUDED.segment_name,
    segment_distance = EXCLUDED.segment_distance, is_outlier = EXCLUDED.is_outlier,
    segment_origin = CASE WHEN EXISTS (
      SELECT 1 FROM training_members AS t WHERE t.model_version = EXCLUDED.model_version AND t.customer_id = c.customer_id
    ) THEN 'created' ELSE 'assigned' END,
    model_version = EXCLUDED.model_version, segmented_at = now(), updated_at = now()
  WHERE ${changed}
    OR c.model_version IS DISTINCT FROM EXCLUDED.model_version OR c.segment IS NULL
  RETURNING (xmax = 0) AS inserted`;
  }

  /** The batch's rows as the JSON array the statement reads, and each categorical feature's dictionary. */
  rows(rows: readonly UploadRow[], labeled: boolean, params: Record<string, SqlValue>): void {
    const features = this.schema.features;
    const keys = features.map((_, n) => `f${n}`);
    const dictionaries = features.map((f) => (f.kind === 'categorical' ? new Map<string, number>() : null));
    const objects = rows.map(({ customer, assignment }) => {
      const row: Record<string, string | number | boolean> = { i: customer.customerId };
      for (let n = 0; n < features.length; n++) {
        const value = customer[features[n]!.name];
        if (value === undefined) throw new RangeError(`customer ${customer.customerId} has no ${features[n]!.name}`);
        const dictionary = dictionaries[n];
        if (dictionary === null || dictionary === undefined) {
          row[keys[n]!] = value;
          continue;
        }
        const text = String(value);
        let index = dictionary.get(text);
        if (index === undefined) dictionary.set(text, (index = dictionary.size));
        row[keys[n]!] = index;
      }
      if (labeled) Object.assign(row, { k: assignment!.segment, d: assignment!.distance, o: assignment!.isOutlier });
      return row;
    });
    params.rows = JSON.stringify(objects);
    dictionaries.forEach((dictionary, n) => {
      if (dictionary !== null) params[`values_${n}`] = JSON.stringify([...dictionary.keys()]);
    });
  }
}

/**
 * One statement that upserts a batch of rows (labeled with `model`, or plain) and answers its counts
 * and, with a model, which of its customers the model was trained on; with `done`, it also records
 * the batch in the upload's progress (a data-modifying CTE: both commit, or neither).
 */
function upsertStatement(
  upsert: UpsertSql,
  rows: readonly UploadRow[],
  model: Model | null,
  done?: { upload: UploadRef; batch: number },
): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = {};
  upsert.rows(rows, model !== null, params);
  const parts = [`up AS (${model === null ? upsert.plain : upsert.labeled})`];
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

/** information_schema's data_type of the columns a feature of each kind can be read from. */
const NUMERIC_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
const TEXT_TYPES = new Set(['text', 'character varying', 'character']);

export class SqlCustomers implements CustomerRepository {
  private readonly upsert: UpsertSql;
  private readonly batchRows: number;
  private readonly toCustomer: (row: SqlRow) => Customer;

  /** `schema`: the customers table's (the one last applied to it, see customer-table.ts); the mall's by default. */
  constructor(
    private readonly sql: SqlClient,
    readonly schema: CustomerSchema = MALL_SCHEMA,
  ) {
    this.upsert = new UpsertSql(schema);
    this.batchRows = uploadBatchRows(schema);
    this.toCustomer = customerReader(schema);
  }

  async upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts> {
    return await this.upsertAll(
      customers.map((customer) => ({ customer, assignment: null })),
      null,
    );
  }

  async upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts> {
    return await this.upsertAll(items, model);
  }

  /** Every row upserted, uploadBatchRows(schema) per statement, one statement after another. */
  private async upsertAll(rows: readonly UploadRow[], model: Model | null): Promise<UpsertCounts> {
    let inserted = 0;
    let updated = 0;
    for (let start = 0; start < rows.length; start += this.batchRows) {
      const batch = rows.slice(start, start + this.batchRows);
      const { sql, params } = upsertStatement(this.upsert, batch, model);
      const stored = storedBatch((await this.sql.query(sql, params))[0], batch.length);
      inserted += stored.inserted;
      updated += stored.updated;
    }
    return { inserted, updated, unchanged: rows.length - inserted - updated };
  }

  async storeUploadBatch(upload: UploadRef, batch: number, rows: readonly UploadRow[], model: Model | null): Promise<StoredBatch> {
    if (rows.length > this.batchRows) throw new RangeError(`a batch of an upload holds at most ${this.batchRows} rows`);
    const { sql, params } = upsertStatement(this.upsert, rows, model, { upload, batch });
    const [row] = await this.sql.query(sql, params);
    return storedBatch(row, rows.length);
  }

  /** Every customer with a value in each feature, in key order (a row stored before a feature's column existed is not read). */
  async *readCustomers(pageSize = pageRows(this.schema, CUSTOMER_PAGE_ROWS)): AsyncGenerator<Customer[]> {
    const pages = pagesByKey(
      this.sql,
      `SELECT customer_id, ${featureSelect(this.schema)}
       FROM customers WHERE customer_id > CAST(:after AS text) AND ${complete(this.schema.features.map((f) => f.name))}
       ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      {},
      pageSize,
    );
    for await (const rows of pages) yield rows.map(this.toCustomer);
  }

  /** The segment's rows: customer_id, each feature (numbers as text: NUMERIC exactly as stored), then the label columns. */
  readSegment(modelVersion: string, segment: number, pageSize = pageRows(this.schema, LABELED_PAGE_ROWS)): AsyncGenerator<SqlRow[]> {
    const features = this.schema.features.map((f) => {
      const column = featureColumn(f.name);
      return f.kind === 'categorical' ? column : `CAST(${column} AS text) AS ${column}`;
    });
    return pagesByKey(
      this.sql,
      `SELECT customer_id, ${features.join(', ')},
         segment, segment_name, segment_origin, segment_distance, is_outlier, model_version
       FROM customers WHERE model_version = CAST(:model_version AS text) AND segment = CAST(:segment AS integer) AND customer_id > CAST(:after AS text)
       ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      { model_version: modelVersion, segment },
      pageSize,
    );
  }

  async countPending(model: Model | null): Promise<PendingCounts> {
    if (model === null) {
      const [row] = await this.sql.query('SELECT CAST(count(*) AS integer) AS n FROM customers WHERE segment IS NULL');
      return { pending: int(row?.n), incomplete: 0 };
    }
    // waiting, of which those with a NULL in a column the model uses (not labelable)
    const [row] = await this.sql.query(
      `SELECT CAST(count(*) AS integer) AS waiting, CAST(count(*) FILTER (WHERE NOT ${complete(featureNames(model.features))}) AS integer) AS incomplete
       FROM customers WHERE segment IS NULL OR model_version IS DISTINCT FROM CAST(:model_version AS text)`,
      { model_version: model.modelVersion },
    );
    return { pending: int(row?.waiting) - int(row?.incomplete), incomplete: int(row?.incomplete) };
  }

  async checkColumns(features: readonly ColumnCheck[]): Promise<{ missing: string[]; retyped: string[] }> {
    if (features.length === 0) return { missing: [], retyped: [] };
    const rows = await this.sql.query(
      `SELECT CAST(f.name AS text) AS name, CAST(c.data_type AS text) AS data_type
       FROM jsonb_array_elements_text(CAST(:names AS jsonb)) AS f(name)
       LEFT JOIN information_schema.columns AS c
         ON c.table_schema = current_schema() AND c.table_name = 'customers' AND c.column_name = f.name`,
      { names: JSON.stringify(features.map((f) => f.name)) },
    );
    const types = new Map(rows.map((r) => [String(r.name), r.data_type === null ? null : String(r.data_type)]));
    const missing: string[] = [];
    const retyped: string[] = [];
    for (const { name, kind } of features) {
      const type = types.get(name) ?? null;
      if (type === null) missing.push(name);
      else if (!(kind === 'numeric' ? NUMERIC_TYPES : TEXT_TYPES).has(type)) retyped.push(name);
    }
    return { missing, retyped };
  }

  /**
   * Runs as its own transaction, never inside one: the statement commits without waiting for the
   * WAL flush, which inside a transaction would apply to everything before it too.
   */
  async labelNextBatch(model: Model, after: string, batchSize: number, until?: string): Promise<LabeledBatch | null> {
    const { sql, params } = labelBatchStatement(model, after, batchSize, until);
    const [row] = await this.sql.query(sql, params);
    // the batch read no pending row: done (a batch whose rows all changed meanwhile is not the end)
    if (!row || int(row.seen) === 0) return null;
    return { labeled: int(row.labeled), outliers: int(row.outliers), lastKey: String(row.last_key) };
  }

  async pendingKeyAt(model: Model, rank: number): Promise<string | null> {
    const [row] = await this.sql.query(
      `SELECT customer_id FROM customers
       WHERE (segment IS NULL OR model_version IS DISTINCT FROM CAST(:model_version AS text)) AND ${complete(featureNames(model.features))}
       ORDER BY customer_id OFFSET CAST(:rank AS integer) LIMIT 1`,
      { model_version: model.modelVersion, rank },
    );
    return row === undefined ? null : String(row.customer_id);
  }

  async observePopulation(model: Model, omit: ReadonlySet<string> = new Set()): Promise<ObservedPopulation> {
    const bins: Record<string, number[]> = {};
    const categories: Record<string, number[]> = {};
    let totals: SqlRow | undefined;
    for (const statement of populationStatements(model, omit)) {
      const [row] = await this.sql.query(statement.sql, statement.params);
      totals ??= row;
      statement.fields.forEach(({ field, kind, bins: n }, i) => {
        (kind === 'numeric' ? bins : categories)[field] = Array.from({ length: n }, (_, b) => int(row?.[`c${i}_${b}`]));
      });
    }
    return {
      assigned: int(totals?.assigned),
      created: int(totals?.created),
      outliers: int(totals?.outliers),
      distanceSum: Number(totals?.distance_sum ?? 0),
      bins,
      ...(model.baseline.categories === undefined ? {} : { categories }),
    };
  }
}
