// The train function's work (loaded by handler.ts on the first invocation): an upload under
// uploads/training/ or a direct invocation ({"source": ...}) → a new model version under models/,
// promoted when asked, when AUTO_PROMOTE, or when none is active. Also the model lifecycle by
// direct invocation: {"promote": "<version>"} and {"rollback": true}.

import { readCustomerColumns } from '../../shared/csv/read-customers.ts';
import { InvalidOptionError, NotFoundError } from '../../shared/errors.ts';
import { trainFromTable } from '../../shared/workflows/train-table.ts';
import { activeModel, promoteModel, publishModel, rollbackModel } from '../../shared/workflows/promote.ts';
import { trainModel, trainingDataFromCsv } from '../../shared/workflows/train.ts';
import type { Model } from '../../shared/model/artifact.ts';
import {
  LifecycleRequestSchema,
  S3EventSchema,
  s3Objects,
  TrainRequestSchema,
  type LifecycleRequest,
  type TrainRequest,
} from '../events.ts';
import { reportDataProblems } from '../outcome.ts';
import type { Runtime } from '../runtime.ts';
import { trainingSummaryKey, type LifecycleSummary, type TrainResponse, type TrainSummary } from './summary.ts';
import { putText } from '../adapters/s3-objects.ts';
import { UPLOADS_TRAINING_PREFIX } from '../../shared/storage-layout.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../shared/metrics.ts';

function requests(event: unknown, bucket: string): TrainRequest[] {
  const s3 = S3EventSchema.safeParse(event);
  if (s3.success) return s3Objects(s3.data).map((o) => ({ source: { bucket: o.bucket, key: o.key }, etag: o.etag }));
  const direct = TrainRequestSchema.safeParse(event);
  if (!direct.success)
    throw new InvalidOptionError(
      `not a train request: expected an S3 event or {"source": {"bucket": "${bucket}", "key": "..."}} or {"source": "database"}`,
    );
  return [direct.data];
}

function failedSummary(source: string, error: string): TrainSummary {
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

function okSummary(
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

/** A claim older than the train function's timeout (15 minutes, infra/) plus a minute is from a dead run. */
const TRAIN_CLAIM_STALE_SECONDS = 16 * 60;

async function trainFromUpload(
  runtime: Runtime,
  location: { bucket: string; key: string },
  source: string,
  options: { k: number | 'auto'; promote: boolean | undefined; autoPromote: boolean },
  etag: string | undefined,
): Promise<TrainSummary> {
  const { store, repo, clock, logger } = runtime;
  const object = await runtime.objects.open(location.key, etag);
  if (object === null) throw new NotFoundError(`${source} does not exist (or was replaced since this event)`);
  const csv = await readCustomerColumns(object.body);
  const model = trainModel(trainingDataFromCsv(csv, source), options, clock(), await activeModel(store));
  const published = await publishModel(store, model, { ...options, now: clock });
  const summary = okSummary(source, model, published, { read: csv.rowsRead, rejected: csv.rejected.length });
  // the model is published: from here a retry must not train again
  if (etag !== undefined) await repo.recordIngested(location.bucket, location.key, etag, summary);
  await repo.recordRun(
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
    // loaded on demand, so a cold start that only promotes or rolls back does not load the charts
    const { writeReport } = await import('../../shared/workflows/report.ts');
    await writeReport(store, model, csv.columns);
  } catch (error) {
    // the model is usable without its report; say so rather than train again on a retry
    logger.error('the report could not be written', { modelVersion: model.modelVersion, error: String(error) });
    return { ...summary, warnings: [...summary.warnings, 'the report could not be written; see the function log'] };
  }
  return summary;
}

async function trainOne(runtime: Runtime, request: TrainRequest): Promise<TrainSummary> {
  const { config, store, repo, clock, logger } = runtime;
  const source = request.source === 'database' ? 'table customers' : `s3://${request.source.bucket}/${request.source.key}`;
  const options = { k: request.k ?? 'auto', promote: request.promote, autoPromote: config.AUTO_PROMOTE } as const;
  return await reportDataProblems(
    async () => {
      if (request.source === 'database') {
        const outcome = await trainFromTable({ repo, store, clock, log: (message) => logger.info(message) }, options);
        return okSummary(source, outcome.model, outcome, { read: outcome.model.training.rowsRead, rejected: 0 });
      }
      const { bucket, key } = request.source;
      if (bucket !== config.DATA_BUCKET)
        throw new InvalidOptionError(`the training file must be in the data bucket ${config.DATA_BUCKET}, not ${bucket}`);
      if (!key.startsWith(UPLOADS_TRAINING_PREFIX))
        throw new InvalidOptionError(`training files go under ${UPLOADS_TRAINING_PREFIX}, not ${key}`);
      // an upload event is delivered at least once: the same object (key and ETag) trains once
      const { etag } = request;
      if (etag !== undefined) {
        const claim = await repo.claimObject(bucket, key, etag, TRAIN_CLAIM_STALE_SECONDS);
        if (claim.state !== 'claimed') {
          logger.info('this upload was already trained on, or is being trained on; nothing to do', { source, etag });
          const earlier =
            claim.state === 'done'
              ? (claim.summary as TrainSummary)
              : failedSummary(source, 'another delivery of this upload is training on it');
          return { ...earlier, duplicate: true };
        }
      }
      try {
        return await trainFromUpload(runtime, request.source, source, options, etag);
      } catch (error) {
        // failed before the model was published: give the claim back so that Lambda's retry trains
        if (etag !== undefined) await repo.releaseObject(bucket, key, etag).catch(() => undefined);
        throw error;
      }
    },
    (error) => failedSummary(source, error),
  );
}

/** {"promote": "<version>"} or {"rollback": true}: move the active model; the nightly run relabels. */
async function lifecycle(runtime: Runtime, request: LifecycleRequest): Promise<LifecycleSummary> {
  return await reportDataProblems<LifecycleSummary>(
    async () => {
      const now = runtime.clock();
      const active =
        'promote' in request ? await promoteModel(runtime.store, request.promote, now) : await rollbackModel(runtime.store, now);
      runtime.logger.info('active model changed', { ...active });
      return { status: 'ok', error: null, active };
    },
    (error) => ({ status: 'failed', error, active: null }),
  );
}

export function createTrainHandler(runtime: Runtime) {
  return async (event: unknown): Promise<TrainResponse> => {
    const change = LifecycleRequestSchema.safeParse(event);
    if (change.success) return await lifecycle(runtime, change.data);
    const parsed = await reportDataProblems<TrainRequest[] | string>(
      async () => requests(event, runtime.config.DATA_BUCKET),
      (error) => error,
    );
    if (typeof parsed === 'string') {
      runtime.logger.error('train request refused', { error: parsed });
      return failedSummary('', parsed);
    }
    const summaries: TrainSummary[] = [];
    for (const request of parsed) {
      const summary = await trainOne(runtime, request);
      runtime.logger[summary.status === 'ok' ? 'info' : 'error']('train finished', { ...summary });
      if (typeof request.source !== 'string' && request.etag !== undefined && !summary.duplicate) {
        // an uploaded training file gets a summary beside the results, so a bad file is visible
        await putText(
          runtime.s3,
          runtime.config.DATA_BUCKET,
          trainingSummaryKey(request.source.key),
          `${JSON.stringify(summary, null, 2)}\n`,
          'application/json',
        );
        runtime.metrics.addMetric(summary.status === 'ok' ? METRIC.trainingFilesTrained : METRIC.trainingFilesFailed, MetricUnit.Count, 1);
      }
      summaries.push(summary);
    }
    return summaries.length === 1 ? summaries[0]! : { results: summaries };
  };
}
