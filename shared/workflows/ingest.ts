// Ingest (the S3 upload trigger): a customers file through the labeling pipeline (label-file.ts),
// streamed: upserted and labeled with the active model in bounded batches while labeled.csv is
// written, then rejects.csv and summary.json. The same object (bucket, key, ETag) is processed
// once. A bad file ends in a failed summary, the table unchanged.

import { InvalidFileError, SegmentationError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import type { CustomerRepository, ModelStore, ObjectSource, ResultWriter, RunLog, TrainingMembers, UploadLedger } from '../ports.ts';
import { labelFile, type FileSource, type LabeledRowSink } from './label-file.ts';
import { TABLE_SOURCE } from './database.ts';
import { UPLOADS_CUSTOMERS_PREFIX } from '../storage-layout.ts';
import { failedSummary, type LabelSummary } from './summary.ts';
import { processOnce } from './claim.ts';

export interface IngestDeps {
  readonly objects: ObjectSource;
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
}

export type IngestOutcome =
  | { readonly status: 'processed'; readonly summary: LabelSummary }
  | { readonly status: 'duplicate'; readonly summary: unknown }
  | { readonly status: 'in-progress' }
  | { readonly status: 'superseded' };

/**
 * A claim older than this belongs to a run that died: the ingest function's timeout (5 minutes,
 * infra/) plus a minute. Lambda's retries of a timed-out run come after it, so they take over.
 */
const CLAIM_STALE_SECONDS = 6 * 60;

/** Rows upserted per call as the file streams: one bounded statement each (the repository's batch). */
const TABLE_BATCH_ROWS = 1000;

/**
 * `uploads/customers/batch 1.csv` → `batch 1`: the results folder name. The whole path under the
 * prefix is kept (`2026/01/batch`), so files of the same name in different folders do not collide.
 */
function resultName(key: string): string {
  const name = key.startsWith(UPLOADS_CUSTOMERS_PREFIX) ? key.slice(UPLOADS_CUSTOMERS_PREFIX.length) : key.slice(key.lastIndexOf('/') + 1);
  return name.replace(/\.csv$/i, '');
}

/** Processes one uploaded customers file; data problems end in a summary, never a retry. */
export async function ingestObject(deps: IngestDeps, request: IngestRequest): Promise<IngestOutcome> {
  const source = `s3://${request.bucket}/${request.key}`;
  const once = await processOnce(deps.repo, request, CLAIM_STALE_SECONDS, () => processClaimed(deps, request, source));
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
 * or unlabeled without one); with a model trained from the table, the customers it was trained on
 * are 'created' in labeled.csv too (the origin rule).
 */
function tableSink(repo: CustomerRepository & TrainingMembers, model: Model | null): LabeledRowSink {
  const none: ReadonlySet<string> = new Set();
  return {
    batchRows: TABLE_BATCH_ROWS,
    store: async (rows) => {
      if (model === null) {
        await repo.upsertCustomers(rows.map((r) => r.customer));
        return none;
      }
      await repo.upsertLabeledCustomers(
        rows.map(({ customer, assignment }) => ({ customer, assignment: assignment! })),
        model,
      );
      if (model.training.source !== TABLE_SOURCE) return none;
      return await repo.trainingMembersAmong(
        model.modelVersion,
        rows.map((r) => r.customer.customerId),
      );
    },
  };
}

async function processClaimed(deps: IngestDeps, request: IngestRequest, source: string): Promise<IngestOutcome> {
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
    const active = await deps.store.getActive();
    const model: Model | null = active === null ? null : await deps.store.getModel(active.modelVersion);
    summary = await labelFile({ open, source, model, startedAt, clock: deps.clock, sink: tableSink(deps.repo, model) }, writer);
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
  await deps.repo.recordIngested(bucket, key, etag, summary);
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
  );
  deps.log(summary.status === 'ok' ? 'ingested' : 'the file could not be read', { ...summary });
  return { status: 'processed', summary };
}
