// shared/ is the pure core: no AWS SDK, no Lambda types, no file system, no environment. Its CSV
// contract is the bottom layer: features, profiles and workflows build on it, not the other way.

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

  it('keeps csv/ below the rest: its modules import only each other and errors.ts', async () => {
    const csv = join(ROOT, 'csv');
    const offences: string[] = [];
    for (const file of await sources(csv)) {
      const text = await readFile(file, 'utf8');
      for (const [, target] of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const resolved = relative(csv, join(file, '..', target!));
        if (resolved.startsWith('..') && resolved !== join('..', 'errors.ts')) offences.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
