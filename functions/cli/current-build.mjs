// Which CLI build `segments` runs: `.build/cli/current.json` names the build directory that
// `npm run build` last completed and the source files it was built from, with their times and
// sizes. Shared by the launcher (segments.mjs) and the build (build.mjs); plain JavaScript, so the
// launcher reads it without a compiler.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file is functions/cli/current-build.mjs). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Builds live in directories of their own under here; the pointer file names the current one. */
export const BUILDS = join(ROOT, '.build', 'cli');
export const POINTER = join(BUILDS, 'current.json');
export const ENTRY = 'segments.js';

/**
 * The current build's entry file, or null when there is none or any file it was built from has
 * changed since (another modification time or size, or gone): then the sources are newer than
 * the build. Costs one small file read and one stat per source file (about 100), no directory walk.
 */
export function currentBuild() {
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
