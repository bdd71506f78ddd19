// Ports the workflows are written against. Adapters live in functions/adapters/; the database
// ports are implemented once over SqlClient in shared/sql/, one file per concern.

import type { Customer } from './csv/contract.ts';
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

/** The customers table: customers in, customers out, and their labels (the `customers` table). */
export interface CustomerRepository {
  /**
   * Inserts new customers and updates changed ones. A customer whose values changed loses its label
   * (it waits for the active model again); identical rows are left untouched.
   */
  upsertCustomers(customers: readonly Customer[]): Promise<UpsertCounts>;
  /**
   * Upserts customers together with their labels from `model` (ingest). A row is written when it is
   * new, its values changed, or it is not yet labeled by this model; origin follows the origin rule.
   */
  upsertLabeledCustomers(items: ReadonlyArray<{ customer: Customer; assignment: Assignment }>, model: Model): Promise<UpsertCounts>;
  /** Every customer, in key order, page by page (bounded responses). */
  readCustomers(pageSize?: number): AsyncIterable<Customer[]>;
  /** The customers of one segment of a model, with their labels (the table's columns), in key order, page by page. */
  readSegment(modelVersion: string, segment: number, pageSize?: number): AsyncIterable<SqlRow[]>;
  /** Customers waiting for the active model: never labeled, or labeled by another model (null: none active, so never labeled). */
  countPending(modelVersion: string | null): Promise<number>;
  /** Labels the next `batchSize` waiting customers after the key `after` in the database; null when none are left. */
  labelNextBatch(model: Model, after: string, batchSize: number): Promise<LabeledBatch | null>;
  /** The population `model` serves: created / assigned counts and the assigned customers' bins. */
  observePopulation(model: Model): Promise<ObservedPopulation>;
}

/** Which customers a table-trained model was trained on; the origin rule needs it (the `training_members` table). */
export interface TrainingMembers {
  /** Records a model's training customers; returns how many were new to the record. */
  recordTrainingMembers(modelVersion: string, customerIds: readonly string[]): Promise<number>;
  /** The current rows of a model's training customers, in key order, page by page. */
  readTrainingMembers(modelVersion: string, pageSize?: number): AsyncIterable<Customer[]>;
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

/** What a claim on an uploaded object found: this caller may process it, or what the ledger says. */
export type ObjectClaim =
  { readonly state: 'claimed' } | { readonly state: 'done'; readonly summary: unknown } | { readonly state: 'in-progress' };

/** The ledger of uploaded objects (bucket, key, ETag) processed once each (the `ingested_objects` table). */
export interface UploadLedger {
  /** Claims the object for processing; a claim older than `staleSeconds` belongs to a dead run and is taken over. */
  claimObject(bucket: string, key: string, etag: string, staleSeconds: number): Promise<ObjectClaim>;
  /** Records the outcome: later deliveries of the same object find it 'done' with this summary. */
  recordIngested(bucket: string, key: string, etag: string, summary: unknown): Promise<void>;
  /** Gives up an unfinished claim, so that a retry processes the object. */
  releaseObject(bucket: string, key: string, etag: string): Promise<void>;
}

/** Every database port at once: what the database adapters offer (built from the parts in shared/sql/). */
export interface Database extends CustomerRepository, TrainingMembers, UploadLedger, RunLog, LeaseLock, SchemaMigrator, TableStatusReader {}
