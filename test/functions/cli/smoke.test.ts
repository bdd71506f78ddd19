// `segments smoke` against a local "deployed stack": the real train, ingest and assign handlers
// behind the control-plane stub's Lambda Invoke, s3rver for the bucket, the Data API emulator over
// a real PostgreSQL database, and the bucket's upload notifications played by the harness.

import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../functions/cli/main.ts';
import { smoke, smokeClients, SmokeFailedError, type SmokeClients, type SmokeReport } from '../../../functions/cli/smoke.ts';
import { STACK_NAME } from '../../../infra/deployment.ts';
import { userMessage } from '../../../shared/errors.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { startLocalAws, type LocalAws } from '../../support/aws-local.ts';
import { startControlPlaneStub, type ControlPlaneStub } from '../../support/control-plane-stub.ts';
import { deploySmokeStack, FUNCTION_NAMES, LOG_GROUPS, type SmokeStack } from '../../support/smoke-stack.ts';
import { failedTrainSummary } from '../../../shared/workflows/train-upload.ts';

let aws: LocalAws;
let stub: ControlPlaneStub;
let stack: SmokeStack;
let s3: S3Client;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  aws = await startLocalAws('smoke');
  stub = await startControlPlaneStub();
  for (const key of Object.keys(stub.env)) saved[key] = process.env[key];
  Object.assign(process.env, stub.env);
  stack = deploySmokeStack(aws, stub);
  s3 = stack.s3Client();
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await stub.close();
  await aws.close();
});

beforeEach(async () => {
  stack.reset();
  stack.deliveries.length = 0;
  stub.calls.length = 0;
  aws.dataApi.faults.clear();
  await aws.db.repo.pool.query('TRUNCATE customers, ingested_objects, runs, training_members');
  for (const key of await bucketKeys()) await aws.s3.client.send(new DeleteObjectCommand({ Bucket: aws.s3.bucket, Key: key }));
});

async function bucketKeys(): Promise<string[]> {
  const out = await aws.s3.client.send(new ListObjectsV2Command({ Bucket: aws.s3.bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** The smoke clients of the CLI, with the bucket's client playing its upload notifications. */
const clientsFor = (region: string): SmokeClients => ({ ...smokeClients(region), s3: stack.s3Client() });

interface Run {
  report: SmokeReport | null;
  error: unknown;
  out: string[];
  err: string[];
}

async function runSmoke(options: { ingestTimeoutMs?: number } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let report: SmokeReport | null = null;
  let error: unknown = null;
  try {
    report = await smoke({}, { out: (t) => out.push(t), err: (t) => err.push(t) }, clientsFor, { pollIntervalMs: 20, ...options });
  } catch (e) {
    error = e;
    if (e instanceof SmokeFailedError) report = e.report;
  }
  await stack.settled();
  return { report, error, out, err };
}

const lineOf = (run: Run, step: string): string => {
  const lines = run.out.filter((l) => l.startsWith(`${l.slice(0, 4)}  ${step}: `));
  expect(lines, `one line for ${step} in:\n${run.out.join('\n')}`).toHaveLength(1);
  return lines[0]!;
};

const csv = (rows: number, seed: number, firstId = 1): string => [...generateCsv({ rows, seed, firstId })].join('');

async function tableState(): Promise<{ smoke: number; all: number; ledger: number; members: number }> {
  const { rows } = await aws.db.repo.pool.query(
    `SELECT (SELECT count(*) FROM customers WHERE customer_id LIKE 'smoke-%')::int AS smoke,
            (SELECT count(*) FROM customers)::int AS all,
            (SELECT count(*) FROM ingested_objects WHERE key LIKE '%smoke-%')::int AS ledger,
            (SELECT count(*) FROM training_members)::int AS members`,
  );
  return rows[0];
}

/** A deployment in use: a model trained by the real train function and customers ingested by the real upload trigger. */
async function deploymentInUse(): Promise<{ activeJson: string; keys: string[] }> {
  await aws.put('uploads/training/mall.csv', csv(200, 3));
  const trained = (await stack.real.train({ source: { bucket: aws.s3.bucket, key: 'uploads/training/mall.csv' }, k: 4 })) as {
    status: string;
    promoted: boolean;
  };
  expect(trained).toMatchObject({ status: 'ok', promoted: true });
  await s3.send(new PutObjectCommand({ Bucket: aws.s3.bucket, Key: 'uploads/customers/monday.csv', Body: csv(30, 4, 5000) }));
  await stack.settled();
  expect(stack.deliveries.map((d) => [d.key, d.error])).toEqual([['uploads/customers/monday.csv', undefined]]);
  stack.deliveries.length = 0;
  return { activeJson: (await aws.get('models/active.json'))!, keys: await bucketKeys() };
}

describe('segments smoke', () => {
  it('passes on a healthy stack with a model in use, and leaves the bucket, the table and active.json as they were', async () => {
    const before = await deploymentInUse();
    const tableBefore = await tableState();
    const labelsBefore = (
      await aws.db.repo.pool.query('SELECT customer_id, segment, model_version, segment_origin, updated_at FROM customers ORDER BY 1')
    ).rows;

    const run = await runSmoke();
    expect(run.error).toBeNull();
    expect(run.report!.passed).toBe(true);
    expect(run.report!.steps.map((s) => [s.step, s.status])).toEqual([
      ['stack', 'ok'],
      ['active model', 'ok'],
      ['ingest', 'ok'],
      ['assign', 'ok'],
      ['train', 'ok'],
      ['cleanup: find models', 'ok'],
      ['cleanup: active model', 'ok'],
      ['cleanup: objects', 'ok'],
      ['cleanup: database', 'ok'],
    ]);
    const version = JSON.parse(before.activeJson).modelVersion as string;
    expect(lineOf(run, 'ingest')).toMatch(
      new RegExp(`^ok\\s+ingest: 5 rows read, 5 accepted, 0 rejected, labeled by ${version}; 5 customers in the table \\(\\d+\\.\\d s\\)$`),
    );
    expect(lineOf(run, 'assign')).toMatch(/^ok\s+assign: no-new-customers/);
    expect(lineOf(run, 'train')).toMatch(/^ok\s+train: model \d{8}T\d{6}Z-[0-9a-f]{12} \(k = 2, 60 rows\), not promoted/);
    expect(lineOf(run, 'cleanup: active model')).toContain(`unchanged (${version})`);
    expect(lineOf(run, 'cleanup: database')).toContain('5 smoke customers, 1 ingest ledger row, 0 training members removed');
    expect(run.out.at(-1)).toMatch(
      /^smoke [0-9-]+-[0-9a-f]{6} \(us-east-1\): every function answered as expected, and the deployment is as it was$/,
    );

    // the customers upload went through the real trigger; the training upload did not fire it
    expect(stack.deliveries.map((d) => [d.kind, d.key])).toEqual([['ingest', `uploads/customers/smoke-${run.report!.runId}.csv`]]);
    expect(await aws.get('models/active.json')).toBe(before.activeJson);
    expect(await bucketKeys()).toEqual(before.keys);
    expect(await tableState()).toEqual(tableBefore);
    expect(
      (await aws.db.repo.pool.query('SELECT customer_id, segment, model_version, segment_origin, updated_at FROM customers ORDER BY 1'))
        .rows,
    ).toEqual(labelsBefore);
    // every Invoke once: the client never retries a function call
    expect(stub.calls.filter((c) => c === 'Invoke')).toHaveLength(2);
  });

  it('passes on a fresh deployment without making a model live: the train step is skipped, saying why', async () => {
    const run = await runSmoke();
    expect(run.error).toBeNull();
    expect(lineOf(run, 'active model')).toContain('none yet');
    expect(lineOf(run, 'ingest')).toContain('left unlabeled (no active model)');
    expect(lineOf(run, 'assign')).toMatch(/^ok\s+assign: no-active-model/);
    expect(lineOf(run, 'train')).toMatch(/^skip\s+train: no model is active yet, and the first model is always promoted/);
    expect(stub.calls.filter((c) => c === 'Invoke')).toHaveLength(1);
    expect(await aws.get('models/active.json')).toBeNull();
    expect(await bucketKeys()).toEqual([]);
    expect(await tableState()).toEqual({ smoke: 0, all: 0, ledger: 0, members: 0 });
  });

  it('fails at the step whose function answers failed, in one line, and still cleans up', async () => {
    const before = await deploymentInUse();
    stub.account.functions[FUNCTION_NAMES.train] = async () => failedTrainSummary('s3://x', 'the training file has no customer_id column');
    const run = await runSmoke();
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    // what the CLI prints before exiting with 1
    expect(userMessage(run.error)).toBe(
      `smoke ${run.report!.runId} failed at step train: the train function says failed: the training file has no customer_id column; cleanup done`,
    );
    expect(run.out.filter((l) => l.startsWith('FAIL'))).toEqual([
      expect.stringMatching(/^FAIL\s+train: the train function says failed: the training file has no customer_id column/),
    ]);
    expect(lineOf(run, 'cleanup: objects')).toMatch(/^ok\s/);
    expect(lineOf(run, 'cleanup: database')).toMatch(/^ok\s+cleanup: database: 5 smoke customers/);
    expect(await bucketKeys()).toEqual(before.keys);
    expect((await tableState()).smoke).toBe(0);
    expect(await aws.get('models/active.json')).toBe(before.activeJson);
  });

  it('reports a function that throws with its error and its log, skips the later steps, and cleans up', async () => {
    stub.account.functions[FUNCTION_NAMES.assign] = async () => {
      throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
    };
    const run = await runSmoke();
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    expect(lineOf(run, 'assign')).toContain(
      `FAIL  assign: ${FUNCTION_NAMES.assign} failed (Unhandled): Sandbox.Timedout: Task timed out after 900.00 seconds; its log: aws logs tail ${LOG_GROUPS.assign} --since 30m`,
    );
    expect(lineOf(run, 'train')).toBe('skip  train: not run (an earlier step failed)');
    expect(await bucketKeys()).toEqual([]);
    expect((await tableState()).smoke).toBe(0);
  });

  it('calls a function once: a Lambda service error is not retried (a retry could run it twice)', async () => {
    stub.account.errors.Invoke = { status: 500, code: 'ServiceException', message: 'internal error' };
    const run = await runSmoke();
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    expect(stub.calls.filter((c) => c === 'Invoke')).toHaveLength(1);
    expect(lineOf(run, 'assign')).toContain(
      `FAIL  assign: Lambda Invoke ${FUNCTION_NAMES.assign} failed: ServiceException: internal error`,
    );
  });

  it('finds and removes a model the train function wrote although its answer never arrived', async () => {
    const before = await deploymentInUse();
    stub.account.functions[FUNCTION_NAMES.train] = async (payload) => {
      await stack.real.train(payload);
      throw new Error('connection reset');
    };
    const run = await runSmoke();
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    expect(lineOf(run, 'cleanup: find models')).toMatch(/^ok\s+cleanup: find models: \d{8}T\d{6}Z-[0-9a-f]{12}/);
    expect(await bucketKeys()).toEqual(before.keys);
    expect(await aws.get('models/active.json')).toBe(before.activeJson);
  });

  it('gives up waiting for an ingest that never runs, naming its log, and removes the upload', async () => {
    stack.notify = false;
    const run = await runSmoke({ ingestTimeoutMs: 200 });
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    const line = lineOf(run, 'ingest');
    expect(line).toMatch(/^FAIL\s+ingest: no results\/customers\/smoke-[0-9a-f-]+\/summary\.json 0\.2 s after the upload/);
    expect(line).toContain(`aws logs tail ${LOG_GROUPS.ingest}`);
    expect(await bucketKeys()).toEqual([]);
  });

  it('says loudly when the active model changed during the run', async () => {
    const before = await deploymentInUse();
    // someone promotes the smoke model while smoke runs (here: the train function itself)
    stub.account.functions[FUNCTION_NAMES.train] = async (payload) => stack.real.train({ ...(payload as object), promote: true });
    const run = await runSmoke();
    expect(run.error).toBeInstanceOf(SmokeFailedError);
    const line = lineOf(run, 'cleanup: active model');
    expect(line).toMatch(/^FAIL\s+cleanup: active model: !!! THE ACTIVE MODEL CHANGED during the smoke run/);
    expect(line).toContain(`models/active.json was ${JSON.stringify(JSON.parse(before.activeJson))}, is now {"modelVersion":`);
    expect(line).toContain(`"promote":"${JSON.parse(before.activeJson).modelVersion}"`);
    expect(line).not.toContain('\n');
    // the model now active keeps its files
    const active = JSON.parse((await aws.get('models/active.json'))!).modelVersion as string;
    expect(await aws.get(`models/${active}/model.json`)).not.toBeNull();
  });

  it('fails at the first step when the stack lacks an output', async () => {
    delete stub.account.stacks[STACK_NAME]!.outputs.AdminSecretArn;
    const run = await runSmoke();
    expect(run.out).toHaveLength(1);
    expect(run.out[0]).toMatch(
      /^FAIL {2}stack: the CustomerSegmentation stack has no output AdminSecretArn: deploy this version of the stack \(npx cdk deploy\) \(\d+\.\d s\)$/,
    );
    expect(stub.calls).toEqual(['DescribeStacks']);
  });

  it('runs from the command line: a missing stack is one line and exit 1, a stray argument exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['smoke', '--stack', 'Elsewhere', '--region', 'us-east-1'], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    expect(code).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^FAIL\s+stack: no Elsewhere stack in this region: deploy it first \(npx cdk deploy\), or name it with --stack/);
    expect(err).toEqual([
      expect.stringMatching(/^segments: smoke [0-9a-f-]+ failed at step stack: no Elsewhere stack .*; nothing had been created$/),
    ]);
    expect(await runCli(['smoke', 'now'], { out: () => undefined, err: () => undefined })).toBe(2);

    // --json: the report on stdout, the step lines on stderr
    const json: string[] = [];
    const progress: string[] = [];
    expect(await runCli(['smoke', '--json', '--stack', 'Elsewhere'], { out: (t) => json.push(t), err: (t) => progress.push(t) })).toBe(1);
    expect(json).toHaveLength(1);
    expect(JSON.parse(json[0]!)).toMatchObject({ passed: false, failedStep: 'stack', steps: [{ step: 'stack', status: 'fail' }] });
    expect(progress[0]).toMatch(/^FAIL\s+stack: no Elsewhere stack/);
  });
});
