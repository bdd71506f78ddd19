// The nightly assign function end to end through the Data API emulator: scheduled event, no model,
// no new customers, faults the SDK does not retry, and an interrupted run finished by the next.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogs, lambdaContext as invocationContext } from '../../support/lambda-invocation.ts';
import { createAssignHandler } from '../../../functions/assign/handler.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { publishModel } from '../../../shared/workflows/promote.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { METRIC } from '../../../shared/metrics.ts';
import { startLocalAws, type LocalAws } from '../../support/aws-local.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws('assign');
});
afterAll(async () => {
  await aws.close();
});
beforeEach(async () => {
  aws.dataApi.faults.clear();
  await aws.db.repo.pool.query('TRUNCATE customers, runs, training_members, locks');
});

const scheduled = {
  version: '0',
  id: 'e1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: '2026-11-27T00:00:00Z',
  resources: [],
  detail: {},
};

async function activeModel(): Promise<string> {
  const customers = [...generateCustomers({ rows: 200, seed: 1 })];
  const model = trainModel(
    { source: 'test', customers, rowsRead: 200, rowsRejected: 0, duplicates: 0 },
    { k: 4, maxK: 4, restarts: 5 },
    new Date(),
  );
  await publishModel(aws.runtime().store, model, { promote: true, autoPromote: true, now: () => new Date() });
  return model.modelVersion;
}

describe('assign handler', () => {
  it('refuses a mistaken manual invocation without throwing (no retries, no alarm)', async () => {
    expect(await createAssignHandler(aws.runtime())({ hello: 'world' })).toEqual({
      status: 'failed',
      error: 'the assign function takes the scheduled event or {}',
    });
  });

  it('logs "no active model" and succeeds on a fresh deploy, leaving the customers unlabeled', async () => {
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 5, seed: 2 })]);
    const logs = captureLogs();
    try {
      const runtime = aws.runtime({ LOG_LEVEL: 'INFO' });
      const metric = vi.spyOn(runtime.metrics, 'addMetric');
      const outcome = await createAssignHandler(runtime)(scheduled);
      expect(outcome).toMatchObject({ status: 'no-active-model', modelVersion: null, pending: 5, labeled: 0 });
      const lines = logs.filter((l) => l.service === 'segments-test');
      expect(lines).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'no active model: nothing to assign with' }));
      // not an error: nothing logged as one, and the run counts as a successful nightly run
      expect(lines.filter((l) => l.level === 'ERROR' || l.level === 'WARN')).toEqual([]);
      expect(metric).toHaveBeenCalledWith(METRIC.successfulRuns, 'Count', 1);
      const { rows } = await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers WHERE segment IS NULL');
      expect(rows[0].n).toBe(5);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('labels pending customers in the database, then finds no new customers', async () => {
    const version = await activeModel();
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 300, seed: 3 })]);
    const runtime = aws.runtime();
    const metric = vi.spyOn(runtime.metrics, 'addMetric');
    const handler = createAssignHandler(runtime);
    expect(await handler(scheduled)).toMatchObject({ status: 'labeled', pending: 300, labeled: 300, modelVersion: version });
    expect(metric).toHaveBeenCalledWith(METRIC.pending, 'Count', 300);
    expect(metric).toHaveBeenCalledWith(METRIC.labeled, 'Count', 300);
    expect(metric).toHaveBeenCalledWith(METRIC.successfulRuns, 'Count', 1);
    expect(await handler({})).toMatchObject({ status: 'no-new-customers', labeled: 0 });
    const { rows } = await aws.db.repo.pool.query(
      'SELECT count(*)::int AS n FROM customers WHERE segment_origin = $1 AND model_version = $2',
      ['assigned', version],
    );
    expect(rows[0].n).toBe(300);
  });

  it('retries a cluster resuming from auto-pause (which the SDK does not retry) and throttling', async () => {
    await activeModel();
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 40, seed: 4 })]);
    aws.dataApi.faults.failNext('DatabaseResumingException', 2);
    aws.dataApi.faults.failNext('ThrottlingException', 1);
    expect(await createAssignHandler(aws.runtime())(scheduled)).toMatchObject({ status: 'labeled', labeled: 40 });
  });

  it('rethrows a failure mid-batch; the next run labels the rest and nothing is lost', async () => {
    await activeModel();
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 100_000, seed: 5 })]);
    aws.dataApi.faults.failWhen(/UPDATE customers AS c SET/, {
      afterCalls: 1,
      errorName: 'StatementTimeoutException',
      message: 'statement timed out',
    });
    await expect(createAssignHandler(aws.runtime())(scheduled)).rejects.toThrow();
    aws.dataApi.faults.clear();
    const outcome = await createAssignHandler(aws.runtime())(scheduled);
    expect(outcome).toMatchObject({ status: 'labeled', labeled: 50_000 });
    expect((await aws.db.repo.pool.query('SELECT count(*)::int AS n FROM customers WHERE segment IS NULL')).rows[0].n).toBe(0);
    expect(aws.dataApi.stats.maxResponseBytes).toBeLessThan(1024 * 1024);
  });
});

describe('assign handler as Lambda runs it', () => {
  const lambdaContext = (awsRequestId: string) => invocationContext('CustomerSegmentation-AssignFunction', awsRequestId, '512');

  /** Records the metric names of every publish (POWERTOOLS_METRICS_DISABLED prints nothing). */
  function recordPublished(runtime: ReturnType<LocalAws['runtime']>): string[][] {
    const publish = runtime.metrics.publishStoredMetrics.bind(runtime.metrics);
    const published: string[][] = [];
    vi.spyOn(runtime.metrics, 'publishStoredMetrics').mockImplementation(() => {
      published.push(runtime.metrics.serializeMetrics()._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name)));
      return publish();
    });
    return published;
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs with the Lambda context: every line of the run carries its request id', async () => {
    const logs = captureLogs();
    const handler = createAssignHandler(aws.runtime({ LOG_LEVEL: 'INFO' }));
    await handler(scheduled, lambdaContext('req-assign-1'));
    const lines = logs.filter((l) => l.service === 'segments-test');
    expect(lines.map((l) => l.message)).toContain('assign finished');
    for (const line of lines) {
      expect(line).toMatchObject({ function_request_id: 'req-assign-1', function_name: 'CustomerSegmentation-AssignFunction' });
    }
  });

  it('publishes its metrics once per run, after the run', async () => {
    await activeModel();
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 50, seed: 6 })]);
    const runtime = aws.runtime();
    const published = recordPublished(runtime);
    expect(await createAssignHandler(runtime)(scheduled, lambdaContext('req-assign-2'))).toMatchObject({ labeled: 50 });
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual(expect.arrayContaining([METRIC.pending, METRIC.labeled, METRIC.durationMs, METRIC.successfulRuns]));
  });

  it('a run that fails on infrastructure is rethrown and logged with its request id; it leaves no metric behind for the next run', async () => {
    await activeModel();
    await aws.db.repo.upsertCustomers([...generateCustomers({ rows: 20, seed: 7 })]);
    aws.dataApi.faults.failWhen(/UPDATE customers AS c SET/, { errorName: 'StatementTimeoutException', message: 'statement timed out' });
    const logs = captureLogs();
    const runtime = aws.runtime();
    const published = recordPublished(runtime);
    const handler = createAssignHandler(runtime);
    await expect(handler(scheduled, lambdaContext('req-assign-3'))).rejects.toThrow(/statement timed out/);
    expect(logs.find((l) => l.message === 'invocation failed')).toMatchObject({ level: 'ERROR', function_request_id: 'req-assign-3' });
    expect(runtime.metrics.hasStoredMetrics()).toBe(false);
    aws.dataApi.faults.clear();
    expect(await handler(scheduled, lambdaContext('req-assign-4'))).toMatchObject({ status: 'labeled', labeled: 20 });
    expect(published).toHaveLength(1);
    expect(published[0]!.filter((name) => name === METRIC.successfulRuns)).toHaveLength(1);
  });
});
