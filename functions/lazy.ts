// Lazy loading for the Lambda entry points. A bundle's module import (the cold start's init) only
// evaluates the entry and this file: the AWS SDK clients, Powertools, the schemas, the workflows
// and the report's charts are evaluated on the first invocation, when the handler needs them.
// esbuild keeps a dynamic import() inside a single-file bundle lazy: the imported module and its
// dependencies are wrapped in init functions that run when the import() is first reached.

import type { Context } from 'aws-lambda';
import type { Runtime } from './runtime.ts';

/** A Lambda handler: the event, and the invocation's context when Lambda (or a test) gives one. */
export type Handler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * A handler that builds the real one on its first call, then delegates every call to it. A failed
 * build is not kept: the next call tries again.
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
 * reports what it did. Only the types of the runtime are imported here, so a bundle's init stays cheap.
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

/**
 * A Lambda handler whose dependencies are built on the first invocation (once per cold start),
 * so importing the module never reads the environment nor loads the AWS SDK.
 */
export function lazyHandler<E, R>(factory: (runtime: Runtime) => Handler<E, R>, env = process.env): Handler<E, R> {
  return deferredHandler(async () => {
    const [{ createRuntime }, { loadConfig }] = await Promise.all([import('./runtime.ts'), import('./config.ts')]);
    return factory(createRuntime(loadConfig(env)));
  });
}
