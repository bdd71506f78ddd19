// Which CLI build `segments` runs: `.build/cli/current.json` names the build directory that
// `npm run build` last completed and the source files it was built from, with their times and
// sizes. Shared by the launcher (segments.cjs) and the build (build.mjs); plain CommonJS, so the
// launcher reads it without a compiler and without Node's ES module loader.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** The project root (this file is functions/cli/current-build.cjs). */
const ROOT = join(__dirname, '..', '..');
/** Builds live in directories of their own under here; the pointer file names the current one. */
const BUILDS = join(ROOT, '.build', 'cli');
const POINTER = join(BUILDS, 'current.json');
const ENTRY = 'segments.js';

/**
 * The current build's entry file, or null when there is none or any file it was built from has
 * changed since (another modification time or size, or gone): then the sources are newer than
 * the build. Costs one small file read and one stat per source file (about 100), no directory walk.
 */
function currentBuild() {
  let pointer;
  try {
    pointer = JSON.parse(readFileSync(POINTER, 'utf8'));
  } catch {
    return null;
  }
  for (const [path, mtimeMs, size] of pointer.inputs) {
    const info = statSync(join(ROOT, path), { throwIfNoEntry: false });
    if (info === undefined || info.mtimeMs !== mtimeMs || info.size !== size) return null;
  }
  return join(BUILDS, pointer.build, ENTRY);
}

exports.ROOT = ROOT;
exports.BUILDS = BUILDS;
exports.POINTER = POINTER;
exports.ENTRY = ENTRY;
exports.currentBuild = currentBuild;
