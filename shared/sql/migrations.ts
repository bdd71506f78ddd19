// Versioned schema migrations as data: each version is a list of single statements (the Data
// API runs one statement per call), applied in order inside one transaction per version. A
// schema_migrations row records a version only (no text of its statements): an applied version is
// never run again, whatever its statements have become.

export interface Migration {
  readonly version: string;
  readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: '001_initial',
    statements: [
      `CREATE TABLE customers (
        customer_id text PRIMARY KEY,
        gender text NOT NULL CHECK (gender IN ('Female', 'Male')),
        age integer NOT NULL CHECK (age BETWEEN 0 AND 120),
        annual_income_thousands numeric NOT NULL CHECK (annual_income_thousands >= 0),
        spending_score integer NOT NULL CHECK (spending_score BETWEEN 1 AND 100),
        segment integer,
        segment_origin text CHECK (segment_origin IN ('created', 'assigned')),
        segment_name text,
        model_version text,
        segment_distance double precision,
        is_outlier boolean,
        segmented_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE training_members (
        model_version text NOT NULL,
        customer_id text NOT NULL,
        PRIMARY KEY (model_version, customer_id)
      )`,
      `CREATE TABLE runs (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('train', 'ingest', 'assign')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        model_version text,
        rows_read integer,
        rows_accepted integer,
        rows_rejected integer,
        labeled integer,
        outliers integer,
        status text NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
        error text,
        drift jsonb
      )`,
      `CREATE TABLE ingested_objects (
        bucket text NOT NULL,
        key text NOT NULL,
        etag text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        summary jsonb NOT NULL,
        PRIMARY KEY (bucket, key, etag)
      )`,
      `CREATE TABLE locks (
        name text PRIMARY KEY,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
    ],
  },
  {
    // Room in every page for a row's labels: labeling then updates a row in place (a HOT update,
    // no new index entry and about half the WAL) instead of moving it to another page. Pages of
    // unlabeled rows are fuller once labeled (a labeled row is about twice the size); existing
    // pages keep their layout until rewritten. The nightly labeling of 10⁶ customers: about 30 %
    // less time here.
    version: '002_customers_fillfactor',
    statements: ['ALTER TABLE customers SET (fillfactor = 30)'],
  },
  {
    // The idempotency key of a run record: a retried insert (an error that left it unclear whether
    // the first attempt ran) finds its key taken and records nothing twice. Older rows have none.
    version: '003_runs_run_key',
    statements: ['ALTER TABLE runs ADD COLUMN run_key text', 'CREATE UNIQUE INDEX runs_run_key ON runs (run_key)'],
  },
  {
    // The progress of the upload being ingested: a batch of rows is recorded here by the statement
    // that stores it, so a retried run skips what the one before it stored. Forgotten when the
    // object's outcome is recorded in ingested_objects (or its claim given up). No foreign key: the
    // two tables are kept in step by the ledger's statements, and ingested_objects stays truncatable.
    version: '004_ingest_batches',
    statements: [
      `CREATE TABLE ingest_batches (
        bucket text NOT NULL,
        key text NOT NULL,
        etag text NOT NULL,
        batch integer NOT NULL,
        PRIMARY KEY (bucket, key, etag, batch)
      )`,
    ],
  },
  {
    // Training from the table (shared/sql/table-training.ts): a run copies the rows it trains on
    // into training_snapshots under its run id, and their distinct feature values with counts into
    // training_points; every later statement of the run reads those, never the live table. Both
    // are scratch: a run deletes its rows when it ends, and the next run deletes rows older than a
    // day (a run that crashed). UNLOGGED: nothing in them needs to survive a crash (PostgreSQL
    // truncates them after one; Aurora keeps them, writer only), and a million-row copy takes about
    // half the time of a logged one. No index: every statement reads a run's rows whole. The
    // mall's feature columns; a schema change recreates both tables with its own
    // (customer-table.ts, createScratchTables). This text stays as written: migrations are history.
    version: '005_training_snapshots',
    statements: [
      `CREATE UNLOGGED TABLE training_snapshots (
        run_id uuid NOT NULL,
        customer_id text NOT NULL,
        gender text NOT NULL,
        age integer NOT NULL,
        annual_income_thousands numeric NOT NULL,
        spending_score integer NOT NULL,
        sample_key text NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE UNLOGGED TABLE training_points (
        run_id uuid NOT NULL,
        part integer NOT NULL,
        gender text NOT NULL,
        age integer NOT NULL,
        annual_income_thousands double precision NOT NULL,
        spending_score integer NOT NULL,
        customers integer NOT NULL,
        segment integer,
        sq_distance double precision,
        taken_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // The customer schemas applied to the customers table (customer-table.ts), one row per change:
    // the schema as applied and what the change did, in words. The latest row is the table's
    // current schema; a database without any row still has migration 001's columns, the mall's.
    version: '006_customer_schema',
    statements: [
      `CREATE TABLE customer_schemas (
        version bigserial PRIMARY KEY,
        schema jsonb NOT NULL,
        changes jsonb NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Serialises concurrent migrators (e.g. two deploys) and schema changes for the length of one
 * transaction. The lock function returns `void`, a type the Data API does not return
 * (UnsupportedResultException): the result is cast to text.
 */
export const MIGRATION_LOCK = `SELECT CAST(pg_advisory_xact_lock(727274) AS text) AS locked`;
