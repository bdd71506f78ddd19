// One labeling pipeline: the same customers file gives the same labeled.csv, rejects.csv and
// summary.json bytes through `segments assign` (local files) and through the ingest function (S3,
// the Data API emulator over PostgreSQL), apart from the times and the source in the summary.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { runCli } from '../../../functions/cli/main.ts';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { publishModel } from '../../../shared/workflows/promote.ts';
import { womenOnlyModel } from '../../shared/workflows/women-only-model.ts';
import { s3Event, startLocalAws, type LocalAws } from '../../support/aws-local.ts';
import { withTempDir } from '../../support/temp.ts';

let aws: LocalAws;
let dir: { path: string; remove(): Promise<void> };
/** Has never seen a man: a man is a row the model cannot place. */
const model: Model = womenOnlyModel();

beforeAll(async () => {
  aws = await startLocalAws('same-outputs');
  dir = await withTempDir('same-outputs');
  const publish = { promote: true, autoPromote: true, now: () => new Date() };
  await publishModel(aws.runtime().store, model, publish);
  await publishModel(new FileModelStore(join(dir.path, 'store')), model, publish);
});
afterAll(async () => {
  await aws?.close();
  await dir?.remove();
});

const GENERATED = 2500;

/**
 * 2,500 generated women (more than two of ingest's 1,000-row table batches), a BOM, CRLF line ends,
 * headers of the original file, an input `segment` column (dropped) and an extra column (kept),
 * and after some of the generated rows: quoted fields (one holding a line break), blank lines,
 * rejects, rows the model cannot place, duplicates of every kind, and no newline at the end.
 */
function customersFile(): string {
  const inserted = new Map<number, string[]>([
    [
      100,
      [
        '"0090001",Female,30,40,50,,"says ""hi"", then leaves"',
        '0090002,Female,31,41,51,,"line one\r\nline two"',
        '0090003,Female,32,42,52,, padded',
        '0090004,Female,33,43,53,,Zürich – café',
        '',
        '0090005,Female,200,40,50,,',
        '0090006,Robot,30,40,50,,',
        '0090007,Female,30,-5,50,,',
        ',Female,30,40,50,,',
        '0090008,Female,30',
        '0090017,Female,30,40,50,,x,one too many',
        ',,,,,,',
      ],
    ],
    [700, ['0090010,Male,30,40,50,,', '0090011,M,30,40,50,,', '0090012,Female,30,40,50,,first', '0090013,Female,999,40,50,,bad']],
    [
      1200,
      [
        '0000010,Female,40,60,70,,second',
        '0090012,Female,31,41,51,,second',
        '0090013,Female,30,40,50,,good',
        '0090014,Female,30,40,50,,',
        '0090015,Male,30,40,50,,',
        '0090016,Female,30,40,50,,',
      ],
    ],
    [1900, ['0090014,Female,abc,40,50,,', '0090015,Female,35,45,55,,', '0090016,Male,30,40,50,,']],
    [2100, ['0000005,Female,45,55,65,3.0,again']],
    [2499, ['0000010,Female,41,61,71,,third']],
  ]);
  const generated = [...generateCsv({ rows: GENERATED, seed: 21 })].join('').trimEnd().split('\n').slice(1);
  const lines = ['\uFEFFCustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100),segment,note'];
  generated.forEach((row, i) => {
    lines.push(`${row.replace(',Male,', ',Female,')},${i % 3 === 0 ? '3.0' : ''},note ${i}`);
    lines.push(...(inserted.get(i) ?? []));
  });
  return lines.join('\r\n');
}

interface Outputs {
  readonly labeled: string;
  readonly rejects: string;
  readonly summary: string;
}

/** summary.json with the run's times and source (which differ by nature) blanked out. */
const comparable = (summary: string): string => summary.replace(/"(startedAt|finishedAt|source)": "[^"]*"/g, '"$1": "…"');

async function throughCli(text: string): Promise<Outputs> {
  const input = join(dir.path, 'customers.csv');
  await writeFile(input, text);
  const out = join(dir.path, 'out', 'labeled.csv');
  const err: string[] = [];
  const code = await runCli(['assign', input, '--store', join(dir.path, 'store'), '--out', out], {
    out: () => {},
    err: (t) => err.push(t),
  });
  expect(err).toEqual([]);
  expect(code).toBe(0);
  return {
    labeled: await readFile(out, 'utf8'),
    rejects: await readFile(join(dir.path, 'out', 'labeled.rejects.csv'), 'utf8'),
    summary: await readFile(join(dir.path, 'out', 'labeled.summary.json'), 'utf8'),
  };
}

async function throughIngest(text: string): Promise<Outputs> {
  const key = 'uploads/customers/customers.csv';
  const etag = await aws.put(key, text);
  const result = await createIngestHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]));
  expect(result.results[0]!.outcome.status).toBe('processed');
  const [labeled, rejects, summary] = await Promise.all(
    ['labeled.csv', 'rejects.csv', 'summary.json'].map((name) => aws.get(`results/customers/customers/${name}`)),
  );
  return { labeled: labeled!, rejects: rejects!, summary: summary! };
}

describe('labeling a customers file', () => {
  it('gives the same labeled.csv, rejects.csv and summary.json bytes through segments assign and through ingest', async () => {
    const text = customersFile();
    const cli = await throughCli(text);
    const ingest = await throughIngest(text);
    expect(ingest.labeled).toBe(cli.labeled);
    expect(ingest.rejects).toBe(cli.rejects);
    expect(comparable(ingest.summary)).toBe(comparable(cli.summary));

    // and the bytes are the contract's: counted by hand from the file above
    const summary = JSON.parse(cli.summary) as Record<string, unknown>;
    expect(summary).toMatchObject({
      status: 'ok',
      warnings: [],
      modelVersion: model.modelVersion,
      rowsRead: GENERATED + 25,
      rowsAccepted: GENERATED + 7,
      rowsRejected: 18,
      duplicates: 6,
    });
    expect(Object.values(summary.segments as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(GENERATED + 7);
    const labeled = cli.labeled.split('\n');
    expect(labeled[0]).toBe(
      'CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100),note,segment,segment_name,segment_origin,segment_distance,is_outlier,model_version',
    );
    expect(labeled).toHaveLength(1 + GENERATED + 7 + 1 + 1); // the header, the rows, the line break in 0090002's note, '' at the end
    expect(cli.labeled).toContain('0090001,Female,30,40,50,"says ""hi"", then leaves",');
    expect(cli.labeled).toContain('0090002,Female,31,41,51,"line one\nline two",');
    expect(cli.labeled).toContain('0090003,Female,32,42,52," padded",');
    expect(cli.labeled).toContain('0000010,Female,41,61,71,third,');
    const reasons = cli.rejects
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => /^(\d+),([^,]*),("[^"]*(?:""[^"]*)*"|[^,]*)/.exec(line)!.slice(1, 4).join(' '));
    expect(reasons.filter((r) => r.includes('superseded'))).toHaveLength(6);
    expect(reasons.filter((r) => r.includes('was not seen when model'))).toHaveLength(4);
    expect(reasons).toContain('11 0000010 "duplicate customer_id, superseded by line 1220"');

    // the table holds the rows that won, and none of the rows rejected
    const { rows } = await aws.db.repo.pool.query(
      `SELECT customer_id, age FROM customers WHERE customer_id IN ('0000005', '0000010', '0090012', '0090013', '0090014', '0090015', '0090016')
       ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: '0000005', age: 45 },
      { customer_id: '0000010', age: 41 },
      { customer_id: '0090012', age: 31 },
      { customer_id: '0090013', age: 30 },
      { customer_id: '0090015', age: 35 },
    ]);
    const { rows: count } = await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers');
    expect(count[0].n).toBe(GENERATED + 7);
  });
});
