// The migrations custom resource handler (functions/migrate/handler.ts) as CloudFormation drives
// it: Create and Update migrate a real PostgreSQL through the Data API (the suite's emulator),
// Delete leaves the schema, the physical id never changes, and a paused cluster is waited for.

import { randomBytes } from 'node:crypto';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMigrateHandlerFromEnv, PHYSICAL_RESOURCE_ID } from '../../functions/migrate/handler.ts';
import { ConfigError } from '../../functions/config.ts';
import { MIGRATIONS } from '../../shared/sql/migrations.ts';
import { startDataApiEmulator, type DataApiEmulator } from '../support/data-api-emulator.ts';

const CLUSTER_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:migrate-test';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:migrate-test';

let databaseName: string;
let emulator: DataApiEmulator;
let client: RDSDataClient;

async function admin<T>(work: (c: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = new URL(inject('databaseUrl'));
  if (database !== undefined) url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

const tables = () =>
  admin(
    async (c) =>
      (await c.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r) => r.tablename,
      ),
    databaseName,
  );

const env = () => ({ DB_CLUSTER_ARN: CLUSTER_ARN, DB_SECRET_ARN: SECRET_ARN, DB_NAME: databaseName, LOG_LEVEL: 'SILENT' });

beforeAll(async () => {
  databaseName = `t_migrate_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`));
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${databaseName}`;
  emulator = await startDataApiEmulator({ databaseUrl: url.toString(), resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN });
  client = new RDSDataClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    endpoint: emulator.endpoint,
  });
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`));
});

describe('migrate custom resource handler', () => {
  it('Create applies every migration, waiting for a cluster that is resuming from auto-pause', async () => {
    expect(await tables()).toEqual([]);
    emulator.faults.failNext('DatabaseResumingException', 1);
    const handler = createMigrateHandlerFromEnv(env(), client);
    const response = await handler({ RequestType: 'Create' });
    expect(response).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Applied: MIGRATIONS.map((m) => m.version).join(',') } });
    expect(await tables()).toEqual(expect.arrayContaining(['customers', 'runs', 'schema_migrations']));
  });

  it('Update applies nothing more and keeps the physical id', async () => {
    const handler = createMigrateHandlerFromEnv(env(), client);
    const response = await handler({
      RequestType: 'Update',
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      ResourceProperties: { MigrationsFingerprint: 'changed' },
    });
    expect(response).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Applied: '' } });
    const applied = await admin(
      async (c) => (await c.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')).rows.map((r) => r.version),
      databaseName,
    );
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version).sort());
  });

  it('Delete leaves the schema and data alone, without calling the database', async () => {
    const before = emulator.stats.executeCalls;
    const handler = createMigrateHandlerFromEnv(env(), client);
    expect(await handler({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_RESOURCE_ID })).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '' },
    });
    expect(emulator.stats.executeCalls).toBe(before);
    expect(await tables()).toContain('customers');
  });

  it('fails the deployment with the names of missing or malformed variables', async () => {
    const handler = createMigrateHandlerFromEnv({ DB_CLUSTER_ARN: 'cluster', DB_NAME: databaseName }, client);
    const error = await handler({ RequestType: 'Create' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('configuration: DB_CLUSTER_ARN must be an ARN; DB_SECRET_ARN is not set');
  });

  it('rethrows a database error so CloudFormation reports the failure', async () => {
    emulator.faults.failWhen(/schema_migrations/, { errorName: 'BadRequestException', message: 'boom' });
    try {
      const handler = createMigrateHandlerFromEnv(env(), client);
      await expect(handler({ RequestType: 'Update', PhysicalResourceId: PHYSICAL_RESOURCE_ID })).rejects.toThrow(/boom/);
    } finally {
      emulator.faults.clear();
    }
  });
});
