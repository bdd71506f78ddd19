// Ports the workflows are written against. Adapters live in functions/adapters/.

import type { ActivePointer, Model } from './model/artifact.ts';

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
