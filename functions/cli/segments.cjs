#!/usr/bin/env node
// The `segments` executable. Runs the CLI bundle that `npm run build` made (npm ci runs it as
// `prepare`), or, when there is no build or a source file changed since, the TypeScript sources
// with tsx (development). It never builds: see build.mjs. CommonJS, so that a request for the
// usage is answered from what the build kept (usage.cjs and usage.json) without Node's ES module
// loader or the bundle: `segments help` costs little more than Node's own start.
'use strict';
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { currentBuild } = require('./current-build.cjs');

/** Prints the usage when the command line asks for it; false when it does not, or the build kept no usage. */
function answeredHelp(dir) {
  let usage;
  try {
    usage = require(join(dir, 'usage.cjs'));
  } catch {
    return false;
  }
  const help = usage.helpRequest(process.argv.slice(2));
  if (help === null) return false;
  const { commands, footer } = JSON.parse(readFileSync(join(dir, 'usage.json'), 'utf8'));
  // output piped into a reader that stops early (`segments help | head`) is not an error
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.stdout.write(`${usage.usageOf(commands, footer, help.words)}\n`);
  process.exitCode = help.code;
  return true;
}

const bundle = currentBuild();
if (bundle !== null) {
  if (!answeredHelp(dirname(bundle))) import(pathToFileURL(bundle).href);
} else {
  import('tsx/esm/api').then(
    (tsx) => {
      tsx.register();
      return import(pathToFileURL(join(__dirname, 'segments.ts')).href);
    },
    () => {
      process.stderr.write('segments: no current CLI build and no tsx to run the sources: run npm ci (or npm run build)\n');
      process.exit(1);
    },
  );
}
