// Ingest (the S3 upload trigger): a customers file through the labeling pipeline (label-file.ts),
// streamed: upserted and labeled with the active model in bounded batches, several at once, while
// labeled.csv and rejects.csv are written, then summary.json. The same object (bucket, key, ETag)
// is processed once; a run that dies is resumed by the next after its last stored batch, with the
// model it started with. A bad file ends in a failed summary, the table unchanged. The file is read
// with the customers table's schema (every feature column is written); the model labels from the
// features it has among them.

import * as z from 'zod';
import { InvalidFileError, ModelError, SegmentationError } from '../errors.ts';
import { claimStaleSeconds, INGEST_LIMITS } from '../function-limits.ts';
import type { Model } from '../model/artifact.ts';
import {
  uploadBatchRows,
  type CustomerRepository,
  type ModelStore,
  type ObjectSource,
  type ResultWriter,
  type RunLog,
  type TrainingMembers,
  type UploadLedger,
  type UploadRef,
} from '../ports.ts';
import type { CustomerSchema } from '../schema/customer-schema.ts';
import { labelFile, type FileSource, type LabeledRowSink } from './label-file.ts';
import { TABLE_SOURCE } from './database.ts';
import { UPLOADS_CUSTOMERS_PREFIX } from '../storage-layout.ts';
import { failedSummary, type LabelSummary } from './summary.ts';
import { processOnce } from './claim.ts';

export interface IngestDeps {
  readonly objects: ObjectSource;
  /** The customers table; its `schema` is what files are read with. */
  readonly repo: CustomerRepository & TrainingMembers & UploadLedger & RunLog;
  readonly store: ModelStore;
  /** The writer for one file's results (`results/customers/<name>/`). */
  readonly results: (name: string) => ResultWriter;
  readonly clock: () => Date;
  readonly log: (message: string, details?: Record<string, unknown>) => void;
}

export interface IngestRequest {
  readonly bucket: string;
  readonly key: string;
  /** The ETag from the event; the object is read only in this version. */
  readonly etag: string;
  /**
   * The invocation's id (Lambda's request id, which Lambda's retries of the invocation keep): its
   * retry resumes the run at once; another delivery of the same object finds it in progress.
   */
  readonly claimId?: string;
}

export type IngestOutcome =
  | { readonly status: 'processed'; readonly summary: LabelSummary }
  | { readonly status: 'duplicate'; readonly summary: unknown }
  | { readonly status: 'in-progress' }
  | { readonly status: 'superseded' };

/**
 * A claim older than this belongs to a run that died: the ingest function's timeout and a minute
 * (function-limits.ts). A retry of the same invocation does not wait for it (the claim id).
 */
const CLAIM_STALE_SECONDS = claimStaleSeconds(INGEST_LIMITS);

/**
 * Batches stored at once. With 50 ms per Data API call, one at a time leaves the database waiting
 * on the network; a few at once keep it busy, and then it is the limit. Measured (npm run bench's
 * ingest, 2 cores shared with other work): 2·10⁵ rows 26.8 s with 1, 14.4 s with 4, 13.6 s with 8;
 * 10⁶ rows 73 s with 4, 75 s with 8. Four, as the CLI's pg pool has connections.
 */
const STORE_IN_FLIGHT = 4;

/**
 * What a run records in its claim: the model it labels with (null: none active) and its batch size,
 * kept for a run that resumes it. Batches are numbered in rows of that size: a run of a version
 * that batches otherwise stores every batch again (harmless: a batch stored twice is stored once).
 */
const StartedWithSchema = z.object({ modelVersion: z.string().nullable(), batchRows: z.number().optional() });
type StartedWith = z.infer<typeof StartedWithSchema>;

/**
 * `uploads/customers/batch 1.csv` → `batch 1`: the results folder name. The whole path under the
 * prefix is kept (`2026/01/batch`), so files of the same name in different folders do not collide.
 */
function resultName(key: string): string {
  const name = key.startsWith(UPLOADS_CUSTOMERS_PREFIX) ? key.slice(UPLOADS_CUSTOMERS_PREFIX.length) : key.slice(key.lastIndexOf('/') + 1);
  return name.replace(/\.csv$/i, '');
}

/**
 * Refuses a model that cannot label rows of the table's schema: a feature it uses that the schema
 * lacks, or has as another kind (the schema changed since the model was trained). A ModelError in
 * one line, before the upload is claimed: the table is unchanged, and the event can be delivered
 * again once a model trained on the table's columns is active.
 */
function checkModelFits(model: Model, schema: CustomerSchema): void {
  const kinds = new Map(schema.features.map((f) => [f.name, f.kind]));
  const misfits = model.features.filter((f) => kinds.get(f.name) !== f.kind).map((f) => f.name);
  if (misfits.length === 0) return;
  throw new ModelError(
    `the active model ${model.modelVersion} uses ${misfits.join(', ')}, which the customers table's schema (${schema.name}) ` +
      `no longer has as it was trained on: retrain on the table's current columns (or promote a model trained on them), then upload the file again`,
  );
}

/** Processes one uploaded customers file; data problems end in a summary, never a retry. */
export async function ingestObject(deps: IngestDeps, request: IngestRequest): Promise<IngestOutcome> {
  const source = `s3://${request.bucket}/${request.key}`;
  const { bucket, key, etag, claimId } = request;
  const active = await deps.store.getActive();
  const activeModel = active === null ? null : await deps.store.getModel(active.modelVersion);
  if (activeModel !== null) checkModelFits(activeModel, deps.repo.schema);
  const startedWith: StartedWith = { modelVersion: active?.modelVersion ?? null, batchRows: uploadBatchRows(deps.repo.schema) };
  const once = await processOnce(
    deps.repo,
    { bucket, key, etag },
    CLAIM_STALE_SECONDS,
    // a run that resumes another labels with the model the first one started with, not a newer one:
    // the rows stored before and after agree
    (recorded) => processClaimed(deps, request, source, StartedWithSchema.safeParse(recorded).data ?? startedWith, activeModel),
    { claimId, startedWith },
  );
  if (once.state === 'done') {
    deps.log('already processed; nothing to do', { source, etag: request.etag });
    return { status: 'duplicate', summary: once.summary };
  }
  if (once.state === 'in-progress') {
    deps.log('another delivery of this upload is processing it; nothing to do', { source, etag: request.etag });
    return { status: 'in-progress' };
  }
  return once.result;
}

/** The uploaded object was replaced or deleted since its event (between the passes, too). */
class UploadReplacedError extends SegmentationError {}

/**
 * The customers table as the labeling pipeline's sink: each batch upserted (labeled with the model,
 * or unlabeled without one) and recorded done in one statement, STORE_IN_FLIGHT at once; a batch an
 * earlier run stored (`done`) is not stored again. With a model trained from the table, the
 * customers it was trained on are 'created' in labeled.csv too (the origin rule).
 */
function tableSink(
  repo: CustomerRepository & TrainingMembers,
  upload: UploadRef,
  model: Model | null,
  done: ReadonlySet<number>,
): LabeledRowSink {
  const none: ReadonlySet<string> = new Set();
  return {
    batchRows: uploadBatchRows(repo.schema),
    inFlight: STORE_IN_FLIGHT,
    store: async (rows, batch) => {
      if (!done.has(batch)) return (await repo.storeUploadBatch(upload, batch, rows, model)).created;
      if (model === null || model.training.source !== TABLE_SOURCE) return none;
      return await repo.trainingMembersAmong(
        model.modelVersion,
        rows.map((r) => r.customer.customerId),
      );
    },
  };
}

async function processClaimed(
  deps: IngestDeps,
  request: IngestRequest,
  source: string,
  startedWith: StartedWith,
  activeModel: Model | null,
): Promise<IngestOutcome> {
  const { bucket, key, etag } = request;
  const startedAt = deps.clock();
  const writer = deps.results(resultName(key));
  // the file is read twice (the duplicate rule is settled before the table sees a row), in the
  // version its event names
  const open = async (): Promise<FileSource> => {
    const object = await deps.objects.open(key, etag);
    if (object === null) throw new UploadReplacedError('the object changed or was deleted since this event');
    return object.body;
  };
  let summary: LabelSummary;
  try {
    const version = startedWith.modelVersion;
    const model = version === null ? null : version === activeModel?.modelVersion ? activeModel : await deps.store.getModel(version);
    if (model !== null) checkModelFits(model, deps.repo.schema);
    const batchRows = uploadBatchRows(deps.repo.schema);
    const done = startedWith.batchRows === batchRows ? await deps.repo.doneBatches(bucket, key, etag) : new Set<number>();
    if (done.size > 0)
      deps.log('resuming an earlier run: the batches it stored are not stored again', { source, etag, batches: done.size });
    const sink = tableSink(deps.repo, { bucket, key, etag }, model, done);
    summary = await labelFile({ open, source, model, schema: deps.repo.schema, startedAt, clock: deps.clock, sink }, writer);
  } catch (error) {
    if (error instanceof UploadReplacedError) {
      deps.log('the object changed or was deleted since this event; the newer upload has its own event', { source, etag });
      await deps.repo.recordIngested(bucket, key, etag, { status: 'superseded' });
      return { status: 'superseded' };
    }
    if (!(error instanceof InvalidFileError)) throw error;
    summary = failedSummary(source, error.message, startedAt, deps.clock());
    // an earlier upload of the same name may have left outputs: a failed file has none
    await writer.remove('labeled.csv');
    await writer.remove('rejects.csv');
    await writer.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  }
  // the run first, under a key of the object: a retry after a failure between the two records it once
  await deps.repo.recordRun(
    {
      kind: 'ingest',
      modelVersion: summary.modelVersion,
      status: summary.status,
      rowsRead: summary.rowsRead,
      rowsAccepted: summary.rowsAccepted,
      rowsRejected: summary.rowsRejected,
      labeled: summary.modelVersion === null ? 0 : summary.rowsAccepted,
      outliers: summary.outliers,
      error: summary.error,
    },
    startedAt,
    `ingest:${bucket}:${etag}:${key}`,
  );
  await deps.repo.recordIngested(bucket, key, etag, summary);
  deps.log(summary.status === 'ok' ? 'ingested' : 'the file could not be read', { ...summary });
  return { status: 'processed', summary };
}
