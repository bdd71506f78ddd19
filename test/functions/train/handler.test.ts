// The train function end to end: an upload under uploads/training/, a direct invocation from the
// table, and user-fixable problems that end in a failed summary rather than a retry.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogs, lambdaContext as invocationContext } from '../../support/lambda-invocation.ts';
import { createTrainHandler } from '../../../functions/train/handler.ts';
import type { TrainSummary } from '../../../shared/workflows/train-upload.ts';
import { parseModel } from '../../../shared/model/artifact.ts';
import { generateCsv, generateCustomers } from '../../../shared/sample/generate.ts';
import { METRIC } from '../../../shared/metrics.ts';
import { startLocalAws, s3Event, type LocalAws } from '../../support/aws-local.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws('train');
});
afterAll(async () => {
  await aws.close();
});
beforeEach(async () => {
  aws.dataApi.faults.clear();
  await aws.db.repo.pool.query('TRUNCATE customers, runs, training_members, ingested_objects');
});

const csv = (rows: number, seed: number): string => [...generateCsv({ rows, seed })].join('');

describe('train handler', () => {
  it('trains from an upload under uploads/training/, writes models/<version>/model.json and promotes it', async () => {
    const key = 'uploads/training/members 2026.csv';
    const etag = await aws.put(key, csv(300, 1));
    const summary = (await createTrainHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]))) as TrainSummary;
    expect(summary).toMatchObject({
      status: 'ok',
      source: `s3://${aws.s3.bucket}/${key}`,
      promoted: true,
      rowsRead: 300,
      rowsAccepted: 300,
    });
    const model = parseModel((await aws.get(`models/${summary.modelVersion}/model.json`))!, 'model.json');
    expect(model.k).toBe(summary.k);
    expect(model.training.source).toBe(`s3://${aws.s3.bucket}/${key}`);
    expect(JSON.parse((await aws.get('models/active.json'))!).modelVersion).toBe(summary.modelVersion);
    expect(await aws.get(`models/${summary.modelVersion}/report.html`)).toContain('<!doctype html>');
  });

  it('trains once per uploaded object: a redelivered event does nothing', async () => {
    const key = 'uploads/training/once.csv';
    const etag = await aws.put(key, csv(120, 6));
    const event = s3Event(aws.s3.bucket, [{ key, etag }]);
    const first = (await createTrainHandler(aws.runtime())(event)) as TrainSummary;
    const models = await aws.runtime().store.listModels();
    const again = (await createTrainHandler(aws.runtime())(event)) as TrainSummary;
    expect(again).toMatchObject({ status: 'ok', duplicate: true, modelVersion: first.modelVersion });
    expect(await aws.runtime().store.listModels()).toEqual(models);
  });

  it('answers a redelivery whose ledger record is not a training summary with a failed duplicate, training nothing', async () => {
    const key = 'uploads/training/unreadable.csv';
    const etag = await aws.put(key, csv(120, 7));
    await aws.db.repo.recordIngested(aws.s3.bucket, key, etag, { status: 'ok', rowsRead: 'many' });
    const models = await aws.runtime().store.listModels();
    const summary = (await createTrainHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]))) as TrainSummary;
    expect(summary).toMatchObject({
      status: 'failed',
      duplicate: true,
      modelVersion: null,
      error: 'this upload was trained on before, but the record of that training cannot be read',
    });
    expect(await aws.runtime().store.listModels()).toEqual(models);
  });

  it('trains from the table on {"source": "database"} and labels its customers created', async () => {
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 150, seed: 2 })]);
    const summary = (await createTrainHandler(aws.runtime())({ source: 'database', k: 3, promote: true })) as TrainSummary;
    expect(summary).toMatchObject({ status: 'ok', k: 3, promoted: true, rowsAccepted: 150 });
    const { rows } = await aws.db.repo.pool.query('SELECT segment_origin, model_version, count(*)::int AS n FROM customers GROUP BY 1, 2');
    expect(rows).toEqual([{ segment_origin: 'created', model_version: summary.modelVersion, n: 150 }]);
  });

  it('keeps the active model when AUTO_PROMOTE is false and the caller does not ask', async () => {
    const first = (await createTrainHandler(aws.runtime())({
      source: { bucket: aws.s3.bucket, key: await put('uploads/training/a.csv', csv(100, 3)) },
      k: 2,
    })) as TrainSummary;
    const second = (await createTrainHandler(aws.runtime({ AUTO_PROMOTE: 'false' }))({
      source: { bucket: aws.s3.bucket, key: 'uploads/training/a.csv' },
      k: 3,
    })) as TrainSummary;
    expect(second.promoted).toBe(false);
    expect(JSON.parse((await aws.get('models/active.json'))!).modelVersion).toBe(first.modelVersion);
  });

  it('promotes a version and rolls back by direct invocation', async () => {
    const handler = createTrainHandler(aws.runtime());
    const first = (await handler({
      source: { bucket: aws.s3.bucket, key: await put('uploads/training/p.csv', csv(80, 5)) },
      k: 2,
      promote: true,
    })) as TrainSummary;
    const second = (await handler({
      source: { bucket: aws.s3.bucket, key: 'uploads/training/p.csv' },
      k: 3,
      promote: true,
    })) as TrainSummary;
    expect(await handler({ rollback: true })).toMatchObject({
      status: 'ok',
      active: { modelVersion: first.modelVersion, previous: second.modelVersion },
    });
    expect(await handler({ promote: second.modelVersion })).toMatchObject({ status: 'ok', active: { modelVersion: second.modelVersion } });
    expect(await handler({ promote: '20200101T000000Z-000000000000' })).toMatchObject({ status: 'failed', active: null });
  });

  it('writes a summary for every uploaded training file, so a bad one says why', async () => {
    const key = 'uploads/training/2026/broken.csv';
    const etag = await aws.put(key, 'name,email\nAda,ada@example.com\n');
    const summary = (await createTrainHandler(aws.runtime())(s3Event(aws.s3.bucket, [{ key, etag }]))) as TrainSummary;
    expect(summary.status).toBe('failed');
    const written = JSON.parse((await aws.get('results/training/2026/broken/summary.json'))!);
    expect(written).toMatchObject({ status: 'failed', source: `s3://${aws.s3.bucket}/${key}`, modelVersion: null });
    expect(written.error).toMatch(/^missing required columns/);
  });

  it('ends user-fixable problems in a failed summary: a bad file, another bucket, a bad request', async () => {
    const handler = createTrainHandler(aws.runtime());
    await aws.put('uploads/training/bad.csv', 'just,some,columns\n1,2,3\n');
    const bad = (await handler({ source: { bucket: aws.s3.bucket, key: 'uploads/training/bad.csv' } })) as TrainSummary;
    expect(bad).toMatchObject({ status: 'failed', modelVersion: null });
    expect(bad.error).toMatch(/^missing required columns/);
    const foreign = (await handler({ source: { bucket: 'someone-elses-bucket', key: 'uploads/training/x.csv' } })) as TrainSummary;
    expect(foreign.error).toMatch(/must be in the data bucket/);
    const nonsense = (await handler({ hello: 'world' })) as TrainSummary;
    expect(nonsense).toMatchObject({ status: 'failed' });
    expect(nonsense.error).toMatch(/^not a train request/);
  });
});

describe('train handler as Lambda runs it', () => {
  const lambdaContext = (awsRequestId: string) => invocationContext('CustomerSegmentation-TrainFunction', awsRequestId, '2048');

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs with the Lambda context: a refused request names the invocation it refused', async () => {
    const logs = captureLogs();
    const handler = createTrainHandler(aws.runtime());
    expect(await handler({ hello: 'world' }, lambdaContext('req-train-1'))).toMatchObject({ status: 'failed' });
    expect(logs.find((l) => l.message === 'train request refused')).toMatchObject({
      level: 'ERROR',
      function_request_id: 'req-train-1',
      function_name: 'CustomerSegmentation-TrainFunction',
    });
  });

  it('publishes the metric of a file it trained on when a later file of the event fails on infrastructure', async () => {
    const logs = captureLogs();
    const good = 'uploads/training/before-failure.csv';
    const goodTag = await aws.put(good, csv(120, 7));
    const failing = 'uploads/training/failing.csv';
    const failingTag = await aws.put(failing, csv(120, 8));
    // the first upload's claim succeeds, the second one's times out: an infrastructure error, rethrown
    aws.dataApi.faults.failWhen(/INSERT INTO ingested_objects AS o/, {
      afterCalls: 1,
      errorName: 'StatementTimeoutException',
      message: 'statement timed out',
    });
    const runtime = aws.runtime();
    // a spy on the Metrics instance: with POWERTOOLS_METRICS_DISABLED nothing is printed, so record what would be
    const publish = runtime.metrics.publishStoredMetrics.bind(runtime.metrics);
    const published: string[][] = [];
    vi.spyOn(runtime.metrics, 'publishStoredMetrics').mockImplementation(() => {
      published.push(runtime.metrics.serializeMetrics()._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name)));
      return publish();
    });
    const event = s3Event(aws.s3.bucket, [
      { key: good, etag: goodTag },
      { key: failing, etag: failingTag },
    ]);
    await expect(createTrainHandler(runtime)(event, lambdaContext('req-train-2'))).rejects.toThrow(/statement timed out/);
    expect(published).toEqual([[METRIC.trainingFilesTrained]]);
    expect(logs.find((l) => l.message === 'invocation failed')).toMatchObject({ level: 'ERROR', function_request_id: 'req-train-2' });
  });
});

async function put(key: string, body: string): Promise<string> {
  await aws.put(key, body);
  return key;
}
