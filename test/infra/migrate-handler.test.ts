// The migrations custom resource handler (functions/migrate/handler.ts) as CloudFormation drives
// it: Create and Update migrate a real PostgreSQL through the Data API (the suite's strict emulator)
// as the master user and set up the application and read-only roles from their secrets (a local
// Secrets Manager); the roles then work, and only for what they are for. Delete leaves everything,
// the physical id never changes, a starting or resuming cluster is waited for, and a database
// migrated by the previous release is upgraded by a plain update. The handler runs with the
// deployed customer schema (the mall's, from source) and says which. A deploy drops a column
// holding values only when its properties name it (context dropColumns).

import { randomBytes } from 'node:crypto';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createMigrateHandlerFromEnv, PHYSICAL_RESOURCE_ID, type MigrateEvent } from '../../functions/migrate/handler.ts';
import { ConfigError } from '../../functions/config.ts';
import { dataApiClient } from '../../functions/adapters/data-api-sql-client.ts';
import { MIGRATIONS, MIGRATIONS_TABLE } from '../../shared/sql/migrations.ts';
import { schemaSha256 } from '../../functions/adapters/deployed-schema.ts';
import { MALL_SCHEMA, parseCustomerSchema } from '../../shared/schema/customer-schema.ts';
import { wholesaleSchemaJson } from './schemas.ts';
import { admin as withClient } from '../support/database.ts';
import { captureLogs } from '../support/lambda-invocation.ts';
import { SERVICE_NAME } from '../../shared/metrics.ts';
import { startDataApiEmulator, type DataApiEmulator } from '../support/data-api-emulator.ts';
import { startSecretsManagerStub, type SecretsManagerStub } from '../support/secrets-manager-stub.ts';

const CLUSTER_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:migrate-test';
const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:migrate-master';
const APP_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:migrate-app';
const READER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:migrate-reader';
const SDK = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
/** Waits for a starting cluster in milliseconds instead of seconds. */
const FAST_WAIT = { baseDelayMs: 5, maxDelayMs: 20 };

interface Cluster {
  readonly database: string;
  /** The master user's connection: a role with CREATEROLE and CREATEDB that owns the database, not a superuser (as on Aurora). */
  readonly masterUrl: string;
  readonly masterArn: string;
  readonly masterUser: string;
  readonly emulator: DataApiEmulator;
  readonly client: RDSDataClient;
  readonly appUser: string;
  readonly readerUser: string;
}

let secrets: SecretsManagerStub;
let secretsClient: SecretsManagerClient;
const clusters: Cluster[] = [];

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

/**
 * A fresh database behind its own emulator. Its master user is what Aurora's is: not a superuser,
 * but a role with CREATEROLE and CREATEDB that owns the database (the rights of rds_superuser that
 * matter here). Role names are cluster-wide in PostgreSQL, so each cluster's roles get a unique suffix.
 */
async function newCluster(): Promise<Cluster> {
  const suffix = randomBytes(4).toString('hex');
  const database = `t_migrate_${suffix}`;
  const masterUser = `segments_admin_${suffix}`;
  const masterPassword = randomBytes(12).toString('hex');
  await admin((c) => c.query(`CREATE ROLE ${pg.escapeIdentifier(masterUser)} LOGIN CREATEROLE CREATEDB PASSWORD '${masterPassword}'`));
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(masterUser)}`));
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${database}`;
  const masterArn = `${MASTER_ARN}-${suffix}`;
  secrets.put(masterArn, { username: masterUser, password: masterPassword });
  const masterUrl = new URL(url);
  masterUrl.username = masterUser;
  masterUrl.password = masterPassword;
  const appUser = `segments_app_${suffix}`;
  const readerUser = `segments_reader_${suffix}`;
  secrets.put(`${APP_ARN}-${suffix}`, { username: appUser });
  secrets.put(`${READER_ARN}-${suffix}`, { username: readerUser });
  const emulator = await startDataApiEmulator({
    databaseUrl: url.toString(),
    resourceArn: CLUSTER_ARN,
    resolveSecret: (arn) => secrets.resolve(arn),
  });
  const client = dataApiClient({ ...SDK, endpoint: emulator.endpoint });
  const cluster = { database, masterUrl: masterUrl.toString(), masterArn, masterUser, emulator, client, appUser, readerUser };
  clusters.push(cluster);
  return cluster;
}

const MALL_HASH = schemaSha256(MALL_SCHEMA);
const suffixOf = (cluster: Cluster) => cluster.appUser.slice('segments_app_'.length);
const properties = (cluster: Cluster) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  MigrationsFingerprint: 'f',
  CustomerSchemaSha256: MALL_HASH,
  AppSecretArn: `${APP_ARN}-${suffixOf(cluster)}`,
  ReaderSecretArn: `${READER_ARN}-${suffixOf(cluster)}`,
});
const env = (cluster: Cluster) => ({
  DB_CLUSTER_ARN: CLUSTER_ARN,
  DB_SECRET_ARN: cluster.masterArn,
  DB_NAME: cluster.database,
  LOG_LEVEL: 'SILENT',
});
const handlerFor = (cluster: Cluster, envOverride?: Record<string, string>) =>
  createMigrateHandlerFromEnv(envOverride ?? env(cluster), { rdsData: cluster.client, secrets: secretsClient, clusterWait: FAST_WAIT });
const create = (cluster: Cluster): MigrateEvent => ({ RequestType: 'Create', ResourceProperties: properties(cluster) });
const update = (cluster: Cluster): MigrateEvent => ({
  RequestType: 'Update',
  PhysicalResourceId: PHYSICAL_RESOURCE_ID,
  ResourceProperties: properties(cluster),
});

const tables = (cluster: Cluster) =>
  admin(
    async (c) =>
      (await c.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r) => r.tablename,
      ),
    cluster.database,
  );

/** One statement through the Data API as the user of `secretArn`; the error name when it fails. */
async function runAs(cluster: Cluster, secretArn: string, sql: string): Promise<string> {
  try {
    await cluster.client.send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn, database: cluster.database, sql }));
    return 'ok';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message.split('\n')[0]}`;
  }
}

beforeAll(async () => {
  secrets = await startSecretsManagerStub();
  secretsClient = new SecretsManagerClient({ ...SDK, endpoint: secrets.endpoint });
});

afterAll(async () => {
  secretsClient?.destroy();
  for (const cluster of clusters) {
    cluster.client.destroy();
    await cluster.emulator.close();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(cluster.database)} WITH (FORCE)`));
    for (const role of [cluster.appUser, cluster.readerUser, cluster.masterUser]) {
      await admin((c) => c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`));
    }
  }
  await secrets?.close();
});

describe('migrate custom resource handler', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await newCluster();
  });

  it('Create applies every migration and sets up both roles, waiting for a cluster that is resuming from auto-pause', async () => {
    expect(await tables(cluster)).toEqual([]);
    cluster.emulator.faults.failNext('DatabaseResumingException', 1);
    const response = await handlerFor(cluster)(create(cluster));
    expect(response).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: {
        Applied: MIGRATIONS.map((m) => m.version).join(','),
        Roles: `${cluster.appUser},${cluster.readerUser}`,
        CustomerSchema: MALL_HASH,
      },
    });
    expect(await tables(cluster)).toEqual(expect.arrayContaining(['customers', 'runs', 'schema_migrations']));
  });

  it('the application role may read and write the rows the functions need, and nothing else', async () => {
    const app = properties(cluster).AppSecretArn;
    expect(
      await runAs(
        cluster,
        app,
        `INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score) VALUES ('c1', 'Female', 30, 50, 60)`,
      ),
    ).toBe('ok');
    expect(await runAs(cluster, app, `UPDATE customers SET segment = 1 WHERE customer_id = 'c1'`)).toBe('ok');
    expect(await runAs(cluster, app, `INSERT INTO runs (kind, status) VALUES ('assign', 'ok')`)).toBe('ok');
    expect(await runAs(cluster, app, `INSERT INTO locks (name, owner, expires_at) VALUES ('n', 'o', now())`)).toBe('ok');
    expect(await runAs(cluster, app, `DELETE FROM locks WHERE name = 'n'`)).toBe('ok');
    for (const forbidden of [
      'DELETE FROM customers',
      'DROP TABLE customers',
      'CREATE TABLE sneaky (x integer)',
      'TRUNCATE runs',
      `INSERT INTO schema_migrations (version) VALUES ('999_fake')`,
      'ALTER TABLE customers ADD COLUMN x integer',
    ]) {
      expect(await runAs(cluster, app, forbidden), forbidden).toMatch(/^DatabaseErrorException: .*(permission denied|must be owner)/);
    }
  });

  it('the read-only role reads customers and runs and cannot change anything', async () => {
    const reader = properties(cluster).ReaderSecretArn;
    expect(await runAs(cluster, reader, 'SELECT customer_id, segment FROM customers')).toBe('ok');
    expect(await runAs(cluster, reader, 'SELECT CAST(count(*) AS integer) AS n FROM runs')).toBe('ok');
    expect(await runAs(cluster, reader, `UPDATE customers SET segment = 2`)).toMatch(/^DatabaseErrorException: .*permission denied/);
    expect(await runAs(cluster, reader, 'SELECT * FROM ingested_objects')).toMatch(/^DatabaseErrorException: .*permission denied/);
  });

  it('sends no password in the clear: the roles log in with their secrets while the SQL carried only SCRAM verifiers', async () => {
    const stored = await admin(
      (c) =>
        c.query<{ rolname: string; rolpassword: string }>('SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [
          [cluster.appUser, cluster.readerUser],
        ]),
      cluster.database,
    );
    expect(stored.rows).toHaveLength(2);
    for (const row of stored.rows) expect(row.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    const { password } = (await secrets.resolve(properties(cluster).AppSecretArn))!;
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${cluster.database}`;
    url.username = cluster.appUser;
    url.password = password;
    const direct = new pg.Client({ connectionString: url.toString() });
    await direct.connect();
    await direct.end();
  });

  it('Update applies nothing more, keeps the physical id, and sets the roles again (a changed password takes effect)', async () => {
    const app = properties(cluster).AppSecretArn;
    secrets.put(app, { username: cluster.appUser });
    const response = await handlerFor(cluster)(update(cluster));
    expect(response).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '', Roles: `${cluster.appUser},${cluster.readerUser}`, CustomerSchema: MALL_HASH },
    });
    const applied = await admin(
      async (c) => (await c.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')).rows.map((r) => r.version),
      cluster.database,
    );
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version).sort());
    expect(await runAs(cluster, app, 'SELECT customer_id FROM customers')).toBe('ok');
  });

  it('Delete leaves the schema, data and roles alone, without calling the database', async () => {
    const before = cluster.emulator.stats.executeCalls;
    expect(await handlerFor(cluster)({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_RESOURCE_ID })).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '', Roles: '', CustomerSchema: '' },
    });
    expect(cluster.emulator.stats.executeCalls).toBe(before);
    expect(await tables(cluster)).toContain('customers');
  });

  it('fails the deployment with the names of missing or malformed variables', async () => {
    const handler = handlerFor(cluster, { DB_CLUSTER_ARN: 'cluster', DB_NAME: cluster.database });
    const error = await handler(create(cluster)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('configuration: DB_CLUSTER_ARN must be an ARN; DB_SECRET_ARN is not set');
  });

  it('fails the deployment naming a missing role secret property', async () => {
    const error = await handlerFor(cluster)({ RequestType: 'Update', ResourceProperties: { AppSecretArn: APP_ARN } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^custom resource properties: ReaderSecretArn/);
  });

  it('runs with the schema it is given, also when the properties name another (a rollback runs new code with old properties)', async () => {
    const wholesale = parseCustomerSchema(wholesaleSchemaJson(), 'wholesale.json');
    const handler = createMigrateHandlerFromEnv(env(cluster), {
      rdsData: cluster.client,
      secrets: secretsClient,
      clusterWait: FAST_WAIT,
      schema: wholesale,
    });
    // the mall's columns hold a customer: a deploy never drops values, it fails (and CloudFormation rolls back)
    await withClient(cluster.masterUrl, (c) =>
      c.query(
        `INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score) VALUES ('k1', 'Male', 40, 20, 30)`,
      ),
    );
    await expect(handler(update(cluster))).rejects.toThrow(
      /^the schema drops columns gender, age, annual_income_thousands, spending_score .* hold values/,
    );
    await withClient(cluster.masterUrl, (c) => c.query('DELETE FROM customers'));
    expect((await handler(update(cluster))).Data.CustomerSchema).toBe(schemaSha256(wholesale));
    const columns = await withClient(cluster.masterUrl, (c) =>
      c.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('gender', 'fresh')"),
    );
    expect(columns.rows).toEqual([{ column_name: 'fresh' }]);
    const previous = { ...update(cluster), ResourceProperties: { ...properties(cluster), CustomerSchemaSha256: undefined } };
    expect((await handler(previous)).Data.CustomerSchema).toBe(schemaSha256(wholesale));
  });

  it('fails the deployment naming a malformed schema hash property', async () => {
    const event = { ...update(cluster), ResourceProperties: { ...properties(cluster), CustomerSchemaSha256: 'abc' } };
    const error = await handlerFor(cluster)(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('custom resource properties: CustomerSchemaSha256 must be a SHA-256 in hex');
  });

  it('rethrows a database error so CloudFormation reports the failure', async () => {
    cluster.emulator.faults.failWhen(/schema_migrations/, { errorName: 'BadRequestException', message: 'boom' });
    try {
      await expect(handlerFor(cluster)(update(cluster))).rejects.toThrow(/boom/);
    } finally {
      cluster.emulator.faults.clear();
    }
  });
});

describe('a deploy that drops features (context dropColumns, the DropColumns property)', () => {
  const spend = (name: string) => ({ name, header: name, label: name, kind: 'numeric', min: 0 });
  const extra = parseCustomerSchema({ ...MALL_SCHEMA, features: [...MALL_SCHEMA.features, spend('visits'), spend('tips')] }, 'extra.json');
  const handlerWith = (cluster: Cluster, schema = MALL_SCHEMA, logLevel = 'SILENT') =>
    createMigrateHandlerFromEnv(
      { ...env(cluster), LOG_LEVEL: logLevel },
      { rdsData: cluster.client, secrets: secretsClient, clusterWait: FAST_WAIT, schema },
    );
  const dropping = (cluster: Cluster, DropColumns: unknown): MigrateEvent => ({
    ...update(cluster),
    ResourceProperties: { ...properties(cluster), DropColumns },
  });
  const featureColumns = (cluster: Cluster) =>
    withClient(cluster.masterUrl, async (c) =>
      (
        await c.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('visits', 'tips') ORDER BY 1",
        )
      ).rows.map((r) => r.column_name),
    );

  it('drops exactly the columns named, with their values, logging them; one holding values it does not name fails the deploy', async () => {
    const cluster = await newCluster();
    await handlerWith(cluster, extra)(create(cluster));
    await withClient(cluster.masterUrl, (c) =>
      c.query(
        `INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score, visits, tips) VALUES ('k1', 'Male', 40, 20, 30, 3, 2)`,
      ),
    );
    // the mall's schema without the two: naming one of them is not enough, and nothing changes
    await expect(handlerWith(cluster)(dropping(cluster, ['visits']))).rejects.toThrow(
      /^the schema drops column tips of the customers table, which holds values: allow the drop to delete them \(locally segments db migrate --allow-drop; on deploy -c dropColumns=tips\), or keep the feature$/,
    );
    await expect(handlerWith(cluster)(update(cluster))).rejects.toThrow(
      /^the schema drops columns visits, tips .*-c dropColumns=visits,tips\)/,
    );
    expect(await featureColumns(cluster)).toEqual(['tips', 'visits']);

    const logs = captureLogs();
    try {
      const response = await handlerWith(cluster, MALL_SCHEMA, 'INFO')(dropping(cluster, ['fresh', 'tips', 'visits']));
      expect(response.Data.CustomerSchema).toBe(MALL_HASH);
      const lines = logs.filter((l) => l.service === SERVICE_NAME);
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          message: 'dropped columns of the customers table, and their values',
          dropped: ['visits', 'tips'],
        }),
      );
      expect(lines).toContainEqual(expect.objectContaining({ level: 'INFO', unused: ['fresh'] }));
    } finally {
      vi.restoreAllMocks();
    }
    expect(await featureColumns(cluster)).toEqual([]);
    const rows = await withClient(cluster.masterUrl, async (c) => (await c.query('SELECT customer_id, age FROM customers')).rows);
    expect(rows).toEqual([{ customer_id: 'k1', age: 40 }]);
    // the permission left in: the next deploy has nothing to drop and changes nothing
    expect((await handlerWith(cluster)(dropping(cluster, ['tips', 'visits']))).Data.CustomerSchema).toBe(MALL_HASH);
  });

  it('fails the deployment naming a malformed DropColumns property', async () => {
    const cluster = await newCluster();
    const error = await handlerWith(cluster)(dropping(cluster, ['tips', 'Visits; DROP TABLE customers'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('custom resource properties: DropColumns.1 must list plain column names');
    expect(await tables(cluster)).toEqual([]);
  });
});

describe('migrate handler on a cluster created moments ago', () => {
  it('waits while the Data API endpoint is not enabled yet or the cluster is not available, then migrates', async () => {
    const cluster = await newCluster();
    cluster.emulator.faults.failNext('HttpEndpointNotEnabledException', 2, 'HttpEndpoint is not enabled for cluster migrate-test.');
    cluster.emulator.faults.failNext('InvalidResourceStateException', 1, 'The cluster is not in a valid state.');
    const response = await handlerFor(cluster)(create(cluster));
    expect(response.Data.Applied).toBe(MIGRATIONS.map((m) => m.version).join(','));
  });

  it('gives up after its time budget with the service error', async () => {
    const cluster = await newCluster();
    cluster.emulator.faults.failNext('HttpEndpointNotEnabledException', 1000, 'HttpEndpoint is not enabled for cluster migrate-test.');
    const handler = createMigrateHandlerFromEnv(env(cluster), {
      rdsData: cluster.client,
      secrets: secretsClient,
      clusterWait: { ...FAST_WAIT, maxElapsedMs: 100 },
    });
    await expect(handler(create(cluster))).rejects.toMatchObject({ name: 'HttpEndpointNotEnabledException' });
    cluster.emulator.faults.clear();
  });
});

describe('upgrade of a deployment migrated by the previous release', () => {
  it('a plain update adds the new migrations and the roles, keeps the data, and the functions can use the app role', async () => {
    const cluster = await newCluster();
    const previous = MIGRATIONS.filter((m) => m.version === '001_initial' || m.version === '002_customers_fillfactor');
    // the previous release migrated as the master user, who therefore owns the tables
    const master = new pg.Client({ connectionString: cluster.masterUrl });
    await master.connect();
    await (async (c: pg.Client) => {
      await c.query(MIGRATIONS_TABLE);
      for (const migration of previous) {
        for (const statement of migration.statements) await c.query(statement);
        await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
      }
      await c.query(
        `INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score) VALUES ('old-1', 'Male', 40, 70, 20)`,
      );
      await c.query(`INSERT INTO runs (kind, status) VALUES ('assign', 'ok')`);
    })(master).finally(() => master.end());

    const response = await handlerFor(cluster)(update(cluster));
    expect(response.Data.Applied.split(',')).toEqual(MIGRATIONS.filter((m) => !previous.includes(m)).map((m) => m.version));
    const app = properties(cluster).AppSecretArn;
    expect(await runAs(cluster, app, `UPDATE customers SET segment = 0 WHERE customer_id = 'old-1'`)).toBe('ok');
    const rows = await admin(async (c) => (await c.query('SELECT customer_id, segment FROM customers')).rows, cluster.database);
    expect(rows).toEqual([{ customer_id: 'old-1', segment: 0 }]);
  });
});
