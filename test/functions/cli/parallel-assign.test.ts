// `segments assign` on worker threads (of the CLI bundle, so run as a process), a file cut into
// chunks of whole lines (16 KB for these small files): the same labeled.csv, rejects.csv and
// summary as one thread, whatever the file holds and wherever its chunks end.

import { execFile, spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { withTempDir } from '../../support/temp.ts';

const BIN = join(import.meta.dirname, '../../../functions/cli/segments.mjs');
const run = promisify(execFile);

let dir: string;
let store: string;
let rows: string[];

beforeAll(async () => {
  const temp = await withTempDir('parallel-assign');
  dir = temp.path;
  store = join(dir, 'store');
  await run('node', [BIN, 'generate', '--rows', '3000', '--seed', '5', '--out', join(dir, 'train.csv')]);
  await run('node', [BIN, 'train', join(dir, 'train.csv'), '--store', store, '--k', '4', '--no-report']);
  rows = (await readFile(join(dir, 'train.csv'), 'utf8')).trimEnd().split('\n');
  return () => temp.remove();
});

interface Outputs {
  readonly labeled: string;
  readonly rejects: string;
  readonly summary: Record<string, unknown>;
}

async function assign(name: string, text: string, workers: number): Promise<Outputs & { threads: string | undefined }> {
  const input = join(dir, name);
  await writeFile(input, text);
  const out = join(dir, `${name}.w${workers}.csv`);
  const { stderr } = await run('node', [BIN, 'assign', input, '--store', store, '--out', out, '--workers', String(workers)]);
  const stem = out.slice(0, -'.csv'.length);
  const {
    startedAt: _s,
    finishedAt: _f,
    ...summary
  } = JSON.parse(await readFile(`${stem}.summary.json`, 'utf8')) as Record<string, unknown>;
  const threads = /labeling on (\d+) threads/.exec(stderr)?.[1];
  return { labeled: await readFile(out, 'utf8'), rejects: await readFile(`${stem}.rejects.csv`, 'utf8'), summary, threads };
}

/** Labels the file on one thread and on 2 and 3; the outputs are the same. Returns how many parts each used. */
async function expectSameAsOneThread(name: string, text: string): Promise<{ one: Outputs; parts: Array<string | undefined> }> {
  const { threads, ...one } = await assign(name, text, 1);
  const parts = [threads];
  for (const workers of [2, 3]) {
    const { threads: used, ...outputs } = await assign(name, text, workers);
    expect(outputs).toEqual(one);
    parts.push(used);
  }
  return { one, parts };
}

describe('segments assign --workers', () => {
  it('labels a file in chunks exactly as on one thread: rejects, duplicates across chunks, blank lines, CRLF, BOM, extra columns', async () => {
    const [header, ...data] = rows;
    const body = data.map((row, i) => {
      if (i === 10) return `${row.split(',')[0]},X,30,40,50`; // unknown gender
      if (i === 2500) return data[20]!; // a duplicate of a row in the first part
      if (i === 1700) return `${data[1800]!.split(',')[0]},Male,30,40,50`; // superseded by a later row, across chunks
      return row;
    });
    // a BOM, CRLF line ends, an extra column with non-ASCII text, and a blank line every 500 rows
    const lines = body.map((row, i) => `${row},Zürich ${i}${i % 500 === 0 ? '\r\n' : ''}`);
    const text = `\uFEFF${header},city\r\n${lines.join('\r\n')}\r\n`;
    const { one: outputs, parts } = await expectSameAsOneThread('mixed.csv', text);
    expect(parts).toEqual([undefined, '2', '3']);
    expect(outputs.summary).toMatchObject({ rowsRead: 3000, duplicates: 2 });
    expect(outputs.rejects).toContain('duplicate customer_id, superseded by line');
    expect(outputs.labeled.split('\n')[0]).toBe(
      `${header},city,segment,segment_name,segment_origin,segment_distance,is_outlier,model_version`,
    );
  });

  it('labels lines longer than a chunk, and a last line without a line end, as on one thread', async () => {
    const [header, ...data] = rows;
    const long = 'x'.repeat(40_000);
    const lines = data.map((row, i) => `${row},${i % 700 === 3 ? long : i}`);
    const { one, parts } = await expectSameAsOneThread('long-lines.csv', `${header},note\n${lines.join('\n')}`);
    expect(parts).toEqual([undefined, '2', '3']);
    expect(one.summary).toMatchObject({ rowsRead: 3000, rowsRejected: 0 });
    expect(one.labeled.split('\n')).toHaveLength(3001 + 1);
  });

  it('fails on the first broken line in file order, as one thread does', async () => {
    const [header, ...data] = rows;
    // a NUL byte early, invalid UTF-8 late: each worker finds one of them
    const text = Buffer.concat([
      Buffer.from(`${header}\n${data.slice(0, 100).join('\n')}\n`),
      Buffer.from([0x31, 0x2c, 0x00, 0x0a]),
      Buffer.from(`${data.slice(100).join('\n')}\n`),
      Buffer.from([0x31, 0x2c, 0xff, 0x0a]),
    ]);
    const input = join(dir, 'two-faults.csv');
    await writeFile(input, text);
    const failures = [];
    for (const workers of ['1', '2', '3']) {
      const failed = await run('node', [
        BIN,
        'assign',
        input,
        '--store',
        store,
        '--out',
        join(dir, `two-faults.w${workers}.csv`),
        '--workers',
        workers,
      ]).catch((e: { code: number; stderr: string }) => e);
      failures.push(failed);
    }
    for (const failed of failures)
      expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/segments: not a text file \(it contains NUL bytes\)\n$/) });
  });

  it('labels a file with quoted fields on one thread (a quoted field may hold a line end)', async () => {
    const [header, ...data] = rows;
    const text = `${header},note\n${data.map((row, i) => `${row},"line ${i}\nand more"`).join('\n')}\n`;
    const { one: outputs, parts } = await expectSameAsOneThread('quoted.csv', text);
    expect(parts).toEqual([undefined, undefined, undefined]);
    expect(outputs.summary).toMatchObject({ rowsRead: 3000, rowsRejected: 0 });
  });

  it('labels on one thread a file whose first line is blank (the header comes later)', async () => {
    const [header, ...data] = rows;
    for (const [name, start] of [
      ['blank-first.csv', '\n'],
      ['bom-blank-first.csv', '\uFEFF \r\n,,\r\n'],
    ] as const) {
      const { one, parts } = await expectSameAsOneThread(name, `${start}${header}\n${data.join('\n')}\n`);
      expect(parts).toEqual([undefined, undefined, undefined]);
      expect(one.summary).toMatchObject({ rowsRead: 3000, rowsRejected: 0 });
    }
  });

  it('labels a pipe on one thread, whatever --workers says', async () => {
    const text = `${rows.join('\n')}\n`;
    const out = join(dir, 'piped.csv');
    await writeFile(join(dir, 'piped-input.csv'), text);
    const command = `cat '${join(dir, 'piped-input.csv')}' | node '${BIN}' assign /dev/stdin --store '${store}' --out '${out}' --workers 2`;
    const piped = spawnSync('sh', ['-c', command], { encoding: 'utf8' });

    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toContain('labeling on');
    expect((await readFile(out, 'utf8')).split('\n')).toHaveLength(3002);
  });

  it('refuses more workers than it will start', async () => {
    const refused = await run('node', [BIN, 'assign', join(dir, 'train.csv'), '--store', store, '--workers', '17']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 1, stderr: 'segments: --workers must be at most 16 (got 17)\n' });
  });

  it('fails with one line and leaves no temporary file when a chunk is not UTF-8', async () => {
    const text = Buffer.concat([Buffer.from(`${rows.join('\n')}\n`), Buffer.from([0x31, 0x2c, 0xff, 0x0a])]);
    const input = join(dir, 'broken.csv');
    await writeFile(input, text);
    const out = join(dir, 'broken-out.csv');
    const failed = await run('node', [BIN, 'assign', input, '--store', store, '--out', out, '--workers', '2']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({
      code: 1,
      stderr: 'labeling on 2 threads\nsegments: not a UTF-8 text file (save it as UTF-8 and upload it again)\n',
    });
    expect((await readdir(dir)).filter((f) => f.includes('broken-out') || f.includes('parts'))).toEqual([]);
  });
});
