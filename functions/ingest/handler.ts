// Ingest function (S3 upload trigger on uploads/customers/*.csv): each record of the event is
// validated, upserted and labeled with the active model; results go under results/customers/.
// By direct invocation, {"export": {"segment": …}} writes a campaign list under results/exports/.

import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../shared/metrics.ts';
import { ingestObject, type IngestOutcome } from '../../shared/workflows/ingest.ts';
import { EXPORTS_PREFIX, UPLOADS_CUSTOMERS_PREFIX } from '../../shared/storage-layout.ts';
import { ExportRequestSchema, S3EventSchema, s3Objects } from '../events.ts';
import { putText } from '../adapters/s3-objects.ts';
import { reportDataProblems } from '../outcome.ts';
import { InvalidOptionError } from '../../shared/errors.ts';
import { exportSegment, findSegment, type ExportOutcome } from '../../shared/workflows/export.ts';
import { activeModel } from '../../shared/workflows/promote.ts';
import { observedHandler, type Handler } from '../invocation.ts';
import { handlerFromEnv, type Runtime } from '../runtime.ts';

export interface IngestResult {
  readonly key: string;
  readonly outcome: IngestOutcome | { status: 'ignored'; reason: string };
}

/** {"export": {"segment": 3 | "name"}}: the active model's segment as a campaign list under results/exports/. */
export interface ExportSummary {
  readonly status: 'ok' | 'failed';
  readonly error: string | null;
  readonly outcome: ExportOutcome | null;
}

/** What the ingest function returns for one event. */
export interface IngestResponse {
  readonly results: IngestResult[];
  readonly export?: ExportSummary;
}

async function exportRequest(runtime: Runtime, selector: string | number): Promise<ExportSummary> {
  return await reportDataProblems<ExportSummary>(
    async () => {
      const model = await activeModel(runtime.store);
      if (model === null) throw new InvalidOptionError('no active model: train and promote one first');
      const outcome = await exportSegment(runtime.repo, model, selector, (content) =>
        putText(
          runtime.s3,
          runtime.config.DATA_BUCKET,
          `${EXPORTS_PREFIX}segment-${findSegment(model, selector).id}/customers.csv`,
          content,
          'text/csv; charset=utf-8',
        ),
      );
      runtime.logger.info('segment exported', { ...outcome });
      return { status: 'ok', error: null, outcome };
    },
    (error) => ({ status: 'failed', error, outcome: null }),
  );
}

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createIngestHandler(runtime: Runtime): Handler<unknown, IngestResponse> {
  const log = (logger: Logger) => (message: string, details?: Record<string, unknown>) => logger.info(message, details ?? {});
  return observedHandler(runtime, async (event: unknown, context): Promise<IngestResponse> => {
    const exporting = ExportRequestSchema.safeParse(event);
    if (exporting.success) return { results: [], export: await exportRequest(runtime, exporting.data.export.segment) };
    const parsed = S3EventSchema.safeParse(event);
    if (!parsed.success) {
      runtime.logger.error('not an S3 event; nothing to ingest', { event: JSON.stringify(event).slice(0, 500) });
      return { results: [] };
    }
    const results: IngestResult[] = [];
    for (const object of s3Objects(parsed.data)) {
      if (object.bucket !== runtime.config.DATA_BUCKET || !object.key.startsWith(UPLOADS_CUSTOMERS_PREFIX) || object.etag === undefined) {
        results.push({
          key: object.key,
          outcome: { status: 'ignored', reason: `not a customers upload in ${runtime.config.DATA_BUCKET}/${UPLOADS_CUSTOMERS_PREFIX}` },
        });
        continue;
      }
      const outcome = await ingestObject(
        { ...runtime, log: log(runtime.logger) },
        // the request id is the claim's: Lambda retries a failed invocation with the same one, which resumes it
        { bucket: object.bucket, key: object.key, etag: object.etag, claimId: context?.awsRequestId },
      );
      if (outcome.status === 'processed') {
        const { summary } = outcome;
        runtime.metrics.addMetric(METRIC.rowsRead, MetricUnit.Count, summary.rowsRead);
        runtime.metrics.addMetric(METRIC.rowsRejected, MetricUnit.Count, summary.rowsRejected);
        runtime.metrics.addMetric(METRIC.outliers, MetricUnit.Count, summary.outliers);
        runtime.metrics.addMetric(summary.status === 'ok' ? METRIC.filesIngested : METRIC.filesFailed, MetricUnit.Count, 1);
      }
      results.push({ key: object.key, outcome });
    }
    return { results };
  });
}

export const handler = handlerFromEnv(createIngestHandler);
