// Lazy loading for the Lambda entry points. A bundle's module import (the cold start's init) only
// evaluates the entry and this file: the AWS SDK clients, Powertools, the schemas, the workflows
// and the report's charts are evaluated on the first invocation, when the handler needs them.
// esbuild keeps a dynamic import() inside a single-file bundle lazy: the imported module and its
// dependencies are wrapped in init functions that run when the import() is first reached.

import type { Runtime } from './runtime.ts';

export type Handler<E, R> = (event: E) => Promise<R>;

/**
 * A handler that builds the real one on its first call, then delegates every call to it. A failed
 * build is not kept: the next call tries again.
 */
export function deferredHandler<E, R>(build: () => Promise<Handler<E, R>>): Handler<E, R> {
  let built: Promise<Handler<E, R>> | undefined;
  return async (event) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return await (
      await built
    )(event);
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
