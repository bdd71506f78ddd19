// Training from an uploaded file: claim the object once (an upload event may be delivered again),
// train, publish (promote when asked, when AUTO_PROMOTE, or when none is active), record in the
// ledger and the runs, then write the report, and summarise. The train function runs it for
// `uploads/training/*.csv`; a request without an ETag (a direct invocation) trains unclaimed.

import * as z from 'zod';
import { readCustomerColumns, type CustomerColumnsCsv } from '../csv/read-customers.ts';
import type { CustomerSchema } from '../schema/customer-schema.ts';
import { NotFoundError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import type { ModelStore, ObjectSource, RunLog, UploadLedger } from '../ports.ts';
import { processOnce } from './claim.ts';
import { claimStaleSeconds, TRAIN_LIMITS } from '../function-limits.ts';
import { activeModel, publishModel, type Published } from './promote.ts';
import { trainModel, trainingDataFromCsv, type TrainOptions } from './train.ts';

/** What training from a file, from the table, or a failed attempt at either comes to. */
const TrainSummarySchema = z
  .object({
    status: z.enum(['ok', 'failed']),
    error: z.string().nullable(),
    source: z.string(),
    modelVersion: z.string().nullable(),
    k: z.number().int().positive().nullable(),
    promoted: z.boolean(),
    modelUri: z.string().nullable(),
    warnings: z.array(z.string()).readonly(),
    rowsRead: z.number().int().nonnegative(),
    rowsAccepted: z.number().int().nonnegative(),
    rowsRejected: z.number().int().nonnegative(),
    /** True when this upload had already been trained on (a redelivered event): nothing was done. */
    duplicate: z.boolean().optional(),
  })
  .readonly();
export type TrainSummary = z.infer<typeof TrainSummarySchema>;

/** The summary of training that could not happen (`error` says why, for a person). */
export function failedTrainSummary(source: string, error: string): TrainSummary {
  return {
    status: 'failed',
    error,
    source,
    modelVersion: null,
    k: null,
    promoted: false,
    modelUri: null,
    warnings: [],
    rowsRead: 0,
    rowsAccepted: 0,
    rowsRejected: 0,
  };
}

/** The summary of a published model. */
export function okTrainSummary(
  source: string,
  model: Model,
  published: { modelUri: string; promoted: boolean },
  rows: { read: number; rejected: number },
): TrainSummary {
  return {
    status: 'ok',
    error: null,
    source,
    modelVersion: model.modelVersion,
    k: model.k,
    promoted: published.promoted,
    modelUri: published.modelUri,
    warnings: model.warnings,
    rowsRead: rows.read,
    rowsAccepted: model.training.rowsAccepted,
    rowsRejected: rows.rejected,
  };
}

/** A claim older than this belongs to a run that died: the train function's timeout, and a minute (function-limits.ts). */
const TRAIN_CLAIM_STALE_SECONDS = claimStaleSeconds(TRAIN_LIMITS);

export interface TrainUploadDeps {
  readonly objects: ObjectSource;
  readonly store: ModelStore;
  readonly ledger: UploadLedger;
  readonly runs: RunLog;
  readonly clock: () => Date;
  readonly log: (message: string, details?: Record<string, unknown>) => void;
  /** The deployment's customer schema, which uploaded files follow (default: the mall's). */
  readonly schema?: CustomerSchema;
}

export interface TrainUploadRequest {
  readonly bucket: string;
  readonly key: string;
  /** The ETag of the upload event: only that version is read, and it trains once. */
  readonly etag?: string | undefined;
}

export interface PublishChoice {
  /** Promote the new model: true / false, or undefined to follow `autoPromote`. */
  readonly promote: boolean | undefined;
  readonly autoPromote: boolean;
}

/**
 * Trains a model version from an uploaded CSV and publishes it. Data problems throw the project's
 * user-facing errors (the caller turns them into a failed summary); the model, once published, is
 * recorded before the report is written, so that a failure after it never trains again.
 */
export async function trainUpload(
  deps: TrainUploadDeps,
  request: TrainUploadRequest,
  options: TrainOptions & PublishChoice,
): Promise<TrainSummary> {
  const source = `s3://${request.bucket}/${request.key}`;
  const { etag } = request;
  if (etag === undefined) return await trainClaimed(deps, request, source, options);
  const once = await processOnce(deps.ledger, { ...request, etag }, TRAIN_CLAIM_STALE_SECONDS, () =>
    trainClaimed(deps, request, source, options),
  );
  if (once.state === 'processed') return once.result;
  deps.log('this upload was already trained on, or is being trained on; nothing to do', { source, etag });
  return { ...earlierSummary(once, source), duplicate: true };
}

/** What the ledger says of an upload trained on before (or being trained on now), as a summary. */
function earlierSummary(once: { state: 'done'; summary: unknown } | { state: 'in-progress' }, source: string): TrainSummary {
  if (once.state === 'in-progress') return failedTrainSummary(source, 'another delivery of this upload is training on it');
  const stored = TrainSummarySchema.safeParse(once.summary);
  return stored.success
    ? stored.data
    : failedTrainSummary(source, 'this upload was trained on before, but the record of that training cannot be read');
}

/**
 * Trains on the accepted rows of a read CSV (a model matched to the active one, when there is one)
 * and publishes it: stored, and promoted when asked, when `autoPromote`, or when none is active.
 * The one training path of an uploaded file (the train function) and a local file (`segments train`).
 */
export async function trainAndPublish(
  store: ModelStore,
  csv: CustomerColumnsCsv,
  source: string,
  options: TrainOptions & PublishChoice,
  clock: () => Date,
): Promise<{ model: Model; published: Published }> {
  const model = trainModel(trainingDataFromCsv(csv, source), options, clock(), await activeModel(store));
  return { model, published: await publishModel(store, model, { ...options, now: clock }) };
}

async function trainClaimed(
  deps: TrainUploadDeps,
  request: TrainUploadRequest,
  source: string,
  options: TrainOptions & PublishChoice,
): Promise<TrainSummary> {
  const { store, clock } = deps;
  const object = await deps.objects.open(request.key, request.etag);
  if (object === null) throw new NotFoundError(`${source} does not exist (or was replaced since this event)`);
  const csv = await readCustomerColumns(object.body, { schema: deps.schema });
  const { model, published } = await trainAndPublish(store, csv, source, options, clock);
  const summary = okTrainSummary(source, model, published, { read: csv.rowsRead, rejected: csv.rejected.length });
  // the model is published: from here a retry must not train again
  if (request.etag !== undefined) await deps.ledger.recordIngested(request.bucket, request.key, request.etag, summary);
  await deps.runs.recordRun(
    {
      kind: 'train',
      modelVersion: model.modelVersion,
      status: 'ok',
      rowsRead: csv.rowsRead,
      rowsAccepted: csv.columns.length,
      rowsRejected: csv.rejected.length,
    },
    clock(),
  );
  try {
    // loaded on demand, so that a run that only promotes or rolls back does not load the charts
    const { writeReport } = await import('./report.ts');
    await writeReport(store, model, csv.columns);
  } catch (error) {
    // the model is usable without its report; say so rather than train again on a retry
    deps.log('the report could not be written', { modelVersion: model.modelVersion, error: String(error) });
    return { ...summary, warnings: [...summary.warnings, 'the report could not be written; see the function log'] };
  }
  return summary;
}
