// The customers table and its companions (runs, lease lock, training members, migrations),
// written once against the SqlClient port so the Data API and pg adapters share every statement.

import type { Customer } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import type { Assignment } from '../model/assign.ts';
import type { ObjectClaim, RunLog, RunRecord, SqlClient, SqlParams, SqlRow, SqlValue, UploadLedger, UpsertCounts } from '../ports.ts';

export type { RunRecord } from '../ports.ts';
import { MIGRATION_LOCK, MIGRATIONS, MIGRATIONS_TABLE } from './migrations.ts';
import { labelBatchStatement } from './scoring.ts';
import { populationStatement } from './drift.ts';
import type { ObservedPopulation } from '../model/drift.ts';

export interface TableStatus {
  readonly customers: number;
  readonly pending: number;
  readonly byOrigin: Readonly<Record<string, number>>;
  readonly bySegment: ReadonlyArray<{ segment: number; name: string; modelVersion: string; customers: number; outliers: number }>;
  readonly lastRuns: ReadonlyArray<{
    kind: string;
    status: string;
    startedAt: string;
    modelVersion: string | null;
    labeled: number | null;
    error: string | null;
  }>;
  /** The drift figures of the latest nightly run that computed them. */
  readonly lastDrift: unknown;
}

/**
 * Rows per statement and per page, sized for the Data API: with customer_id at most 128 characters,
 * an upsert of 1,000 rows is under 0.5 MiB of request (limit 4 MiB), a page of 2,000 customers or
 * 1,000 labeled rows under 0.5 MiB of response (limit 1 MiB).
 */
export const UPSERT_BATCH_ROWS = 1000;
export const CUSTOMER_PAGE_ROWS = 2000;
export const LABELED_PAGE_ROWS = 1000;

/** Consecutive slices of at most UPSERT_BATCH_ROWS items: one bounded statement each. */
function* batches<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let start = 0; start < items.length; start += UPSERT_BATCH_ROWS) yield items.slice(start, start + UPSERT_BATCH_ROWS);
}

const int = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

export class SqlCustomerRepository implements UploadLedger, RunLog {
  constructor(protected readonly sql: SqlClient) {}

  /** Applies pending migrations; returns the versions applied now (empty when up to date). */
  async migrate(): Promise<string[]> {
    await this.sql.query(MIGRATIONS_TABLE);
    const applied: string[] = [];
    for (const migration of MIGRATIONS) {
      const done = await this.sql.transaction(async (tx) => {
        await tx.query(MIGRATION_LOCK);
        const rows = await tx.query('SELECT version FROM schema_migrations WHERE version = CAST(:version AS text)', {
          version: migration.version,
        });
        if (rows.length > 0) return false;
        for (const statement of migration.statements) await tx.query(statement);
        await tx.query('INSERT INTO schema_migrations (version) VALUES (CAST(:version AS text))', { version: migration.version });
        return true;
      });
      if (done) applied.push(migration.version);
    }
    return applied;
  }

  /**
   * Inserts new customers and updates changed ones in bounded batches. A customer whose values
   * changed loses its label (it is pending again); identical rows are left untouched.
   */
  async upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts> {
    let inserted = 0;
    let updated = 0;
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
      const rows = await this.sql.query(
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
      );
      const fresh = rows.filter((r) => r.inserted === true).length;
      inserted += fresh;
      updated += rows.length - fresh;
    }
    return { inserted, updated, unchanged: customers.length - inserted - updated };
  }

  /**
   * Upserts customers together with their labels from `model` (ingest). A row is written when it
   * is new, its values changed, or it is not yet labeled by this model; origin follows the rule.
   */
  async upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts> {
    let inserted = 0;
    let updated = 0;
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
      const rows = await this.sql.query(
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
      );
      const fresh = rows.filter((r) => r.inserted === true).length;
      inserted += fresh;
      updated += rows.length - fresh;
    }
    return { inserted, updated, unchanged: items.length - inserted - updated };
  }

  /**
   * Claims an uploaded object (bucket, key, ETag) for processing. Returns 'claimed' when this caller
   * may process it; otherwise what the record says: 'done' (with its summary) or 'in-progress' (another
   * delivery is on it). A claim older than `staleSeconds` (its run died) may be taken over. The claim
   * carries `claimId` (a new one per call by default): the same statement retried after an error that
   * hid its success finds its own claim and still gets 'claimed', instead of 'in-progress'.
   */
  async claimObject(
    bucket: string,
    key: string,
    etag: string,
    staleSeconds: number,
    claimId: string = globalThis.crypto.randomUUID(),
  ): Promise<ObjectClaim> {
    const claimed = await this.sql.query(
      `INSERT INTO ingested_objects AS o (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:processing AS jsonb))
       ON CONFLICT (bucket, key, etag) DO UPDATE SET processed_at = now(), summary = EXCLUDED.summary
       WHERE o.summary->>'status' = 'processing'
         AND (o.processed_at < now() - make_interval(secs => CAST(:stale AS double precision)) OR o.summary->>'claim' = CAST(:claim AS text))
       RETURNING 1 AS claimed`,
      { bucket, key, etag, processing: JSON.stringify({ status: 'processing', claim: claimId }), stale: staleSeconds, claim: claimId },
    );
    if (claimed.length === 1) return { state: 'claimed' };
    const rows = await this.sql.query(
      'SELECT CAST(summary AS text) AS summary FROM ingested_objects WHERE bucket = CAST(:bucket AS text) AND key = CAST(:key AS text) AND etag = CAST(:etag AS text)',
      { bucket, key, etag },
    );
    const summary = rows.length === 0 ? null : (JSON.parse(String(rows[0]!.summary)) as { status?: string });
    return summary?.status === 'processing' ? { state: 'in-progress' } : { state: 'done', summary };
  }

  /** Records the outcome of a claimed object: the idempotency record for later deliveries. */
  async recordIngested(bucket: string, key: string, etag: string, summary: unknown): Promise<void> {
    await this.sql.query(
      `INSERT INTO ingested_objects (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:summary AS jsonb))
       ON CONFLICT (bucket, key, etag) DO UPDATE SET summary = EXCLUDED.summary, processed_at = now()`,
      { bucket, key, etag, summary: JSON.stringify(summary) },
    );
  }

  /** Gives up a claim (the run failed and will be retried). */
  async releaseObject(bucket: string, key: string, etag: string): Promise<void> {
    await this.sql.query(
      `DELETE FROM ingested_objects WHERE bucket = CAST(:bucket AS text) AND key = CAST(:key AS text) AND etag = CAST(:etag AS text) AND summary->>'status' = 'processing'`,
      { bucket, key, etag },
    );
  }

  /** Every customer, in key order, page by page (bounded responses). */
  async *readCustomers(pageSize = CUSTOMER_PAGE_ROWS): AsyncGenerator<Customer[]> {
    const pages = this.pagesByKey(
      `SELECT customer_id, gender, age, CAST(annual_income_thousands AS double precision) AS income, spending_score
       FROM customers WHERE customer_id > CAST(:after AS text) ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      {},
      pageSize,
    );
    for await (const rows of pages) yield rows.map(toCustomer);
  }

  /** The current rows of a table-trained model's training customers, in key order, page by page. */
  async *readTrainingMembers(modelVersion: string, pageSize = CUSTOMER_PAGE_ROWS): AsyncGenerator<Customer[]> {
    const pages = this.pagesByKey(
      `SELECT c.customer_id, c.gender, c.age, CAST(c.annual_income_thousands AS double precision) AS income, c.spending_score
       FROM training_members AS t JOIN customers AS c ON c.customer_id = t.customer_id
       WHERE t.model_version = CAST(:model_version AS text) AND t.customer_id > CAST(:after AS text)
       ORDER BY t.customer_id LIMIT CAST(:page_size AS integer)`,
      { model_version: modelVersion },
      pageSize,
    );
    for await (const rows of pages) yield rows.map(toCustomer);
  }

  /** The customers of one segment of a model, with their labels, in key order, page by page. */
  readSegment(modelVersion: string, segment: number, pageSize = LABELED_PAGE_ROWS): AsyncGenerator<SqlRow[]> {
    return this.pagesByKey(
      `SELECT customer_id, gender, age, CAST(annual_income_thousands AS text) AS annual_income_thousands, spending_score,
         segment, segment_name, segment_origin, segment_distance, is_outlier, model_version
       FROM customers WHERE model_version = CAST(:model_version AS text) AND segment = CAST(:segment AS integer) AND customer_id > CAST(:after AS text)
       ORDER BY customer_id LIMIT CAST(:page_size AS integer)`,
      { model_version: modelVersion, segment },
      pageSize,
    );
  }

  /**
   * Keyset pagination: runs `sql` (which filters `customer_id > :after` and ends in
   * `LIMIT :page_size`) page after page, each page starting after the last key of the one before.
   */
  private async *pagesByKey(sql: string, params: SqlParams, pageSize: number): AsyncGenerator<SqlRow[]> {
    let after = '';
    for (;;) {
      const rows = await this.sql.query(sql, { ...params, after, page_size: pageSize });
      if (rows.length === 0) return;
      yield rows;
      after = String(rows[rows.length - 1]!.customer_id);
    }
  }

  /** Records which customers a table-trained model was trained on (the origin rule needs it). */
  async recordTrainingMembers(modelVersion: string, customerIds: readonly string[]): Promise<number> {
    let recorded = 0;
    for (const batch of batches(customerIds)) {
      const params: Record<string, SqlValue> = { model_version: modelVersion };
      const values = batch.map((id, i) => {
        params[`id_${i}`] = id;
        return `(CAST(:model_version AS text), CAST(:id_${i} AS text))`;
      });
      const [row] = await this.sql.query(
        `WITH added AS (
           INSERT INTO training_members (model_version, customer_id) VALUES ${values.join(', ')}
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT CAST(count(*) AS integer) AS n FROM added`,
        params,
      );
      recorded += int(row?.n);
    }
    return recorded;
  }

  /** Which of these customers a table-trained model was trained on. */
  async trainingMembersAmong(modelVersion: string, customerIds: readonly string[]): Promise<Set<string>> {
    const members = new Set<string>();
    for (const batch of batches(customerIds)) {
      const params: Record<string, SqlValue> = { model_version: modelVersion };
      const list = batch.map((id, i) => {
        params[`id_${i}`] = id;
        return `CAST(:id_${i} AS text)`;
      });
      const rows = await this.sql.query(
        `SELECT customer_id FROM training_members WHERE model_version = CAST(:model_version AS text) AND customer_id IN (${list.join(', ')})`,
        params,
      );
      for (const r of rows) members.add(String(r.customer_id));
    }
    return members;
  }

  /** Customers waiting for the active model: never labeled, or labeled by another model (null: none active). */
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
   * Labels the next bounded key range of pending customers in the database; null when none are left
   * after `after`. Runs as its own transaction, never inside one: the statement commits without
   * waiting for the WAL flush, which inside a transaction would apply to everything before it too.
   */
  async labelNextBatch(
    model: Model,
    after: string,
    batchSize: number,
  ): Promise<{ labeled: number; outliers: number; lastKey: string } | null> {
    const { sql, params } = labelBatchStatement(model, after, batchSize);
    const [row] = await this.sql.query(sql, params);
    // the batch read no pending row: done (a batch whose rows all changed meanwhile is not the end)
    if (!row || int(row.seen) === 0) return null;
    return { labeled: int(row.labeled), outliers: int(row.outliers), lastKey: String(row.last_key) };
  }

  /** The population `model` serves: created / assigned counts and the assigned customers' bins. */
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

  /** Takes or renews the named lease for `ttlSeconds`; false when another owner holds it. */
  async acquireLease(name: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO locks AS l (name, owner, expires_at) VALUES (CAST(:name AS text), CAST(:owner AS text), now() + make_interval(secs => CAST(:ttl AS double precision)))
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
       RETURNING owner`,
      { name, owner, ttl: ttlSeconds },
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.sql.query('DELETE FROM locks WHERE name = CAST(:name AS text) AND owner = CAST(:owner AS text)', { name, owner });
  }

  /**
   * Records a finished run once. `runKey` is the idempotency key (a new one per call by default): a
   * statement retried after an error that left it unclear whether the first attempt ran (the Data
   * API's InternalServerErrorException) inserts nothing the second time.
   */
  async recordRun(run: RunRecord, startedAt: Date, runKey: string = globalThis.crypto.randomUUID()): Promise<void> {
    await this.sql.query(
      `INSERT INTO runs (run_key, kind, started_at, finished_at, model_version, rows_read, rows_accepted, rows_rejected, labeled, outliers, status, error, drift)
       VALUES (CAST(:run_key AS text), CAST(:kind AS text), CAST(:started_at AS timestamptz), now(), CAST(:model_version AS text),
         CAST(:rows_read AS integer), CAST(:rows_accepted AS integer), CAST(:rows_rejected AS integer), CAST(:labeled AS integer),
         CAST(:outliers AS integer), CAST(:status AS text), CAST(:error AS text), CAST(:drift AS jsonb))
       ON CONFLICT (run_key) DO NOTHING`,
      {
        run_key: runKey,
        kind: run.kind,
        started_at: startedAt.toISOString(),
        model_version: run.modelVersion,
        rows_read: run.rowsRead ?? null,
        rows_accepted: run.rowsAccepted ?? null,
        rows_rejected: run.rowsRejected ?? null,
        labeled: run.labeled ?? null,
        outliers: run.outliers ?? null,
        status: run.status,
        error: run.error ?? null,
        drift: run.drift === undefined ? null : JSON.stringify(run.drift),
      },
    );
  }

  async status(): Promise<TableStatus> {
    const [totals] = await this.sql.query(
      `SELECT CAST(count(*) AS integer) AS customers, CAST(count(*) FILTER (WHERE segment IS NULL) AS integer) AS unlabeled FROM customers`,
    );
    const origins = await this.sql.query(
      `SELECT COALESCE(segment_origin, 'unlabeled') AS origin, CAST(count(*) AS integer) AS n FROM customers GROUP BY 1 ORDER BY 1`,
    );
    const segments = await this.sql.query(
      `SELECT segment, segment_name, model_version, CAST(count(*) AS integer) AS n,
         CAST(count(*) FILTER (WHERE is_outlier) AS integer) AS outliers
       FROM customers WHERE segment IS NOT NULL GROUP BY 1, 2, 3 ORDER BY model_version, segment`,
    );
    const runs = await this.sql.query(
      `SELECT kind, status, CAST(started_at AT TIME ZONE 'UTC' AS text) AS started_at, model_version, labeled, error
       FROM runs ORDER BY id DESC LIMIT 5`,
    );
    const drift = await this.sql.query(
      `SELECT CAST(drift AS text) AS drift FROM runs WHERE kind = 'assign' AND drift IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    return {
      lastDrift: drift.length === 0 ? null : JSON.parse(String(drift[0]!.drift)),
      customers: int(totals?.customers),
      pending: int(totals?.unlabeled),
      byOrigin: Object.fromEntries(origins.map((r) => [String(r.origin), int(r.n)])),
      bySegment: segments.map((r) => ({
        segment: int(r.segment),
        name: String(r.segment_name),
        modelVersion: String(r.model_version),
        customers: int(r.n),
        outliers: int(r.outliers),
      })),
      lastRuns: runs.map((r) => ({
        kind: String(r.kind),
        status: String(r.status),
        startedAt: isoSeconds(String(r.started_at)),
        modelVersion: r.model_version === null ? null : String(r.model_version),
        labeled: r.labeled === null ? null : int(r.labeled),
        error: r.error === null ? null : String(r.error),
      })),
    };
  }
}

/**
 * `2026-11-30 18:24:34.123456` (a UTC timestamp as PostgreSQL writes it) → `2026-11-30T18:24:34Z`.
 * Formatted here rather than with to_char: its pattern would put colons in a string literal of the
 * statement, next to the Data API's `:name` parameters (the service's scanner is undocumented).
 */
function isoSeconds(utc: string): string {
  return `${utc.slice(0, 19).replace(' ', 'T')}Z`;
}

function toCustomer(row: SqlRow): Customer {
  return {
    customerId: String(row.customer_id),
    gender: row.gender === 'Male' ? 'Male' : 'Female',
    age: int(row.age),
    annualIncomeThousands: Number(row.income),
    spendingScore: int(row.spending_score),
  };
}
