// Assign function (the nightly EventBridge schedule, or {} by hand): labels pending customers
// with the active model inside Aurora, in bounded batches, under a lease; emits metrics.
// The event handling is in implementation.ts, imported here like any module.

import { observedHandler, type Handler } from '../invocation.ts';
import { handlerFromEnv, type Runtime } from '../runtime.ts';
import { createAssignHandler as assignEvents, type AssignResponse } from './implementation.ts';

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createAssignHandler(runtime: Runtime): Handler<unknown, AssignResponse> {
  return observedHandler(runtime, assignEvents(runtime));
}

export const handler = handlerFromEnv(createAssignHandler);
