// The `segments` CLI, run in-process on temporary stores and a real PostgreSQL database.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Papa from 'papaparse';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { withTempDir } from '../../support/temp.ts';
import { runSegments, type CliRun } from '../../support/cli.ts';

/** A CSV document as records keyed by header (a second, independent parser reads our output). */
const csvRecords = (text: string): Record<string, string>[] =>
  Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true }).data;

const cli = (...argv: string[]): Promise<CliRun> => runSegments(argv);

let dir: { path: string; remove(): Promise<void> };
let store: string;
const file = (name: string): string => join(dir.path, name);

beforeEach(async () => {
  dir = await withTempDir('cli');
  store = file('store');
  return () => dir.remove();
});

async function generated(name: string, rows: number, seed = 3, firstId = 1): Promise<string> {
  const r = await cli('generate', '--rows', String(rows), '--seed', String(seed), '--first-id', String(firstId), '--out', file(name));
  expect(r.code).toBe(0);
  return file(name);
}

describe('segments generate', () => {
  it('writes the requested number of mall-like customers, the same for the same seed', async () => {
    const a = await readFile(await generated('a.csv', 50), 'utf8');
    const b = await readFile(await generated('b.csv', 50), 'utf8');
    expect(a).toBe(b);
    const lines = a.trimEnd().split('\n');
    expect(lines[0]).toBe('customer_id,gender,age,annual_income_thousands,spending_score');
    expect(lines).toHaveLength(51);
    expect(lines[1]).toMatch(/^0000001,(Male|Female),\d+,\d+,\d+$/);
  });
});

describe('segments train', () => {
  it('prints one JSON object with the model, writes model.json and promotes it', async () => {
    const csv = await generated('train.csv', 300);
    const r = await cli('train', csv, '--k', '4', '--store', store, '--json', '--max-k', '6');
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const result = JSON.parse(r.out[0]!);
    expect(result).toMatchObject({ k: 4, promoted: true, reportPath: join(store, 'models', result.modelVersion, 'report.html') });
    expect(await readFile(result.reportPath, 'utf8')).toContain(result.modelVersion);
    expect(result.sweep.entries).toHaveLength(6);
    expect(result.segments.map((s: { id: number }) => s.id)).toEqual([0, 1, 2, 3]);
    expect(existsSync(result.modelPath)).toBe(true);
    const active = JSON.parse(await readFile(join(store, 'models', 'active.json'), 'utf8'));
    expect(active).toMatchObject({ modelVersion: result.modelVersion, previous: null });
    expect(r.err.some((line) => line.startsWith('k = 1: inertia'))).toBe(true);
  });

  it('gives a byte-identical model.json for the same input, options and seed, apart from the time', async () => {
    const csv = await generated('train.csv', 200);
    // two stores: with the first model active, the second would be matched to it (lineage.parent)
    const first = JSON.parse((await cli('train', csv, '--store', store, '--json', '--seed', '9')).out[0]!);
    const second = JSON.parse((await cli('train', csv, '--store', file('other'), '--json', '--seed', '9')).out[0]!);
    const normalise = (text: string): string =>
      text.replace(/"createdAt": "[^"]+"/, '"createdAt": ""').replace(/"modelVersion": "\d{8}T\d{6}Z-/, '"modelVersion": "');
    const a = await readFile(first.modelPath, 'utf8');
    const b = await readFile(second.modelPath, 'utf8');
    expect(normalise(a)).toBe(normalise(b));
    expect(first.modelVersion.split('-')[1]).toBe(second.modelVersion.split('-')[1]);
  });

  it('keeps the active model with --no-promote', async () => {
    const csv = await generated('train.csv', 120);
    const first = JSON.parse((await cli('train', csv, '--store', store, '--json', '--k', '2')).out[0]!);
    const second = JSON.parse((await cli('train', csv, '--store', store, '--json', '--k', '3', '--no-promote')).out[0]!);
    expect(second.promoted).toBe(false);
    const active = JSON.parse(await readFile(join(store, 'models', 'active.json'), 'utf8'));
    expect(active.modelVersion).toBe(first.modelVersion);
  });

  it('prints the segment table with names and warns when gender alone splits the segments', async () => {
    const csv = await generated('train.csv', 300);
    const r = await cli('train', csv, '--store', store, '--k', '4');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/^id\s+segment\s+customers\s+share/m);
    expect(text).toContain('warning: gender alone splits the customers');
  });

  it('fails with one line for a missing file, a missing column and a bad option', async () => {
    const missing = await cli('train', file('nope.csv'), '--store', store);
    expect(missing).toMatchObject({ code: 1, err: [`segments: file not found: ${file('nope.csv')}`] });
    await writeFile(file('bad.csv'), 'customer_id,gender,age\n1,Male,20\n');
    const column = await cli('train', file('bad.csv'), '--store', store);
    expect(column.code).toBe(1);
    expect(column.err).toHaveLength(1);
    expect(column.err[0]).toMatch(/^segments: missing required columns: annual_income_thousands/);
    const option = await cli('train', file('bad.csv'), '--k', 'many', '--store', store);
    expect(option.err[0]).toBe('segments: --k must be a whole number ≥ 1 (got "many")');
    const unknown = await cli('train', file('bad.csv'), '--colour');
    expect(unknown.code).toBe(2);
    expect(existsSync(store)).toBe(false);
  });
});

describe('segments assign', () => {
  it('writes labeled, rejects and summary files whose counts add up', async () => {
    await cli('train', await generated('train.csv', 200), '--store', store, '--k', '3');
    const input = [
      'CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100),segment,segment_origin,store',
      '0001,Male,19,15,39,3.0,created,north',
      '0002,F,21,15,81,,,south',
      '0003,Female,abc,16,6,,,east',
      '0001,Male,20,15,39,,,west',
      '0004,Male,64,19,300,,,west',
    ].join('\r\n');
    await writeFile(file('new.csv'), input);
    const r = await cli('assign', file('new.csv'), '--store', store, '--out', file('out/labeled.csv'), '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out[0]!);
    expect(summary).toMatchObject({ status: 'ok', rowsRead: 5, rowsAccepted: 2, rowsRejected: 3, duplicates: 1 });
    expect(JSON.parse(await readFile(file('out/labeled.summary.json'), 'utf8'))).toEqual(summary);
    const labeled = csvRecords(await readFile(file('out/labeled.csv'), 'utf8'));
    expect(Object.keys(labeled[0]!)).toEqual([
      'CustomerID',
      'Genre',
      'Age',
      'Annual Income (k$)',
      'Spending Score (1-100)',
      'store',
      'segment',
      'segment_name',
      'segment_origin',
      'segment_distance',
      'is_outlier',
      'model_version',
    ]);
    expect(labeled.map((row) => [row.CustomerID, row.store, row.segment_origin])).toEqual([
      ['0002', 'south', 'assigned'],
      ['0001', 'west', 'assigned'],
    ]);
    expect(labeled[0]!.segment_distance).toMatch(/^\d+\.\d{6}$/);
    const rejects = csvRecords(await readFile(file('out/labeled.rejects.csv'), 'utf8'));
    expect(rejects.map((row) => [row.line, row.customer_id, row.reason])).toEqual([
      ['2', '0001', 'duplicate customer_id, superseded by line 5'],
      ['4', '0003', 'age "abc" is not a whole number'],
      ['6', '0004', 'spending_score 300 is outside 1–100'],
    ]);
    expect(summary.rowsAccepted + summary.rowsRejected).toBe(summary.rowsRead);
    const segmentTotal = Object.values(summary.segments as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(segmentTotal).toBe(summary.rowsAccepted);
  });

  it('writes under the store by default and refuses a foreign model file', async () => {
    await cli('train', await generated('train.csv', 100), '--store', store, '--k', '2');
    const batch = await generated('batch 1.csv', 20, 4, 500);
    expect((await cli('assign', batch, '--store', store)).code).toBe(0);
    expect((await readdir(join(store, 'results', 'customers', 'batch 1'))).sort()).toEqual(['labeled.csv', 'rejects.csv', 'summary.json']);
    const version = '20260101T000000Z-000000000000';
    await writeFile(
      join(store, 'models', 'active.json'),
      JSON.stringify({ modelVersion: version, promotedAt: new Date().toISOString(), previous: null }),
    );
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(store, 'models', version), { recursive: true });
    await writeFile(join(store, 'models', version, 'model.json'), JSON.stringify({ schemaVersion: 99 }));
    const foreign = await cli('assign', batch, '--store', store, '--out', file('x.csv'));
    expect(foreign.code).toBe(1);
    expect(foreign.err[0]).toMatch(/has model schema version 99; this version reads schema 1 and 2$/);
    expect(existsSync(file('x.csv'))).toBe(false);
  });

  it('leaves no earlier outputs behind when a later run of the same file fails', async () => {
    await cli('train', await generated('train.csv', 100), '--store', store, '--k', '2');
    const batch = await generated('weekly.csv', 10, 4, 700);
    expect((await cli('assign', batch, '--store', store)).code).toBe(0);
    await writeFile(batch, 'foo,bar\n1,2\n');
    const failed = await cli('assign', batch, '--store', store);
    expect(failed.code).toBe(1);
    expect(await readdir(join(store, 'results', 'customers', 'weekly'))).toEqual([]);
  });

  it('says so when there is no model to assign with', async () => {
    const r = await cli('assign', await generated('b.csv', 5), '--store', store);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/no active model in .*; train one first/);
  });
});

describe('segments db (against DATABASE_URL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cli');
    process.env.DATABASE_URL = db.url;
  });
  afterAll(async () => {
    delete process.env.DATABASE_URL;
    await db.drop();
  });

  it("renders a table-trained model's report again with the created and assigned shares", async () => {
    const own = await createTestDatabase('report');
    process.env.DATABASE_URL = own.url;
    onTestFinished(async () => {
      process.env.DATABASE_URL = db.url;
      await own.drop();
    });
    await cli('db', 'load', await generated('m.csv', 120, 8, 50_000), '--store', store);
    const trained = JSON.parse((await cli('db', 'train', '--k', '2', '--store', store, '--json')).out[0]!);
    const r = await cli('report', '--store', store);
    expect(r.out).toEqual([join(store, 'models', trained.modelVersion, 'report.html')]);
    expect(await readFile(r.out[0]!, 'utf8')).toMatch(/created/i);
    expect((await cli('report', '--store', store, '--model', '20200101T000000Z-000000000000')).err[0]).toMatch(
      /model 20200101T000000Z-000000000000 is not in/,
    );
  });

  it('loads, trains from the table, assigns nightly and reports status', async () => {
    expect((await cli('db', 'migrate', '--store', store)).out).toEqual(['database is up to date']);
    const load = await cli('db', 'load', await generated('m.csv', 150), '--store', store);
    expect(load.out[0]).toBe('150 rows read: 150 accepted (150 new, 0 changed, 0 unchanged), 0 rejected');
    const trained = JSON.parse((await cli('db', 'train', '--k', '3', '--store', store, '--json')).out[0]!);
    expect(trained).toMatchObject({ k: 3, promoted: true, members: 150, assign: { labeled: 150 } });
    await cli('db', 'load', await generated('n.csv', 12, 5, 9000), '--store', store);
    const nightly = JSON.parse((await cli('db', 'assign', '--store', store, '--json')).out[0]!);
    expect(nightly).toMatchObject({ status: 'labeled', labeled: 12 });
    const again = await cli('db', 'assign', '--store', store);
    expect(again.code).toBe(0);
    const status = JSON.parse((await cli('db', 'status', '--store', store, '--json')).out[0]!);
    expect(status).toMatchObject({
      activeModel: trained.modelVersion,
      customers: 162,
      unlabeled: 0,
      byOrigin: { created: 150, assigned: 12 },
    });
  });

  it('lists models, rolls back, and the next nightly run relabels with nothing lost', async () => {
    const own = await createTestDatabase('lifecycle');
    process.env.DATABASE_URL = own.url;
    onTestFinished(async () => {
      process.env.DATABASE_URL = db.url;
      await own.drop();
    });
    await cli('db', 'load', await generated('m.csv', 200, 9, 70_000), '--store', store);
    const a = JSON.parse((await cli('db', 'train', '--k', '3', '--store', store, '--json', '--no-report')).out[0]!);
    const b = JSON.parse((await cli('db', 'train', '--k', '4', '--store', store, '--json', '--no-report')).out[0]!);
    const listed = JSON.parse((await cli('models', 'list', '--store', store, '--json')).out[0]!);
    expect(listed.map((m: { modelVersion: string; active: boolean; previous: boolean }) => [m.modelVersion, m.active, m.previous])).toEqual(
      [
        [a.modelVersion, false, true],
        [b.modelVersion, true, false],
      ],
    );
    const rolled = JSON.parse((await cli('models', 'rollback', '--store', store, '--json')).out[0]!);
    expect(rolled).toMatchObject({ modelVersion: a.modelVersion, previous: b.modelVersion });
    const nightly = JSON.parse((await cli('db', 'assign', '--store', store, '--json')).out[0]!);
    expect(nightly).toMatchObject({ status: 'labeled', modelVersion: a.modelVersion, labeled: 200 });
    const status = JSON.parse((await cli('db', 'status', '--store', store, '--json')).out[0]!);
    expect(status).toMatchObject({ activeModel: a.modelVersion, customers: 200, unlabeled: 0, byOrigin: { created: 200 } });
    expect((await cli('models', 'promote', 'nonsense', '--store', store)).err[0]).toMatch(/"nonsense" is not a model version/);

    // a campaign list: one segment's customers, by id and by name
    const model = JSON.parse(await readFile(join(store, 'models', a.modelVersion, 'model.json'), 'utf8'));
    const segment = model.segments[0];
    const byId = JSON.parse((await cli('export', '--segment', String(segment.id), '--store', store, '--json')).out[0]!);
    expect(byId).toMatchObject({
      modelVersion: a.modelVersion,
      segment: segment.id,
      name: segment.name,
      rows: status.bySegment.find((s: { segment: number }) => s.segment === segment.id).customers,
    });
    const rows = csvRecords(await readFile(byId.uri, 'utf8'));
    expect(rows).toHaveLength(byId.rows);
    expect(new Set(rows.map((r) => r.segment_name))).toEqual(new Set([segment.name]));
    const byName = JSON.parse(
      (await cli('export', '--segment', segment.name.toUpperCase(), '--store', store, '--json', '--out', file('list.csv'))).out[0]!,
    );
    expect(byName.rows).toBe(byId.rows);
    expect((await cli('export', '--segment', 'nobody', '--store', store)).err[0]).toMatch(/has no segment "nobody"; its segments are 0 \(/);
  });

  it('runs the whole demo story', async () => {
    const own = await createTestDatabase('demo');
    process.env.DATABASE_URL = own.url;
    const r = await cli('demo', '--store', store).finally(async () => {
      process.env.DATABASE_URL = db.url;
      await own.drop();
    });
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain("1000 customers labeled 'created'");
    expect(text).toContain("5. nightly assignment: 150 customers labeled 'assigned'");
    expect(text).toContain('a second run finds no new customers');
    expect(text).toMatch(/model: +.*model\.json/);
    expect(r.out[r.out.length - 1]).toMatch(/^report: +\/.*report\.html$/);
  });
});

describe('the segments executable', () => {
  it('runs as a process (the bin package.json declares) and exits non-zero with one line on error', async () => {
    const root = join(import.meta.dirname, '../../..');
    const bin = join(root, (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { bin: { segments: string } }).bin.segments);
    const ok = await promisify(execFile)('node', [bin, 'generate', '--rows', '3']);
    expect(ok.stdout.trimEnd().split('\n')).toHaveLength(4);
    const failed = await promisify(execFile)('node', [bin, 'train', 'missing.csv']).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1, stderr: 'segments: file not found: missing.csv\n' });
    // with the embedded server started (its package hooks process exit): still exit code 1
    const env = { ...process.env, DATABASE_URL: '' };
    const dbFailed = await promisify(execFile)('node', [bin, 'db', 'load', 'missing.csv', '--store', store], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(dbFailed).toMatchObject({ code: 1, stderr: 'segments: file not found: missing.csv\n' });
  });
});
