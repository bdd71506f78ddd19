// `segments train`'s sweep options: a quick sweep beside --k by default, none with --no-sweep, and
// --no-sweep refused without --k; the model records which ran.

import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runSegments, type CliRun } from '../../../support/cli.ts';
import { withTempDir } from '../../../support/temp.ts';

const cli = (...argv: string[]): Promise<CliRun> => runSegments(argv);

let dir: { path: string; remove(): Promise<void> };
const file = (name: string): string => join(dir.path, name);

beforeEach(async () => {
  dir = await withTempDir('cli-train');
  return () => dir.remove();
});

async function trained(...options: string[]): Promise<{ k: number; sweep: Record<string, unknown> & { entries: { k: number }[] } }> {
  const csv = file('train.csv');
  expect((await cli('generate', '--rows', '150', '--seed', '4', '--out', csv)).code).toBe(0);
  const r = await cli('train', csv, '--store', file('store'), '--json', '--no-report', '--max-k', '5', '--restarts', '2', ...options);
  expect(r.code).toBe(0);
  return JSON.parse(r.out[0]!);
}

describe('segments train sweeps', () => {
  it('runs the full sweep when k is to be chosen', async () => {
    const result = await trained();
    expect(result.sweep).toMatchObject({ mode: 'full', restarts: 2, rows: 150 });
    expect(result.k).toBe(result.sweep.suggestedK);
  });

  it('runs a quick sweep beside --k', async () => {
    const result = await trained('--k', '3');
    expect(result.k).toBe(3);
    expect(result.sweep).toMatchObject({ mode: 'quick', restarts: 3 });
    expect(result.sweep.entries.map((e) => e.k)).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs none with --no-sweep: the sweep holds the given k alone', async () => {
    const result = await trained('--k', '3', '--no-sweep');
    expect(result.sweep).toMatchObject({ mode: 'none', suggestedK: 3, rule: 'k = 3 was given and no sweep ran' });
    expect(result.sweep.entries.map((e) => e.k)).toEqual([3]);
  });

  it('refuses --no-sweep without --k, saying why', async () => {
    const r = await cli('train', file('missing.csv'), '--store', file('store'), '--no-sweep');
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toContain('--no-sweep needs --k: without a sweep nothing chooses k');
  });
});
