// shared/ is the pure core: no AWS SDK, no Lambda types, no file system, no environment. The customer
// schema is its bottom layer and the CSV contract the next: features, profiles and workflows build
// on them, not the other way.

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../shared');
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/from\s+['"]@aws-sdk\//, 'the AWS SDK'],
  [/from\s+['"](aws-lambda|@types\/aws-lambda)['"]/, 'Lambda types'],
  [/from\s+['"](node:)?fs(\/promises)?['"]/, 'the file system'],
  [/process\.env/, 'the environment'],
  [/from\s+['"]@aws-lambda-powertools\//, 'Powertools'],
];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

describe('shared/', () => {
  it('imports no AWS SDK, Lambda types, file system or environment', async () => {
    const files = await sources(ROOT);
    expect(files.length).toBeGreaterThan(10);
    const offences: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [pattern, what] of FORBIDDEN) if (pattern.test(text)) offences.push(`${relative(ROOT, file)} uses ${what}`);
    }
    expect(offences).toEqual([]);
  });

  /** The relative imports of a folder's modules that leave it for anything but `allowed`. */
  async function importsOutside(folder: string, allowed: readonly string[]): Promise<string[]> {
    const dir = join(ROOT, folder);
    const offences: string[] = [];
    for (const file of await sources(dir)) {
      const text = await readFile(file, 'utf8');
      for (const [, target] of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const resolved = relative(ROOT, join(file, '..', target!));
        if (!resolved.startsWith(`${folder}/`) && !allowed.some((a) => resolved === a || resolved.startsWith(`${a}/`))) {
          offences.push(`${relative(ROOT, file)} imports ${target}`);
        }
      }
    }
    return offences;
  }

  it('keeps schema/ at the bottom: its modules import only each other and errors.ts', async () => {
    expect(await importsOutside('schema', ['errors.ts'])).toEqual([]);
  });

  it('keeps csv/ below the rest: its modules import only each other, schema/ and errors.ts', async () => {
    expect(await importsOutside('csv', ['errors.ts', 'schema'])).toEqual([]);
  });
});
