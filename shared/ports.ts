// Ports the workflows are written against. Adapters live in functions/adapters/; the database
// ports are implemented once over SqlClient in shared/sql/, one file per concern.

import type { Customer } from './csv/contract.ts';
import type { CustomerSchema } from './schema/customer-schema.ts';
import type { ActivePointer, Model } from './model/artifact.ts';
import type { Assignment } from './model/assign.ts';
import type { Drift, ObservedPopulation } from './model/drift.ts';

/** Where model artifacts and the active-model pointer live (S3 bucket or local store directory). */
export interface ModelStore {
  /** Writes `models/<version>/model.json`; returns where it went. */
  putModel(model: Model): Promise<{ modelUri: string }>;
  /** Writes `models/<version>/report.html` beside a stored model; returns where it went. */
  putReport(modelVersion: string, html: string): Promise<string>;
  /** Reads and validates one model version; NotFoundError when it does not exist. */
  getModel(version: string): Promise<Model>;
  /** The active-model pointer, or null when no model has been promoted yet. */
  getActive(): Promise<ActivePointer | null>;
  /**
   * Compare-and-swap of the pointer: replaces it with `next` only if it still is `expected` (null:
   * no pointer yet), atomically; false when another writer changed it first.
   */
  swapActive(expected: ActivePointer | null, next: ActivePointer): Promise<boolean>;
  /** All stored model versions, oldest first. */
  listModels(): Promise<string[]>;
}

/** A value bound to a SQL statement parameter (`:name`). Values never travel inside SQL text. */
export type SqlValue = string | number | boolean | null;
export type SqlParams = Readonly<Record<string, SqlValue>>;
export type SqlRow = Readonly<Record<string, unknown>>;

/**
 * The smallest SQL surface both PostgreSQL paths offer: the RDS Data API (no session, named
 * parameters) and a pg connection pool. One statement per call.
 */
export interface SqlClient {
  query(sql: string, params?: SqlParams): Promise<SqlRow[]>;
  /** Runs `work` in one transaction; statements inside see and commit together. */
  transaction<T>(work: (tx: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T>;
}

/** Counts of an upsert: rows new to the table, rows whose values changed, rows already identical. */
export interface UpsertCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

/** What labeling one bounded key range in the database did; `lastKey` is where the next one starts. */
export interface LabeledBatch {
  readonly labeled: number;
  readonly outliers: number;
  readonly lastKey: string;
}

/** An uploaded object in the version its event names. */
export interface UploadRef {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
}

/** A customer of an upload on its way to the table, with its label (null: no active model). */
export interface UploadRow {
  readonly customer: Customer;
  readonly assignment: Assignment | null;
}

/**
 * Rows of an upload per statement (storeUploadBatch) for the mall and most schemas. A row travels
 * as a JSON object of about 90 bytes (with a customer_id of 128 characters, at most about 1 KB once
 * escaped twice, into the JSON parameter and into the Data API request), so a batch's request stays
 * under 2.5 MiB (limit 4 MiB). A schema with many features gets fewer (uploadBatchRows).
 */
export const UPLOAD_BATCH_ROWS = 2000;

/** A request's bytes the rows of one upload statement may take at worst (the Data API's limit is 4 MiB). */
const UPLOAD_REQUEST_BUDGET = 3.5 * 1024 * 1024;
/** A row's request bytes at worst besides its features: a customer_id of 128 characters each escaped twice (`\\u0001`), its key, the label. */
const UPLOAD_ROW_BYTES = 128 * 7 + 80;
/** A numeric feature's at worst: `,\"f12\":` and a number of 24 characters. */
const UPLOAD_NUMBER_BYTES = 34;
/** A categorical feature's in the row: its key and an index into the statement's values of it. */
const UPLOAD_CODE_BYTES = 13;
/** Characters of a category value at worst: the schema's limit for listed values, assumed for learned ones. */
const UPLOAD_VALUE_CHARACTERS = 200;
/** Distinct values of a categorical feature at most (its codes are bytes). */
const UPLOAD_MAX_VALUES = 255;

/**
 * Rows of an upload per statement for `schema`: UPLOAD_BATCH_ROWS, or fewer when that many rows of
 * the schema could take more than the request budget at worst — every id of 128 escaped characters,
 * every number of 24 characters, and each categorical feature's values (once per statement, at most
 * one new value per row and 255 in all) as long as a value may be, every character escaped.
 */
export function uploadBatchRows(schema: CustomerSchema): number {
  let rowBytes = UPLOAD_ROW_BYTES;
  const valueBytes: number[] = [];
  for (const f of schema.features) {
    if (f.kind === 'numeric') {
      rowBytes += UPLOAD_NUMBER_BYTES;
      continue;
    }
    rowBytes += UPLOAD_CODE_BYTES;
    const longest = f.categories === 'learned' ? UPLOAD_VALUE_CHARACTERS : Math.max(...f.categories.map((c) => c.length));
    valueBytes.push(longest * 7 + 6);
  }
  const bytes = (rows: number): number => rows * rowBytes + valueBytes.reduce((sum, v) => sum + Math.min(rows, UPLOAD_MAX_VALUES) * v, 0);
  let rows = UPLOAD_BATCH_ROWS;
  while (rows > 1 && bytes(rows) > UPLOAD_REQUEST_BUDGET) rows = Math.floor(rows * 0.9);
  return rows;
}

/** What storing one batch of an upload did: the upsert's counts, and the customers `model` was trained on. */
export interface StoredBatch extends UpsertCounts {
  /** Which of the batch's customers the labeling model was trained on (origin 'created'); empty without a model. */
  readonly created: ReadonlySet<string>;
}

/**
 * Customers waiting for a model: `pending` can be labeled (never labeled, or labeled by another
 * model); `incomplete` wait too but hold a NULL in a column the model uses (stored before the
 * column existed), so they cannot be labeled until their values are uploaded again.
 */
export interface PendingCounts {
  readonly pending: number;
  readonly incomplete: number;
}

/** A feature column a model needs in the customers table, and the kind its values must be read as. */
export interface ColumnCheck {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
}

/** The customers table: customers in, customers out, and their labels (the `customers` table). */
export interface CustomerRepository {
  /** The customer schema of the table's feature columns: the statements' columns are its features. */
  readonly schema: CustomerSchema;
  /**
   * Inserts new customers and updates changed ones, every feature column written. A customer whose
   * values changed loses its label (it waits for the active model again); identical rows are left
   * untouched.
   */
  upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts>;
  /**
   * Upserts customers together with their labels from `model` (ingest). A row is written when it is
   * new, its values changed, or it is not yet labeled by this model; origin follows the origin rule.
   */
  upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts>;
  /**
   * One batch of an upload (at most uploadBatchRows(schema) rows) in ONE statement: its customers
   * upserted as `upsertLabeledCustomers` does (as `upsertCustomers` does without a model), and the
   * batch recorded done in the upload's progress (see UploadLedger.doneBatches), so that either both
   * happen or neither. Safe to repeat: a batch stored twice leaves the table as once.
   */
  storeUploadBatch(upload: UploadRef, batch: number, rows: readonly UploadRow[], model: Model | null): Promise<StoredBatch>;
  /** Every customer with a value in each feature, in key order, page by page (bounded responses). */
  readCustomers(pageSize?: number): AsyncIterable<Customer[]>;
  /** The customers of one segment of a model, with their labels (the table's columns), in key order, page by page. */
  readSegment(modelVersion: string, segment: number, pageSize?: number): AsyncIterable<SqlRow[]>;
  /** Customers waiting for `model` (null: none active, so those never labeled, all counted pending). */
  countPending(model: Model | null): Promise<PendingCounts>;
  /** Which of the columns the customers table lacks (`missing`), or has with a type of another kind (`retyped`). */
  checkColumns(features: readonly ColumnCheck[]): Promise<{ missing: string[]; retyped: string[] }>;
  /**
   * Labels the next `batchSize` waiting customers after the key `after` (and up to the key `until`,
   * inclusive, when given) in the database; null when none are left there.
   */
  labelNextBatch(model: Model, after: string, batchSize: number, until?: string): Promise<LabeledBatch | null>;
  /** The key of the customer at `rank` (0-based, in key order) among those `model` can label now; null past the last. */
  pendingKeyAt(model: Model, rank: number): Promise<string | null>;
  /**
   * The population `model` serves: created / assigned counts and the assigned customers' bins and
   * category counts, but of the baseline's fields in `omit` (columns the table no longer has).
   */
  observePopulation(model: Model, omit?: ReadonlySet<string>): Promise<ObservedPopulation>;
}

/** Which customers a table-trained model was trained on; the origin rule needs it (the `training_members` table). */
export interface TrainingMembers {
  /** Records a model's training customers; returns how many were new to the record. */
  recordTrainingMembers(modelVersion: string, customerIds: readonly string[]): Promise<number>;
  /**
   * The current rows of a model's training customers, in key order, page by page, with the
   * features of `schema` (the model's own; the table's by default).
   */
  readTrainingMembers(modelVersion: string, schema?: CustomerSchema, pageSize?: number): AsyncIterable<Customer[]>;
  /** Which of these customers the model was trained on. */
  trainingMembersAmong(modelVersion: string, customerIds: readonly string[]): Promise<Set<string>>;
}

/** Named leases with an expiry: the nightly lock, since the Data API has no session (the `locks` table). */
export interface LeaseLock {
  /** Takes or renews the named lease for `ttlSeconds`; false when another owner holds it. */
  acquireLease(name: string, owner: string, ttlSeconds: number): Promise<boolean>;
  /** Gives the lease up, if `owner` still holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
}

/** The schema's versioned migrations (the `schema_migrations` table). */
export interface SchemaMigrator {
  /** Applies the migrations not yet applied; returns their versions (empty when up to date). */
  migrate(): Promise<string[]>;
}

/** The table at a glance, for `segments db status` and the report. */
export interface TableStatus {
  readonly customers: number;
  /** Customers never labeled (segment null); `countPending` also counts those labeled by another model. */
  readonly unlabeled: number;
  /** Customers per `segment_origin`, `unlabeled` for none. */
  readonly byOrigin: Readonly<Record<string, number>>;
  readonly bySegment: ReadonlyArray<{ segment: number; name: string; modelVersion: string; customers: number; outliers: number }>;
  /** The latest runs, newest first. */
  readonly lastRuns: ReadonlyArray<{
    kind: string;
    status: string;
    startedAt: string;
    modelVersion: string | null;
    labeled: number | null;
    error: string | null;
  }>;
  /** The drift figures of the latest nightly run that computed them. */
  readonly lastDrift: Drift | null;
}

/** Reads the table at a glance: customers, labels, latest runs and drift. */
export interface TableStatusReader {
  status(): Promise<TableStatus>;
}

/** Names of the outputs of labeling a customers file (design.md "Labeled output"). */
export type ResultName = 'labeled.csv' | 'rejects.csv' | 'summary.json';

/** Where a labeling run's outputs go; every write is atomic (never a half-written file). */
export interface ResultWriter {
  write(name: ResultName, content: AsyncIterable<string> | string): Promise<string>;
  /** Removes an output if it exists (a failed run must not leave an earlier run's files beside it). */
  remove(name: ResultName): Promise<void>;
}

/** An uploaded object, opened for streaming, with the ETag of the version being read. */
export interface OpenedObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly etag: string;
}

/** Reads uploaded files (S3 objects, or local files for the CLI). */
export interface ObjectSource {
  /**
   * Opens `key`; with `etag`, only that version (null when the object changed since, or is gone —
   * a newer upload brings its own event).
   */
  open(key: string, etag?: string): Promise<OpenedObject | null>;
}

/** A finished run of one of the jobs, as the runs table records it. */
export interface RunRecord {
  readonly kind: 'train' | 'ingest' | 'assign';
  readonly modelVersion: string | null;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly rowsRead?: number;
  readonly rowsAccepted?: number;
  readonly rowsRejected?: number;
  readonly labeled?: number;
  readonly outliers?: number;
  /** Why the run failed or was skipped, in words for a person: never a raw error message or a stack. */
  readonly error?: string | null;
  readonly drift?: unknown;
}

/** The history of runs (the `runs` table). */
export interface RunLog {
  /** Records a finished run once: a repeated call with the same `runKey` records nothing more. */
  recordRun(run: RunRecord, startedAt: Date, runKey?: string): Promise<void>;
}

/**
 * What a claim on an uploaded object found: this caller may process it — with what the object's
 * first claim started with (`startedWith`, kept by every claim after it until the outcome is
 * recorded) — or what the ledger says.
 */
export type ObjectClaim =
  | { readonly state: 'claimed'; readonly startedWith: unknown }
  | { readonly state: 'done'; readonly summary: unknown }
  | { readonly state: 'in-progress' };

/**
 * The ledger of uploaded objects (bucket, key, ETag) processed once each (the `ingested_objects`
 * table), and the progress of the one being processed (the `ingest_batches` table).
 */
export interface UploadLedger {
  /**
   * Claims the object for processing. The same `claimId` claims it again at once (a retry of the
   * run that holds it); another claim id takes it over only when the claim is older than
   * `staleSeconds` (its run died). `startedWith` (any JSON value) is recorded by the first claim and
   * answered to every claim after it, so that a run taking over continues as the first one began.
   */
  claimObject(
    bucket: string,
    key: string,
    etag: string,
    staleSeconds: number,
    claimId?: string,
    startedWith?: unknown,
  ): Promise<ObjectClaim>;
  /** The batches of the object recorded done (storeUploadBatch) since it was claimed first. */
  doneBatches(bucket: string, key: string, etag: string): Promise<Set<number>>;
  /** Records the outcome, and forgets the progress: later deliveries of the same object find it 'done' with this summary. */
  recordIngested(bucket: string, key: string, etag: string, summary: unknown): Promise<void>;
  /** Gives up an unfinished claim and its progress, so that a retry processes the object from the start. */
  releaseObject(bucket: string, key: string, etag: string): Promise<void>;
}

/** What SQL needs of a model to place rows in its space: its features, scaler and centroids (k × d, model space). */
export interface ModelSpace {
  readonly features: Model['features'];
  readonly scaler: Model['scaler'];
  readonly centroids: readonly (readonly number[])[];
}

/** A training run's copy of the customers table (TableTraining.takeSnapshot). */
export interface TrainingSnapshot {
  readonly runId: string;
  readonly seed: number;
  /** The customer schema the copy was taken with: its features are the copy's columns. */
  readonly schema: CustomerSchema;
  /** The customers copied: the rows trained on. */
  readonly customers: number;
  /**
   * Rows of the table left out of the copy: `missing` with a feature NULL (stored before the
   * feature's column was added), `outside` with a value the schema does not accept (a category it
   * does not list, a negative value for log1p, a value outside its bounds).
   */
  readonly leftOut: { readonly missing: number; readonly outside: number };
  /** Each learned categorical feature's values among the copied rows (in no particular order). */
  readonly learned: Readonly<Record<string, readonly string[]>>;
  /**
   * customer_id values that cut the table into key ranges of about equal size, ascending (the
   * column's collation): the copy's, the points' and the membership's statements each take a run of
   * consecutive ranges.
   */
  readonly keys: readonly string[];
  /** Rows of the copy's distinct points with their counts (a point may be a row in several parts). */
  readonly points: number;
  /** The points' parts: the batches of the statements that read every point. */
  readonly parts: number;
  readonly pointsByPart: readonly number[];
  /**
   * The most bytes a customer_id can take in a JSON response, quotes and escapes included: twice its
   * length and 2 for printable ASCII, 12 bytes a character and 2 otherwise (a \uXXXX pair for a
   * character outside the BMP). Sizes the sample's pages.
   */
  readonly maxIdJsonBytes: number;
}

/** A segment's figures once a run's points are labeled (TableTraining.labelPoints); every sum counts each customer. */
export interface SegmentTotals {
  readonly customers: number;
  /** Σ squared distance to the centroid, Σ distance, Σ distance × distance. */
  readonly squaredDistanceSum: number;
  readonly distanceSum: number;
  readonly distanceSquareSum: number;
  /** Σ of each model-space value. */
  readonly modelSums: readonly number[];
  /** Σ of each numeric feature's value, every numeric feature of the snapshot's schema. */
  readonly fieldSums: Readonly<Record<string, number>>;
  /** Customers per value of each categorical feature of the snapshot's schema (values without customers left out). */
  readonly categories: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The rank requests' group of every customer of the run (the other groups are segment indexes). */
export const ALL = -1;

/** A value whose rank is wanted: rank 0 is the smallest of `group` (a segment index, or ALL for every customer). */
export interface RankRequest {
  readonly group: number;
  readonly rank: number;
}

/** A field of the customers with ranks: a numeric feature, or the distance to the centroid. */
export type RankedField = { readonly feature: string } | 'distance';

/**
 * Training from the customers table inside the database: a run's consistent copy of the table
 * (the `training_snapshots` and `training_points` tables) and the aggregates training needs from
 * it; only the sample and aggregates cross the connection (shared/sql/table-training.ts).
 */
export interface TableTraining {
  /**
   * Copies the table's rows that `schema` accepts (the mall's by default) for a new run, first
   * deleting what crashed runs left behind.
   */
  takeSnapshot(runId: string, seed: number, schema?: CustomerSchema): Promise<TrainingSnapshot>;
  /** Per model column of `features`: the mean over the run's customers, and Σ (value − mean)². */
  scalerSums(snapshot: TrainingSnapshot, features: Model['features']): Promise<{ mean: number[]; squares: number[] }>;
  /** The first `size` customers in the sample order of the snapshot's seed, page by page; `keyOf` gives a customer's sample key. */
  readSample(snapshot: TrainingSnapshot, size: number, keyOf: (customerId: string) => string): AsyncIterable<Customer[]>;
  /** One Lloyd step: per centroid index of `space`, its customers and the sums of their model-space values (k × d). */
  lloydSums(snapshot: TrainingSnapshot, space: ModelSpace): Promise<{ counts: Float64Array; sums: Float64Array }>;
  /** Labels the run's points with their nearest centroid of `space`; each segment's totals. */
  labelPoints(snapshot: TrainingSnapshot, space: ModelSpace): Promise<SegmentTotals[]>;
  /** Values of `field` at ranks, keyed `${group}:${rank}` (after labelPoints). */
  valuesAtRanks(snapshot: TrainingSnapshot, field: RankedField, requests: readonly RankRequest[]): Promise<Map<string, number>>;
  /** Customers below each edge per numeric feature, outliers per segment beyond its threshold, Σ (value − mean)² per numeric feature. */
  countsAndSquares(
    snapshot: TrainingSnapshot,
    edges: Readonly<Record<string, readonly number[]>>,
    thresholds: readonly number[],
    means: Readonly<Record<string, number>>,
  ): Promise<{ below: Record<string, number[]>; outliers: number[]; squares: Record<string, number> }>;
  /** Customers by the nearest centroid of `previous` and their segment index: counts[from][to]. */
  movement(snapshot: TrainingSnapshot, previous: ModelSpace, k: number): Promise<number[][]>;
  /** SHA-256 of the run's rows in the canonical text of csv/fingerprint.ts, rows in customer_id byte order. */
  fingerprint(snapshot: TrainingSnapshot): Promise<string>;
  /** Records as training members the run's rows whose live row still has the copied values; how many. */
  recordMembers(snapshot: TrainingSnapshot, modelVersion: string): Promise<number>;
  /** Deletes the run's copies. */
  dropSnapshot(runId: string): Promise<void>;
  /** The table's customers by label origin, and its outliers, in one pass (a training report's table figures). */
  labelCounts(): Promise<{ total: number; created: number; assigned: number; unlabeled: number; outliers: number }>;
}

/** Every database port at once: what the database adapters offer (built from the parts in shared/sql/). */
export interface Database
  extends CustomerRepository, TrainingMembers, TableTraining, UploadLedger, RunLog, LeaseLock, SchemaMigrator, TableStatusReader {}
