// `segments train` reading a large local file on worker threads (parallel-read.ts): chunks of whole
// lines (16 KB for these small files) read into columns and put together give what one thread
// reading the whole file gives, whatever the file holds and wherever its chunks end; a file that
// cannot be cut, or that the reader refuses, is left to one thread.

import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readColumnsInParallel } from '../../../functions/cli/parallel-read.ts';
import { readCustomerColumns, type CustomerColumnsCsv } from '../../../shared/csv/read-customers.ts';
import { withTempDir } from '../../support/temp.ts';

let dir: string;

beforeAll(async () => {
  const temp = await withTempDir('parallel-read');
  dir = temp.path;
  return () => temp.remove();
});

/** Everything a read into columns gives, row by row. */
const everything = (csv: CustomerColumnsCsv) => ({
  rows: Array.from({ length: csv.columns.length }, (_, i) => csv.columns.at(i)),
  rejected: csv.rejected,
  counts: [csv.rowsRead, csv.duplicates],
  header: csv.header,
  fingerprint: csv.columns.fingerprint,
});

/** 4,000 rows of every kind of id, ~100 KB: several 16 KB chunks for each of 2 or 3 threads. */
function rows(): string[] {
  return Array.from({ length: 4000 }, (_, i) => {
    // every 97th row has the id of a row 1,500 rows away (in another chunk): one of the two is superseded
    const number = i % 97 === 5 ? (i + 1500) % 4000 : i;
    const id = i % 211 === 7 ? `Zürich-${i}` : `C${String(number).padStart(6, '0')}`;
    const gender = i % 301 === 9 ? 'X' : i % 2 === 0 ? 'Male' : 'F';
    return `${id},${gender},${18 + (i % 60)},${(i * 7) % 140}.5,${1 + (i % 100)}`;
  });
}

async function file(name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Reads the file on one thread and on 2 and 3: the same columns; returns the one-thread read. */
async function expectSameAsOneThread(path: string): Promise<CustomerColumnsCsv> {
  const one = await readCustomerColumns(createReadStream(path));
  for (const threads of [2, 3]) {
    const progress: number[] = [];
    const parallel = await readColumnsInParallel({ path, threads, onProgress: (n) => progress.push(n) });
    expect(parallel).not.toBeNull();
    expect(everything(parallel!)).toEqual(everything(one));
    expect(progress).toEqual([]); // fewer rows than a progress line's 100,000
  }
  return one;
}

describe('readColumnsInParallel', () => {
  it('reads a file in chunks exactly as one thread does: rejects, duplicates across chunks, blank lines, CRLF, BOM, non-ASCII ids', async () => {
    const body = rows().map((row, i) => `${row},extra ${i}${i % 500 === 0 ? '\r\n' : ''}`);
    const path = await file(
      'mixed.csv',
      `\uFEFFcustomer_id,gender,age,annual_income_thousands,spending_score,note\r\n${body.join('\r\n')}\r\n`,
    );
    const one = await expectSameAsOneThread(path);
    expect(one.duplicates).toBeGreaterThan(10);
    expect(one.rejected.some((r) => r.reason.startsWith('gender'))).toBe(true);
    expect(one.columns.fingerprint).toBeUndefined(); // recomputed after the superseded rows are dropped
  });

  it('reads a clean file with its fingerprint, and lines longer than a chunk, and a last line without a line end', async () => {
    const long = 'x'.repeat(40_000);
    const body = rows().map((row, i) => (i % 97 === 5 || i % 301 === 9 ? `C${i}x,Male,30,40,50` : row) + `,${i % 700 === 3 ? long : i}`);
    const one = await expectSameAsOneThread(
      await file('long.csv', `customer_id,gender,age,annual_income_thousands,spending_score,note\n${body.join('\n')}`),
    );
    expect(one.columns.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(one.rowsRead).toBe(4000);
  });

  it('reports progress at every 100,000 rows as one thread does', async () => {
    const body = Array.from({ length: 210_000 }, (_, i) => `${i},M,30,40,50`).join('\n');
    const path = await file('progress.csv', `customer_id,gender,age,annual_income_thousands,spending_score\n${body}\n`);
    const progress: number[] = [];
    const csv = await readColumnsInParallel({ path, threads: 2, onProgress: (n) => progress.push(n) });
    expect(progress).toEqual([100_000, 200_000]);
    expect(csv!.columns.length).toBe(210_000);
  });

  it('leaves to one thread a file with a quote, a blank first line, no rows, or a chunk that is not UTF-8 or has NUL bytes', async () => {
    const header = 'customer_id,gender,age,annual_income_thousands,spending_score';
    const data = rows().join('\n');
    const cases = {
      quoted: `${header}\n${data}\n"C9",Male,30,40,50\n`,
      blankFirst: `\n${header}\n${data}\n`,
      headerOnly: `${header}\n`,
      notUtf8: Buffer.concat([Buffer.from(`${header}\n${data}\n`), Buffer.from([0x31, 0x2c, 0xff, 0x0a])]),
      nul: Buffer.concat([Buffer.from(`${header}\n${data}\n`), Buffer.from([0x31, 0x2c, 0x00, 0x0a])]),
      missingColumn: `customer_id,gender,age\n${data}\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      expect([name, await readColumnsInParallel({ path: await file(`${name}.csv`, text), threads: 2 })]).toEqual([name, null]);
    }
  });
});
