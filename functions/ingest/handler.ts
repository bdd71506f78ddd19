// Ingest function (S3 upload trigger on uploads/customers/*.csv): each record of the event is
// validated, upserted and labeled with the active model; results go under results/customers/.
// By direct invocation, {"export": {"segment": …}} writes a campaign list under results/exports/.
// The work is in implementation.ts, loaded on the first invocation, so that importing this module
// (the cold start's init) does not evaluate the AWS SDK, Powertools or the workflows.

import { deferredHandler, lazyHandler, observedHandler, type Handler } from '../lazy.ts';
import type { Runtime } from '../runtime.ts';
import type { IngestResponse } from './implementation.ts';

export type { ExportSummary, IngestResponse, IngestResult } from './implementation.ts';

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createIngestHandler(runtime: Runtime): Handler<unknown, IngestResponse> {
  return observedHandler(
    runtime,
    deferredHandler(async () => (await import('./implementation.ts')).createIngestHandler(runtime)),
  );
}

export const handler = lazyHandler(createIngestHandler);
