// Assign function (the nightly EventBridge schedule, or {} by hand): labels pending customers
// with the active model inside Aurora, in bounded batches, under a lease; emits metrics.
// The work is in implementation.ts, loaded on the first invocation, so that importing this module
// (the cold start's init) does not evaluate the AWS SDK, Powertools or the workflows.

import { deferredHandler, lazyHandler, observedHandler, type Handler } from '../lazy.ts';
import type { Runtime } from '../runtime.ts';
import type { AssignResponse } from './implementation.ts';

export type { AssignResponse } from './implementation.ts';

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createAssignHandler(runtime: Runtime): Handler<unknown, AssignResponse> {
  return observedHandler(
    runtime,
    deferredHandler(async () => (await import('./implementation.ts')).createAssignHandler(runtime)),
  );
}

export const handler = lazyHandler(createAssignHandler);
