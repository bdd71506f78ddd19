// Train function: an upload under uploads/training/ or a direct invocation ({"source": ...}) →
// a new model version under models/, promoted when asked, when AUTO_PROMOTE, or when none is active.
// Also the model lifecycle by direct invocation: {"promote": "<version>"} and {"rollback": true}.

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvalidOptionError } from '../../shared/errors.ts';
import { METRIC } from '../../shared/metrics.ts';
import { UPLOADS_TRAINING_PREFIX } from '../../shared/storage-layout.ts';
import { promoteModel, rollbackModel } from '../../shared/workflows/promote.ts';
import { trainFromTable } from '../../shared/workflows/train-table.ts';
import { failedTrainSummary, okTrainSummary, trainUpload, type TrainSummary } from '../../shared/workflows/train-upload.ts';
import { putText } from '../adapters/s3-objects.ts';
import {
  LifecycleRequestSchema,
  S3EventSchema,
  s3Objects,
  TrainRequestSchema,
  type LifecycleRequest,
  type TrainRequest,
} from '../events.ts';
import { observedHandler, type Handler } from '../invocation.ts';
import { reportDataProblems } from '../outcome.ts';
import { handlerFromEnv, type Runtime } from '../runtime.ts';
import { trainingSummaryKey, type LifecycleSummary, type TrainResponse } from './summary.ts';

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

async function trainOne(runtime: Runtime, request: TrainRequest): Promise<TrainSummary> {
  const { config, store, repo, clock, logger } = runtime;
  const source = request.source === 'database' ? 'table customers' : `s3://${request.source.bucket}/${request.source.key}`;
  const options = { k: request.k ?? 'auto', promote: request.promote, autoPromote: config.AUTO_PROMOTE } as const;
  return await reportDataProblems(
    async () => {
      if (request.source === 'database') {
        const outcome = await trainFromTable({ repo, store, clock, log: (message) => logger.info(message) }, options);
        return okTrainSummary(source, outcome.model, outcome, { read: outcome.model.training.rowsRead, rejected: 0 });
      }
      const { bucket, key } = request.source;
      if (bucket !== config.DATA_BUCKET)
        throw new InvalidOptionError(`the training file must be in the data bucket ${config.DATA_BUCKET}, not ${bucket}`);
      if (!key.startsWith(UPLOADS_TRAINING_PREFIX))
        throw new InvalidOptionError(`training files go under ${UPLOADS_TRAINING_PREFIX}, not ${key}`);
      const log = (message: string, details?: Record<string, unknown>) => logger.info(message, { ...details });
      const deps = { objects: runtime.objects, store, ledger: repo, runs: repo, clock, log, schema: repo.schema };
      return await trainUpload(deps, { bucket, key, etag: request.etag }, options);
    },
    (error) => failedTrainSummary(source, error),
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

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createTrainHandler(runtime: Runtime): Handler<unknown, TrainResponse> {
  return observedHandler(runtime, async (event) => {
    const change = LifecycleRequestSchema.safeParse(event);
    if (change.success) return await lifecycle(runtime, change.data);
    const parsed = await reportDataProblems<TrainRequest[] | string>(
      async () => requests(event, runtime.config.DATA_BUCKET),
      (error) => error,
    );
    if (typeof parsed === 'string') {
      runtime.logger.error('train request refused', { error: parsed });
      return failedTrainSummary('', parsed);
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
  });
}

export const handler = handlerFromEnv(createTrainHandler);
