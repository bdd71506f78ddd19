// Train function: an upload under uploads/training/ or a direct invocation ({"source": ...}) →
// a new model version under models/, promoted when asked, when AUTO_PROMOTE, or when none is active.
// Also the model lifecycle by direct invocation: {"promote": "<version>"} and {"rollback": true}.
// The work is in implementation.ts, loaded on the first invocation: importing this module (the
// cold start's init) evaluates neither the AWS SDK, nor the training code, nor the report's charts.

import { deferredHandler, lazyHandler, observedHandler, type Handler } from '../lazy.ts';
import type { Runtime } from '../runtime.ts';
import type { TrainResponse } from './summary.ts';

export { trainingSummaryKey, type LifecycleSummary, type TrainResponse, type TrainSummary } from './summary.ts';

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createTrainHandler(runtime: Runtime): Handler<unknown, TrainResponse> {
  return observedHandler(
    runtime,
    deferredHandler(async () => (await import('./implementation.ts')).createTrainHandler(runtime)),
  );
}

export const handler = lazyHandler(createTrainHandler);
