// Ingest function (S3 upload trigger on uploads/customers/*.csv): each record of the event is
// validated, upserted and labeled with the active model; results go under results/customers/.

import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ingestObject, type IngestOutcome } from '../../shared/workflows/ingest.ts';
import { S3EventSchema, s3Objects } from '../events.ts';
import { lazyHandler, type Runtime } from '../runtime.ts';

export const CUSTOMERS_PREFIX = 'uploads/customers/';

export interface IngestResult {
  readonly key: string;
  readonly outcome: IngestOutcome | { status: 'ignored'; reason: string };
}

export function createIngestHandler(runtime: Runtime) {
  const log = (logger: Logger) => (message: string, details?: Record<string, unknown>) => logger.info(message, details ?? {});
  return async (event: unknown): Promise<{ results: IngestResult[] }> => {
    const parsed = S3EventSchema.safeParse(event);
    if (!parsed.success) {
      runtime.logger.error('not an S3 event; nothing to ingest', { event: JSON.stringify(event).slice(0, 500) });
      return { results: [] };
    }
    const results: IngestResult[] = [];
    for (const object of s3Objects(parsed.data)) {
      if (object.bucket !== runtime.config.DATA_BUCKET || !object.key.startsWith(CUSTOMERS_PREFIX) || object.etag === undefined) {
        results.push({ key: object.key, outcome: { status: 'ignored', reason: `not a customers upload in ${runtime.config.DATA_BUCKET}/${CUSTOMERS_PREFIX}` } });
        continue;
      }
      const outcome = await ingestObject(
        { ...runtime, log: log(runtime.logger) },
        { bucket: object.bucket, key: object.key, etag: object.etag },
      );
      if (outcome.status === 'processed') {
        const { summary } = outcome;
        runtime.metrics.addMetric('RowsRead', MetricUnit.Count, summary.rowsRead);
        runtime.metrics.addMetric('RowsRejected', MetricUnit.Count, summary.rowsRejected);
        runtime.metrics.addMetric('Outliers', MetricUnit.Count, summary.outliers);
        runtime.metrics.addMetric(summary.status === 'ok' ? 'FilesIngested' : 'FilesFailed', MetricUnit.Count, 1);
      }
      results.push({ key: object.key, outcome });
    }
    runtime.metrics.publishStoredMetrics();
    return { results };
  };
}

export const handler = lazyHandler(createIngestHandler);
