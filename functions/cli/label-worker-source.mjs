// Starts label-worker.ts in a worker thread from the TypeScript sources (the CLI run with tsx, or
// in tests), as the CLI bundle starts its compiled label-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./label-worker.ts');
