// Kept only while functions/migrate/handler.ts imports deferredHandler from here: it lives in
// ./invocation.ts now. Delete this file when that import points there.

export { deferredHandler } from './invocation.ts';
