#!/usr/bin/env node
// The `segments` executable. Runs the CLI bundle that `npm run build` made (npm ci runs it as
// `prepare`), or, when there is no build or a source file changed since, the TypeScript sources
// with tsx (development). It never builds: see build.mjs.
import { pathToFileURL } from 'node:url';
import { currentBuild } from './current-build.mjs';

const bundle = currentBuild();
if (bundle !== null) {
  await import(pathToFileURL(bundle).href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('segments: no current CLI build and no tsx to run the sources: run npm ci (or npm run build)\n');
    process.exit(1);
  }
  tsx.register();
  await import(new URL('./segments.ts', import.meta.url).href);
}
