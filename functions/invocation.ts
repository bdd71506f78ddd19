// What every Lambda entry point does around its work: build its dependencies on the first
// invocation (once per cold start), and observe each invocation with the function's logger and
// metrics. Type imports only, so an entry that needs neither the runtime nor Powertools loads none.

import type { Context } from 'aws-lambda';
import type { Runtime } from './runtime.ts';

/** A Lambda handler: the event, and the invocation's context when Lambda (or a test) gives one. */
export type Handler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * A handler that builds the real one on its first call, then delegates every call to it. A failed
 * build (a configuration error) fails that invocation and is not kept: the next call tries again.
 */
export function deferredHandler<E, R>(build: () => Promise<Handler<E, R>>): Handler<E, R> {
  let built: Promise<Handler<E, R>> | undefined;
  return async (event, context) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return await (
      await built
    )(event, context);
  };
}

/**
 * What Powertools' `injectLambdaContext` and `logMetrics` middlewares do, without Middy: every log
 * line of the invocation carries the Lambda context (function_request_id, cold_start, …), and the
 * stored metrics are published however the invocation ends, so a run that fails half-way still
 * reports what it did.
 */
export function observedHandler<E, R>(runtime: Pick<Runtime, 'logger' | 'metrics'>, handler: Handler<E, R>): Handler<E, R> {
  return async (event, context) => {
    if (context !== undefined) runtime.logger.addContext(context);
    try {
      return await handler(event, context);
    } catch (error) {
      runtime.logger.error('invocation failed', error as Error);
      throw error;
    } finally {
      // nothing stored (a refused request, a lifecycle change): no empty EMF document, no warning
      if (runtime.metrics.hasStoredMetrics()) runtime.metrics.publishStoredMetrics();
    }
  };
}
