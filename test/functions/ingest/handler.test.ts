// The ingest function end to end: S3 events through the real handler, s3rver for the bucket, the
// Data API emulator over a real PostgreSQL database, unmodified AWS SDK clients.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogs, lambdaContext as invocationContext } from '../../support/lambda-invocation.ts';
import { createIngestHandler } from '../../../functions/ingest/handler.ts';
import { createTrainHandler } from '../../../functions/train/handler.ts';
import { publishModel } from '../../../shared/workflows/promote.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { generateCsv, generateCustomers } from '../../../shared/sample/generate.ts';
import type { LabelSummary } from '../../../shared/workflows/summary.ts';
import { METRIC } from '../../../shared/metrics.ts';
import { startLocalAws, s3Event, type LocalAws } from '../../support/aws-local.ts';
import { S3ObjectSource } from '../../../functions/adapters/s3-objects.ts';
import type { OpenedObject } from '../../../shared/ports.ts';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws('ingest');
});
afterAll(async () => {
  await aws.close();
});
beforeEach(async () => {
  aws.dataApi.faults.clear();
  await aws.db.repo.pool.query('TRUNCATE customers, ingested_objects, ingest_batches, runs, training_members');
});

const csv = (rows: number, seed: number, firstId = 1): string => [...generateCsv({ rows, seed, firstId })].join('');

async function promoteModel(seed = 1): Promise<string> {
  const runtime = aws.runtime();
  const customers = [...generateCustomers({ rows: 200, seed })];
  const model = trainModel(
    { source: 'test', customers, rowsRead: 200, rowsRejected: 0, duplicates: 0 },
    { k: 3, maxK: 3, restarts: 5 },
    new Date(),
  );
  await publishModel(runtime.store, model, { promote: true, autoPromote: true, now: () => new Date() });
  return model.modelVersion;
}

async function ingest(
  key: string,
  body: string,
): Promise<{ result: Awaited<ReturnType<ReturnType<typeof createIngestHandler>>>; etag: string }> {
  const etag = await aws.put(key, body);
  const handler = createIngestHandler(aws.runtime());
  return { result: await handler(s3Event(aws.s3.bucket, [{ key, etag }])), etag };
}

const summaryOf = async (name: string): Promise<LabelSummary> => JSON.parse((await aws.get(`results/customers/${name}/summary.json`))!);

describe('ingest handler', () => {
  it('validates and upserts customers with no active model, leaving them unlabeled and saying so', async () => {
    const { result } = await ingest('uploads/customers/first.csv', csv(20, 2));
    expect(result.results[0]!.outcome.status).toBe('processed');
    const summary = await summaryOf('first');
    expect(summary).toMatchObject({ status: 'ok', modelVersion: null, rowsRead: 20, rowsAccepted: 20, rowsRejected: 0 });
    expect(summary.warnings[0]).toMatch(/no active model/);
    const { rows } = await aws.db.repo.pool.query('SELECT count(*)::int AS n, count(segment)::int AS labeled FROM customers');
    expect(rows[0]).toEqual({ n: 20, labeled: 0 });
  });

  it('labels customers with the active model in the table and in labeled.csv, and reports rejects', async () => {
    const version = await promoteModel();
    const body = `${csv(30, 3)}0000031,Robot,40,50,50\n0000032,Female,41,-5,50\n`;
    await ingest('uploads/customers/batch 1.csv', body);
    const summary = await summaryOf('batch 1');
    expect(summary).toMatchObject({ status: 'ok', modelVersion: version, rowsRead: 32, rowsAccepted: 30, rowsRejected: 2 });
    expect(Object.values(summary.segments).reduce((a, b) => a + b, 0)).toBe(30);
    const labeled = (await aws.get('results/customers/batch 1/labeled.csv'))!.trimEnd().split('\n');
    expect(labeled).toHaveLength(31);
    expect(labeled[0]).toBe(
      'customer_id,gender,age,annual_income_thousands,spending_score,segment,segment_name,segment_origin,segment_distance,is_outlier,model_version',
    );
    const rejects = (await aws.get('results/customers/batch 1/rejects.csv'))!.trimEnd().split('\n');
    expect(rejects.slice(1).map((r) => r.split(',').slice(0, 2).join(','))).toEqual(['32,0000031', '33,0000032']);
    const { rows } = await aws.db.repo.pool.query('SELECT DISTINCT segment_origin, model_version FROM customers');
    expect(rows).toEqual([{ segment_origin: 'assigned', model_version: version }]);
  });

  it('exports a segment of the active model as a campaign list under results/exports/ on direct invocation', async () => {
    await promoteModel();
    await ingest('uploads/customers/for-export.csv', csv(60, 9));
    const handler = createIngestHandler(aws.runtime());
    const result = await handler({ export: { segment: 0 } });
    expect(result.export).toMatchObject({
      status: 'ok',
      outcome: { segment: 0, uri: `s3://${aws.s3.bucket}/results/exports/segment-0/customers.csv` },
    });
    const text = (await aws.get('results/exports/segment-0/customers.csv'))!;
    expect(text.trimEnd().split('\n')).toHaveLength(result.export!.outcome!.rows + 1);
    expect((await handler({ export: { segment: 'no such segment' } })).export).toMatchObject({ status: 'failed' });
  });

  it('says created in labeled.csv for a customer the table-trained active model was trained on', async () => {
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 100, seed: 15 })]);
    await createTrainHandler(aws.runtime())({ source: 'database', k: 2, promote: true });
    // customer 0000001 was in the training data; 0009001 is new
    await ingest('uploads/customers/mixed.csv', `${csv(1, 15)}0009001,Female,30,40,50\n`);
    const labeled = (await aws.get('results/customers/mixed/labeled.csv'))!.trimEnd().split('\n').slice(1);
    expect(labeled.map((line) => [line.split(',')[0], line.split(',')[7]])).toEqual([
      ['0000001', 'created'],
      ['0009001', 'assigned'],
    ]);
  });

  it('processes the same object once: a redelivery does nothing', async () => {
    const { etag } = await ingest('uploads/customers/again.csv', csv(10, 4));
    const handler = createIngestHandler(aws.runtime());
    const second = await handler(s3Event(aws.s3.bucket, [{ key: 'uploads/customers/again.csv', etag }]));
    expect(second.results[0]!.outcome.status).toBe('duplicate');
    const { rows } = await aws.db.repo.pool.query("SELECT count(*)::int AS n FROM runs WHERE kind = 'ingest'");
    expect(rows[0].n).toBe(1);
  });

  it('processes an upload once even when two deliveries arrive together', async () => {
    const key = 'uploads/customers/twice.csv';
    const etag = await aws.put(key, csv(300, 16));
    const event = s3Event(aws.s3.bucket, [{ key, etag }]);
    const [a, b] = await Promise.all([createIngestHandler(aws.runtime())(event), createIngestHandler(aws.runtime())(event)]);
    const statuses = [a.results[0]!.outcome.status, b.results[0]!.outcome.status].sort();
    expect(statuses[0]).toMatch(/^(duplicate|in-progress)$/);
    expect(statuses[1]).toBe('processed');
    const { rows } = await aws.db.repo.pool.query("SELECT count(*)::int AS n FROM runs WHERE kind = 'ingest'");
    expect(rows[0].n).toBe(1);
  });

  it('fails a file that is not the contract cleanly: a summary that says why, no other output, table unchanged, no retry', async () => {
    const { result } = await ingest('uploads/customers/broken.csv', 'name,email\nAda,ada@example.com\n');
    expect(result.results[0]!.outcome.status).toBe('processed');
    const summary = await summaryOf('broken');
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^missing required columns: customer_id/);
    expect(await aws.get('results/customers/broken/labeled.csv')).toBeNull();
    expect(await aws.get('results/customers/broken/rejects.csv')).toBeNull();
    const { rows } = await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers');
    expect(rows[0].n).toBe(0);
  });

  it('fails a file that breaks the contract only at its end before a row reaches the table', async () => {
    await promoteModel();
    const key = 'uploads/customers/late-nul.csv';
    const { result, etag } = await ingest(key, `${csv(2500, 17)}0002501,Female,30,40,\u000050\n`);
    expect(result.results[0]!.outcome.status).toBe('processed');
    expect(await summaryOf('late-nul')).toMatchObject({ status: 'failed', error: 'not a text file (it contains NUL bytes)', rowsRead: 0 });
    expect(await aws.get('results/customers/late-nul/labeled.csv')).toBeNull();
    expect(await aws.get('results/customers/late-nul/rejects.csv')).toBeNull();
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
    // no retry: a redelivery finds the object done
    const again = await createIngestHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]));
    expect(again.results[0]!.outcome.status).toBe('duplicate');
  });

  it('leaves an upload replaced since its event to the newer upload: nothing written, table unchanged', async () => {
    const key = 'uploads/customers/replaced.csv';
    const old = await aws.put(key, csv(10, 18));
    await aws.put(key, csv(12, 19));
    const result = await createIngestHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag: old }]));
    expect(result.results[0]!.outcome.status).toBe('superseded');
    expect(await aws.get('results/customers/replaced/summary.json')).toBeNull();
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
  });

  it('leaves an upload replaced between its two reads to the newer upload: nothing written, table unchanged', async () => {
    const key = 'uploads/customers/replaced-midway.csv';
    const etag = await aws.put(key, csv(1500, 20));
    const runtime = aws.runtime();
    let opens = 0;
    // a new version arrives once the first read (which settles the duplicate rule) has opened the object
    const objects = new (class extends S3ObjectSource {
      override async open(k: string, e?: string): Promise<OpenedObject | null> {
        if (opens++ === 1) await aws.put(key, csv(5, 21));
        return await super.open(k, e);
      }
    })(aws.s3.bucket, runtime.s3);
    const result = await createIngestHandler({ ...runtime, objects })(s3Event(aws.s3.bucket, [{ key, etag }]));
    expect(opens).toBe(2);
    expect(result.results[0]!.outcome.status).toBe('superseded');
    for (const name of ['labeled.csv', 'rejects.csv', 'summary.json'])
      expect(await aws.get(`results/customers/replaced-midway/${name}`)).toBeNull();
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
  });

  it('removes the earlier outputs of the same name when a re-upload fails', async () => {
    await ingest('uploads/customers/weekly.csv', csv(5, 12));
    expect(await aws.get('results/customers/weekly/labeled.csv')).not.toBeNull();
    await ingest('uploads/customers/weekly.csv', 'not,the,contract\n1,2,3\n');
    expect((await summaryOf('weekly')).status).toBe('failed');
    expect(await aws.get('results/customers/weekly/labeled.csv')).toBeNull();
    expect(await aws.get('results/customers/weekly/rejects.csv')).toBeNull();
  });

  it('keeps files of the same name in different folders apart', async () => {
    await ingest('uploads/customers/2026/01/batch.csv', csv(3, 13, 300));
    await ingest('uploads/customers/2026/02/batch.csv', csv(4, 14, 400));
    expect((await summaryOf('2026/01/batch')).rowsRead).toBe(3);
    expect((await summaryOf('2026/02/batch')).rowsRead).toBe(4);
  });

  it('handles several records in one event and ignores keys outside uploads/customers/', async () => {
    const a = await aws.put('uploads/customers/a.csv', csv(5, 5, 100));
    const b = await aws.put('uploads/customers/b.csv', csv(5, 6, 200));
    const handler = createIngestHandler(aws.runtime());
    const result = await handler(
      s3Event(aws.s3.bucket, [
        { key: 'uploads/customers/a.csv', etag: a },
        { key: 'uploads/customers/b.csv', etag: b },
        { key: 'results/x.csv', etag: 'e' },
      ]),
    );
    expect(result.results.map((r) => r.outcome.status)).toEqual(['processed', 'processed', 'ignored']);
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(10);
  });

  it('keeps every Data API request under 4 MiB and survives a cluster resuming from auto-pause', async () => {
    await promoteModel();
    aws.dataApi.faults.failNext('DatabaseResumingException', 2);
    await ingest('uploads/customers/large.csv', csv(5000, 7));
    expect((await summaryOf('large')).rowsAccepted).toBe(5000);
    expect(aws.dataApi.stats.maxRequestBytes).toBeLessThan(4 * 1024 * 1024);
    expect((await aws.db.repo.pool.query('SELECT count(segment)::int AS n FROM customers')).rows[0].n).toBe(5000);
  });

  it('rethrows an infrastructure failure so Lambda retries, and the retry finishes the job', async () => {
    aws.dataApi.faults.failWhen(/INSERT INTO customers/, {
      afterCalls: 1,
      errorName: 'StatementTimeoutException',
      message: 'statement timed out',
    });
    const key = 'uploads/customers/flaky.csv';
    const etag = await aws.put(key, csv(2500, 8));
    const handler = createIngestHandler({ ...aws.runtime() });
    await expect(handler(s3Event(aws.s3.bucket, [{ key, etag }]))).rejects.toThrow(/statement timed out/);
    // labeled.csv was streaming when the second batch's upsert failed: no output of the run exists
    for (const name of ['labeled.csv', 'rejects.csv', 'summary.json']) expect(await aws.get(`results/customers/flaky/${name}`)).toBeNull();
    aws.dataApi.faults.clear();
    const retry = await createIngestHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]));
    expect(retry.results[0]!.outcome.status).toBe('processed');
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(2500);
  });
});

describe('ingest handler resuming a run that died', () => {
  const context = (awsRequestId: string) => invocationContext('CustomerSegmentation-IngestFunction', awsRequestId);
  const name = 'resume';
  const key = `uploads/customers/${name}.csv`;
  // 12,000 rows (6 batches of 2,000 winning rows), a reject, and customer 5 again (superseding line 6)
  const body = `${csv(12_000, 24)}0099999,Robot,30,40,50\n0000005,Female,33,44,55\n`;

  /** Everything a run leaves: its outputs, the table, the ledger's progress and runs (times left out). */
  async function outcome(): Promise<Record<string, unknown>> {
    const summary = JSON.parse((await aws.get(`results/customers/${name}/summary.json`)) ?? 'null') as Record<string, unknown> | null;
    const { pool } = aws.db.repo;
    const table = await pool.query(
      `SELECT customer_id, gender, age, CAST(annual_income_thousands AS text) AS income, spending_score, segment, segment_name,
         segment_origin, segment_distance, is_outlier, model_version FROM customers ORDER BY customer_id`,
    );
    return {
      labeled: await aws.get(`results/customers/${name}/labeled.csv`),
      rejects: await aws.get(`results/customers/${name}/rejects.csv`),
      summary: summary === null ? null : { ...summary, startedAt: undefined, finishedAt: undefined },
      table: table.rows,
      progress: (await pool.query('SELECT count(*)::int AS n FROM ingest_batches')).rows[0].n,
      runs: (await pool.query("SELECT rows_read, rows_accepted, rows_rejected, labeled, status FROM runs WHERE kind = 'ingest'")).rows,
    };
  }

  async function forget(): Promise<void> {
    await aws.db.repo.pool.query('TRUNCATE customers, ingested_objects, ingest_batches, runs');
    for (const file of ['labeled.csv', 'rejects.csv', 'summary.json'])
      await aws.s3.client.send(new DeleteObjectCommand({ Bucket: aws.s3.bucket, Key: `results/customers/${name}/${file}` }));
  }

  /** Runs the handler once with `requestId`, counting the batches it stores. */
  async function invoke(etag: string, requestId: string): Promise<{ status: string; stored: number }> {
    const runtime = aws.runtime();
    const store = vi.spyOn(runtime.repo, 'storeUploadBatch');
    try {
      const result = await createIngestHandler(runtime)(s3Event(aws.s3.bucket, [{ key, etag }]), context(requestId));
      return { status: result.results[0]!.outcome.status, stored: store.mock.calls.length };
    } catch {
      return { status: 'failed', stored: store.mock.calls.length };
    } finally {
      store.mockRestore();
    }
  }

  // the kill at the first batch, in the middle, at the last one, and after every batch (before the outcome)
  it.each([
    ['before its first batch', /INSERT INTO ingest_batches/, 0],
    ['after 3 of 6 batches', /INSERT INTO ingest_batches/, 3],
    ['at its last batch', /INSERT INTO ingest_batches/, 5],
    ['after every batch', /INSERT INTO runs/, 0],
  ])(
    'ends like an uninterrupted run when killed %s and retried with the same request id, with the model it started with',
    async (_, pattern, afterCalls) => {
      const started = await promoteModel(1);
      const etag = await aws.put(key, body);
      const reference = await invoke(etag, 'req-reference');
      expect(reference).toEqual({ status: 'processed', stored: 6 });
      const uninterrupted = await outcome();
      expect(uninterrupted.summary).toMatchObject({ rowsRead: 12_002, rowsAccepted: 12_000, rowsRejected: 2, duplicates: 1 });
      expect(uninterrupted.progress).toBe(0);
      await forget();

      aws.dataApi.faults.failWhen(pattern, { afterCalls, errorName: 'StatementTimeoutException', message: 'statement timed out' });
      expect((await invoke(etag, 'req-killed')).status).toBe('failed');
      aws.dataApi.faults.clear();
      const done = (await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM ingest_batches')).rows[0].n;
      const allStored = pattern.source.includes('runs');
      expect(done).toBe(allStored ? 6 : afterCalls);
      // killed while it stored: no output of the run is complete
      if (!allStored)
        for (const file of ['labeled.csv', 'rejects.csv', 'summary.json'])
          expect(await aws.get(`results/customers/${name}/${file}`)).toBeNull();
      // another delivery of the object while the run waits for its retry; then a newer model
      expect(await invoke(etag, 'req-other')).toEqual({ status: 'in-progress', stored: 0 });
      await promoteModel(2);

      const retry = await invoke(etag, 'req-killed');
      expect(retry).toEqual({ status: 'processed', stored: 6 - done });
      expect(await outcome()).toEqual(uninterrupted);
      expect(new Set((uninterrupted.table as Array<{ model_version: string }>).map((r) => r.model_version))).toEqual(new Set([started]));
      expect(await invoke(etag, 'req-later')).toEqual({ status: 'duplicate', stored: 0 });
    },
  );

  it("gives a table-trained model's origins to the batches an earlier run stored as to the rest", async () => {
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 5000, seed: 25 })]);
    await createTrainHandler(aws.runtime())({ source: 'database', k: 2, promote: true });
    // customers 1..5000 were trained on, 5001..8000 are new
    const etag = await aws.put(key, csv(8000, 25));
    aws.dataApi.faults.failWhen(/INSERT INTO ingest_batches/, { afterCalls: 2, errorName: 'StatementTimeoutException' });
    expect((await invoke(etag, 'req-table')).status).toBe('failed');
    aws.dataApi.faults.clear();
    expect(await invoke(etag, 'req-table')).toEqual({ status: 'processed', stored: 2 });
    const lines = (await aws.get(`results/customers/${name}/labeled.csv`))!.trimEnd().split('\n').slice(1);
    const origins = new Map(lines.map((line) => [line.split(',')[0]!, line.split(',')[7]]));
    expect(origins.size).toBe(8000);
    for (const [id, origin] of origins) expect(origin).toBe(Number(id) <= 5000 ? 'created' : 'assigned');
    const { rows } = await aws.db.repo.pool.query('SELECT customer_id, segment_origin FROM customers');
    for (const r of rows) expect(r.segment_origin).toBe(origins.get(r.customer_id));
  });
});

describe('ingest handler as Lambda runs it', () => {
  const lambdaContext = (awsRequestId: string) => invocationContext('CustomerSegmentation-IngestFunction', awsRequestId, '1024');

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs with the Lambda context: every line of the invocation carries its request id', async () => {
    const logs = captureLogs();
    const key = 'uploads/customers/context.csv';
    const etag = await aws.put(key, csv(3, 11, 500));
    const handler = createIngestHandler(aws.runtime({ LOG_LEVEL: 'INFO' }));
    await handler(s3Event(aws.s3.bucket, [{ key, etag }]), lambdaContext('req-ingest-1'));
    const lines = logs.filter((l) => l.service === 'segments-test');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatchObject({ function_request_id: 'req-ingest-1', function_name: 'CustomerSegmentation-IngestFunction' });
    }
    expect(lines.map((l) => l.message)).toContain('ingested');
  });

  it('publishes the metrics of the files it did process when a later one fails on infrastructure, and logs the failure', async () => {
    const logs = captureLogs();
    const a = await aws.put('uploads/customers/before-failure.csv', csv(5, 12, 600));
    const b = await aws.put('uploads/customers/failing.csv', csv(5, 13, 700));
    // the first file's upsert succeeds, the second one's times out: an infrastructure error, rethrown
    aws.dataApi.faults.failWhen(/INSERT INTO customers/, {
      afterCalls: 1,
      errorName: 'StatementTimeoutException',
      message: 'statement timed out',
    });
    const runtime = aws.runtime();
    // a spy on the Metrics instance: with POWERTOOLS_METRICS_DISABLED nothing is printed, so record what would be
    const publish = runtime.metrics.publishStoredMetrics.bind(runtime.metrics);
    const published: string[][] = [];
    vi.spyOn(runtime.metrics, 'publishStoredMetrics').mockImplementation(() => {
      const emf = runtime.metrics.serializeMetrics();
      published.push(emf._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name)));
      return publish();
    });
    const event = s3Event(aws.s3.bucket, [
      { key: 'uploads/customers/before-failure.csv', etag: a },
      { key: 'uploads/customers/failing.csv', etag: b },
    ]);
    await expect(createIngestHandler(runtime)(event, lambdaContext('req-ingest-2'))).rejects.toThrow(/statement timed out/);
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual(expect.arrayContaining([METRIC.rowsRead, METRIC.rowsRejected, METRIC.filesIngested]));
    expect(runtime.metrics.hasStoredMetrics()).toBe(false);
    const failure = logs.find((l) => l.message === 'invocation failed');
    expect(failure).toMatchObject({ level: 'ERROR', function_request_id: 'req-ingest-2' });
  });
});
