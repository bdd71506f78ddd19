// The deployed system, locally: `cdk synth` with the real bundling, then each function's bundle
// (index.mjs) run in a fresh Node process with the environment the template gives it, against an
// S3-protocol server, a local Secrets Manager and the strict Data API emulator (which connects as
// the user of the secret a call names). The migration custom resource runs first, invoked as
// CloudFormation's provider framework would; then every flow a deployment sees.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateCsv } from '../../shared/sample/generate.ts';
import { startDataApiEmulator, type DataApiEmulator } from '../support/data-api-emulator.ts';
import { startS3, type TestS3 } from '../support/s3-server.ts';
import { startSecretsManagerStub, type SecretsManagerStub } from '../support/secrets-manager-stub.ts';
import { synth, type Synthesized } from './synth.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const FUNCTIONS = ['train', 'ingest', 'assign', 'migrate'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Template = Synthesized['json'];

let bundled: Synthesized;
let s3: TestS3;
let secrets: SecretsManagerStub;
let dataApi: DataApiEmulator;
let database: string;
let databaseUrl: string;
/** The master user, as on Aurora: CREATEROLE and CREATEDB, owner of the database, not a superuser. */
const master = { username: `segments_admin_${randomBytes(3).toString('hex')}`, password: randomBytes(12).toString('hex') };
/** Every secret ARN the Data API emulator was asked to connect with. */
const secretsUsed = new Set<string>();
/** Logical id → local value, for `Ref`. */
const refs = new Map<string, string>();
const roles: string[] = [];
const functions = {} as Record<FunctionName, { file: string; env: Record<string, string> }>;
let migrationProperties: Record<string, Json>;
let secretArns: { master: string; app: string; reader: string };

/** Resolves the intrinsic functions a function's environment or the custom resource's properties use. */
function resolve(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const [key, argument] = Object.entries(value)[0] ?? [];
  if (key === 'Ref') {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const resolved = pseudo[String(argument)] ?? refs.get(String(argument));
    if (resolved === undefined) throw new Error(`no local value for Ref ${String(argument)}`);
    return resolved;
  }
  if (key === 'Fn::Join') {
    const [separator, parts] = argument as [string, Json[]];
    return parts.map((p) => String(resolve(p))).join(separator);
  }
  if (key === 'Fn::GetAtt') {
    // only the provider framework's ServiceToken uses one: a placeholder ARN is all it needs here
    const [id, attribute] = argument as [string, string];
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}-${attribute}`;
  }
  if (key !== undefined && key.startsWith('Fn::')) throw new Error(`cannot resolve ${key} locally`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
}

/** The staged asset directory of a function, found through the stack's asset manifest. */
function bundleFile(logicalId: string): string {
  const code = bundled.json.Resources[logicalId]?.Properties?.Code as { S3Key?: string } | undefined;
  const manifest = JSON.parse(readFileSync(join(bundled.outdir, `${bundled.stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const asset = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === code?.S3Key));
  if (asset === undefined) throw new Error(`no asset for ${logicalId}`);
  return join(bundled.outdir, asset.source.path, 'index.mjs');
}

/** Local stand-ins for the template's secrets: the master secret names the database's owner. */
function registerSecrets(template: Template): void {
  const suffix = randomBytes(3).toString('hex');
  const secretIds = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
  const masterId = bundled.logicalId(bundled.stack.database.cluster.node.findChild('Secret'));
  for (const [id, resource] of secretIds) {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-${suffix}`;
    refs.set(id, arn);
    const generate = (resource.Properties?.GenerateSecretString ?? {}) as { SecretStringTemplate?: string };
    const { username } = JSON.parse(generate.SecretStringTemplate ?? '{}') as { username?: string };
    if (id === masterId) {
      secrets.put(arn, master);
    } else if (username !== undefined) {
      // role names are cluster-wide: suffixed, so runs against a shared server cannot collide
      secrets.put(arn, { username: `${username}_${suffix}` });
      roles.push(`${username}_${suffix}`);
    }
  }
  // an attachment's Ref is the ARN of the secret it attaches
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SecretsManager::SecretTargetAttachment') continue;
    refs.set(id, String(resolve(resource.Properties!.SecretId as Json)));
  }
}

function functionLogicalId(name: FunctionName): string {
  const stack = bundled.stack;
  const construct = { train: stack.train, ingest: stack.ingest, assign: stack.assign, migrate: stack.migrations.handler }[name];
  return bundled.logicalId(construct.function);
}

interface Invocation {
  readonly result?: Record<string, unknown>;
  readonly error?: { name: string; message: string };
  readonly logs: string;
}

/** Runs `handler(event, context)` of a function's bundle in a fresh Node process (a cold start). */
const RUNNER = `
const [file, event, name] = process.argv.slice(1);
const context = { functionName: name, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + name,
  memoryLimitInMB: '512', awsRequestId: 'req-' + Date.now(), logGroupName: '/aws/lambda/' + name, logStreamName: 's',
  getRemainingTimeInMillis: () => 300000, callbackWaitsForEmptyEventLoop: true };
try {
  const { handler } = await import(file);
  const result = await handler(JSON.parse(event), context);
  console.log('__RESULT__' + JSON.stringify(result ?? null));
} catch (error) {
  console.log('__ERROR__' + JSON.stringify({ name: error?.name, message: String(error?.message ?? error) }));
}
`;

function invoke(name: FunctionName, event: unknown): Promise<Invocation> {
  const { file, env } = functions[name];
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER, pathToFileURL(file).href, JSON.stringify(event), name], {
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_RDS_DATA: dataApi.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      S3_FORCE_PATH_STYLE: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: name,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', () => {
      const lines = stdout.split('\n');
      const result = lines.find((l) => l.startsWith('__RESULT__'));
      const error = lines.find((l) => l.startsWith('__ERROR__'));
      const logs = `${stdout}\n${stderr}`;
      if (result) done({ result: JSON.parse(result.slice('__RESULT__'.length)) as Record<string, unknown>, logs });
      else if (error) done({ error: JSON.parse(error.slice('__ERROR__'.length)) as { name: string; message: string }, logs });
      else fail(new Error(`${name} printed no outcome:\n${logs}`));
    });
  });
}

/** Invokes and expects a result (not a thrown error), showing the function's logs otherwise. */
async function succeed(name: FunctionName, event: unknown): Promise<Record<string, unknown>> {
  const outcome = await invoke(name, event);
  if (!outcome.result) throw new Error(`${name} failed: ${JSON.stringify(outcome.error)}\n${outcome.logs}`);
  return outcome.result;
}

async function put(key: string, body: string | Uint8Array): Promise<string> {
  const out = await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  return out.ETag!.replace(/"/g, '');
}

async function get(key: string): Promise<string | null> {
  try {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch {
    return null;
  }
}

const s3Event = (key: string, etag: string) => ({
  Records: [
    {
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: s3.bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), eTag: etag } },
    },
  ],
});

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const csv = (rows: number, seed: number, firstId: number) => [...generateCsv({ rows, seed, firstId })].join('');

/** The provider framework's request to the onEvent handler (the fields CloudFormation sends). */
function customResourceEvent(requestType: 'Create' | 'Update', extra: Record<string, unknown> = {}) {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider-framework-onEvent',
    ResponseURL: '...',
    StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/CustomerSegmentation/1`,
    RequestId: randomBytes(8).toString('hex'),
    LogicalResourceId: bundled.logicalId(bundled.stack.migrations.resource),
    ResourceType: 'Custom::SchemaMigrations',
    ResourceProperties: migrationProperties,
    ...extra,
  };
}

beforeAll(async () => {
  bundled = synth({}, { bundle: true });
  s3 = await startS3('segments-e2e-bucket');
  secrets = await startSecretsManagerStub();
  database = `t_e2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  await admin.query(`CREATE ROLE ${pg.escapeIdentifier(master.username)} LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(master.username)}`);
  await admin.end();
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${database}`;
  databaseUrl = url.toString();

  const template = bundled.json;
  refs.set(bundled.logicalId(bundled.stack.data.bucket), s3.bucket);
  refs.set(bundled.logicalId(bundled.stack.database.cluster), 'segments-e2e');
  registerSecrets(template);
  for (const name of FUNCTIONS) {
    const id = functionLogicalId(name);
    const variables = (template.Resources[id]?.Properties?.Environment as { Variables?: Json } | undefined)?.Variables ?? {};
    functions[name] = { file: bundleFile(id), env: resolve(variables) as Record<string, string> };
  }
  const migration = template.Resources[bundled.logicalId(bundled.stack.migrations.resource)]!;
  migrationProperties = resolve(migration.Properties as Json) as Record<string, Json>;
  secretArns = {
    master: functions.migrate.env.DB_SECRET_ARN!,
    app: String(migrationProperties.AppSecretArn),
    reader: String(migrationProperties.ReaderSecretArn),
  };
  dataApi = await startDataApiEmulator({
    databaseUrl,
    resourceArn: functions.assign.env.DB_CLUSTER_ARN,
    resolveSecret: async (arn) => {
      secretsUsed.add(arn);
      return secrets.resolve(arn);
    },
  });
}, 180_000);

afterAll(async () => {
  await dataApi?.close();
  await s3?.close();
  await secrets?.close();
  if (database) {
    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    for (const role of [...roles, master.username]) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    await admin.end();
  }
  bundled?.remove();
});

describe('the synthesized stack, run locally end to end', () => {
  it('wires the functions to the application secret and the migration to the master secret', () => {
    expect(new Set([functions.train.env.DB_SECRET_ARN, functions.ingest.env.DB_SECRET_ARN, functions.assign.env.DB_SECRET_ARN])).toEqual(
      new Set([secretArns.app]),
    );
    expect(secretArns.master).not.toBe(secretArns.app);
    expect(secretArns.reader).not.toBe(secretArns.app);
  });

  it('migration: Create as the provider framework sends it, then an Update that has nothing to apply', async () => {
    const created = await succeed('migrate', customResourceEvent('Create'));
    expect(created).toMatchObject({ PhysicalResourceId: 'customer-segmentation-schema' });
    expect(String((created.Data as Record<string, string>).Applied)).toMatch(/^001_initial,/);
    // the bundle's customer schema (the mall's: no -c schema) is the one the template's property names
    expect((created.Data as Record<string, string>).CustomerSchema).toBe(migrationProperties.CustomerSchemaSha256);
    expect(migrationProperties.CustomerSchemaSha256).toMatch(/^[0-9a-f]{64}$/);
    const updated = await succeed(
      'migrate',
      customResourceEvent('Update', { PhysicalResourceId: created.PhysicalResourceId, OldResourceProperties: migrationProperties }),
    );
    expect((updated.Data as Record<string, string>).Applied).toBe('');
  });

  it('customers upload before any model: upserted, left unlabeled, and the summary says so', async () => {
    const etag = await put('uploads/customers/first.csv', csv(30, 2, 1001));
    await succeed('ingest', s3Event('uploads/customers/first.csv', etag));
    const summary = JSON.parse((await get('results/customers/first/summary.json'))!) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: 'ok', modelVersion: null, rowsRead: 30, rowsAccepted: 30, rowsRejected: 0 });
    expect(await sql('SELECT count(*)::int AS n, count(segment)::int AS labeled FROM customers')).toEqual([{ n: 30, labeled: 0 }]);
  });

  it('upload training: a model version with its report, promoted', async () => {
    const etag = await put('uploads/training/customers.csv', csv(300, 1, 1));
    const response = await succeed('train', s3Event('uploads/training/customers.csv', etag));
    expect(JSON.stringify(response)).toContain('"promoted":true');
    const active = JSON.parse((await get('models/active.json'))!) as { modelVersion: string };
    expect(await get(`models/${active.modelVersion}/model.json`)).not.toBeNull();
    expect(await get(`models/${active.modelVersion}/report.html`)).toMatch(/^<!doctype html>/i);
  });

  it('customers upload: labeled in the table and in labeled.csv', async () => {
    const etag = await put('uploads/customers/new.csv', csv(50, 3, 5001));
    await succeed('ingest', s3Event('uploads/customers/new.csv', etag));
    const summary = JSON.parse((await get('results/customers/new/summary.json'))!) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: 'ok', rowsRead: 50, rowsAccepted: 50, rowsRejected: 0 });
    expect((await get('results/customers/new/labeled.csv'))!.trimEnd().split('\n')).toHaveLength(51);
    const rows = await sql<{ origin: string; n: number }>(
      `SELECT segment_origin AS origin, count(*)::int AS n FROM customers WHERE customer_id >= '0005001' GROUP BY 1`,
    );
    expect(rows).toEqual([{ origin: 'assigned', n: 50 }]);
  });

  it('nightly labeling labels the customers uploaded before the model, in the database', async () => {
    const outcome = await succeed('assign', { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
    expect(outcome).toMatchObject({ status: 'labeled', pending: 30, labeled: 30 });
    expect(await sql('SELECT count(*)::int AS n FROM customers WHERE segment IS NULL')).toEqual([{ n: 0 }]);
  });

  it('a second nightly run finds nothing to do', async () => {
    expect(await succeed('assign', {})).toMatchObject({ status: 'no-new-customers', labeled: 0 });
  });

  it('a database resuming from auto-pause is waited for', async () => {
    dataApi.faults.failNext('DatabaseResumingException', 2);
    expect(await succeed('assign', {})).toMatchObject({ status: 'no-new-customers' });
  });

  it('two concurrent nightly runs label every pending customer once between them, and both succeed', async () => {
    const retrained = await succeed('train', { source: { bucket: s3.bucket, key: 'uploads/training/customers.csv' }, k: 3, promote: true });
    expect(JSON.stringify(retrained)).toContain('"promoted":true');
    const [pending] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    const outcomes = await Promise.all([succeed('assign', {}), succeed('assign', {})]);
    const labeled = outcomes.map((o) => Number(o.labeled));
    expect(labeled[0]! + labeled[1]!).toBe(pending!.n);
    expect(outcomes.map((o) => o.status).sort()).toEqual(expect.arrayContaining(['labeled']));
    const active = JSON.parse((await get('models/active.json'))!) as { modelVersion: string };
    expect(await sql(`SELECT DISTINCT model_version FROM customers`)).toEqual([{ model_version: active.modelVersion }]);
  });

  it('a non-CSV upload gets a failed summary, no output files, an unchanged table, and no retry', async () => {
    const before = await sql('SELECT count(*)::int AS n FROM customers');
    const binary = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(2000)]);
    const etag = await put('uploads/customers/photo.csv', binary);
    const outcome = await invoke('ingest', s3Event('uploads/customers/photo.csv', etag));
    expect(outcome.error).toBeUndefined();
    const summary = JSON.parse((await get('results/customers/photo/summary.json'))!) as Record<string, unknown>;
    expect(summary.status).toBe('failed');
    expect(String(summary.error)).not.toBe('');
    expect(await get('results/customers/photo/labeled.csv')).toBeNull();
    expect(await get('results/customers/photo/rejects.csv')).toBeNull();
    expect(await sql('SELECT count(*)::int AS n FROM customers')).toEqual(before);
  });

  it('the functions reached the database only as the application role, the migration as the master user', () => {
    expect([...secretsUsed].sort()).toEqual([secretArns.app, secretArns.master].sort());
  });
});
