// CustomerRepository over SqlClient: the customers table — upserts (plain, and labeled by ingest),
// key-ordered pages, and labeling in the database in bounded key ranges.

import type { Customer } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import type { Assignment } from '../model/assign.ts';
import type { ObservedPopulation } from '../model/drift.ts';
import type { CustomerRepository, LabeledBatch, SqlClient, SqlRow, SqlValue, UpsertCounts } from '../ports.ts';
import { populationStatement } from './drift.ts';
import { batches, CUSTOMER_PAGE_ROWS, int, LABELED_PAGE_ROWS, pagesByKey, toCustomer } from './rows.ts';
import { labelBatchStatement } from './scoring.ts';

/** Counts what one upsert statement ending in `RETURNING (xmax = 0) AS inserted` wrote. */
class UpsertTally {
  inserted = 0;
  updated = 0;
  add(rows: readonly SqlRow[]): void {
    const fresh = rows.filter((r) => r.inserted === true).length;
    this.inserted += fresh;
    this.updated += rows.length - fresh;
  }
  counts(total: number): UpsertCounts {
    return { inserted: this.inserted, updated: this.updated, unchanged: total - this.inserted - this.updated };
  }
}

export class SqlCustomers implements CustomerRepository {
  constructor(private readonly sql: SqlClient) {}

  async upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts> {
    const tally = new UpsertTally();
    for (const batch of batches(customers)) {
      const params: Record<string, SqlValue> = {};
      const values = batch.map((c, i) => {
        params[`id_${i}`] = c.customerId;
        params[`gender_${i}`] = c.gender;
        params[`age_${i}`] = c.age;
        params[`income_${i}`] = String(c.annualIncomeThousands);
        params[`score_${i}`] = c.spendingScore;
        return `(CAST(:id_${i} AS text), CAST(:gender_${i} AS text), CAST(:age_${i} AS integer), CAST(:income_${i} AS numeric), CAST(:score_${i} AS integer))`;
      });
      tally.add(
        await this.sql.query(
          `INSERT INTO customers AS c (customer_id, gender, age, annual_income_thousands, spending_score)
         VALUES ${values.join(', ')}
         ON CONFLICT (customer_id) DO UPDATE SET
           gender = EXCLUDED.gender, age = EXCLUDED.age,
           annual_income_thousands = EXCLUDED.annual_income_thousands, spending_score = EXCLUDED.spending_score,
           segment = NULL, segment_origin = NULL, segment_name = NULL, model_version = NULL,
           segment_distance = NULL, is_outlier = NULL, segmented_at = NULL, updated_at = now()
         WHERE (c.gender, c.age, c.annual_income_thousands, c.spending_score)
           IS DISTINCT FROM (EXCLUDED.gender, EXCLUDED.age, EXCLUDED.annual_income_thousands, EXCLUDED.spending_score)
         RETURNING (xmax = 0) AS inserted`,
          params,
        ),
      );
    }
    return tally.counts(customers.length);
  }

  async upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts> {
    const tally = new UpsertTally();
    for (const batch of batches(items)) {
      const params: Record<string, SqlValue> = { model_version: model.modelVersion };
      const values = batch.map(({ customer: c, assignment: a }, i) => {
        Object.assign(params, {
          [`id_${i}`]: c.customerId,
          [`gender_${i}`]: c.gender,
          [`age_${i}`]: c.age,
          [`income_${i}`]: String(c.annualIncomeThousands),
          [`score_${i}`]: c.spendingScore,
          [`segment_${i}`]: a.segment,
          [`name_${i}`]: model.segments[a.index]!.name,
          [`distance_${i}`]: a.distance,
          [`outlier_${i}`]: a.isOutlier,
        });
        return `(CAST(:id_${i} AS text), CAST(:gender_${i} AS text), CAST(:age_${i} AS integer), CAST(:income_${i} AS numeric), CAST(:score_${i} AS integer),
          CAST(:segment_${i} AS integer), CAST(:name_${i} AS text), CAST(:distance_${i} AS double precision), CAST(:outlier_${i} AS boolean))`;
      });
      tally.add(
        await this.sql.query(
          `INSERT INTO customers AS c (customer_id, gender, age, annual_income_thousands, spending_score,
           segment, segment_name, segment_distance, is_outlier, segment_origin, model_version, segmented_at)
         SELECT v.*, 'assigned', CAST(:model_version AS text), now() FROM (VALUES ${values.join(', ')}) AS v
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
         RETURNING (xmax = 0) AS inserted`,
          params,
        ),
      );
    }
    return tally.counts(items.length);
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
