// Ingest function (S3 upload trigger on uploads/customers/*.csv): each record of the event is
// validated, upserted and labeled with the active model; results go under results/customers/.
// By direct invocation, {"export": {"segment": …}} writes a campaign list under results/exports/.
// The event handling is in implementation.ts, imported here like any module.

import { observedHandler, type Handler } from '../invocation.ts';
import { handlerFromEnv, type Runtime } from '../runtime.ts';
import { createIngestHandler as ingestEvents, type IngestResponse } from './implementation.ts';

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createIngestHandler(runtime: Runtime): Handler<unknown, IngestResponse> {
  return observedHandler(runtime, ingestEvents(runtime));
}

export const handler = handlerFromEnv(createIngestHandler);
