// A private database per test file on the suite's PostgreSQL server (see global-setup.ts), and the
// SqlClients the database ports run on over it: pg, and the RDS Data API through the emulator.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { dataApiClient, DataApiSqlClient } from '../../functions/adapters/data-api-sql-client.ts';
import { PgCustomerRepository } from '../../functions/adapters/pg-customer-repository.ts';
import { PgSqlClient } from '../../functions/adapters/pg-sql-client.ts';
import type { SqlClient } from '../../shared/ports.ts';
import { startDataApiEmulator, type DataApiEmulator } from './data-api-emulator.ts';

export interface TestDatabase {
  readonly url: string;
  readonly repo: PgCustomerRepository;
  drop(): Promise<void>;
}

/**
 * The PostgreSQL server's URL: the suite's (global-setup.ts), or `server` when given — benchmarks
 * run outside vitest and start their own.
 */
const serverUrl = (server?: string): string => server ?? inject('databaseUrl');

/** Runs `work` on one connection to `server` (a database URL), then closes it. */
export async function admin<T>(server: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, migrated database named after the test file; `drop()` removes it. */
export async function createTestDatabase(label: string, server?: string): Promise<TestDatabase> {
  const root = serverUrl(server);
  const name = `t_${label.replace(/\W+/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await admin(root, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(root);
  url.pathname = `/${name}`;
  const repo = new PgCustomerRepository({ connectionString: url.toString() });
  await repo.migrate();
  return {
    url: url.toString(),
    repo,
    drop: async () => {
      await repo.close();
      await admin(root, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

/** The SqlClient implementations, by name: a contract suite runs once for each (`describe.each(SQL_CLIENTS)`). */
export const SQL_CLIENTS = ['PgSqlClient', 'DataApiSqlClient'] as const;
export type SqlClientName = (typeof SQL_CLIENTS)[number];

export interface TestSqlClients {
  readonly db: TestDatabase;
  readonly dataApi: DataApiEmulator;
  /** A new client of that implementation on the test database (the Data API one through the unmodified SDK). */
  client(name: SqlClientName): SqlClient;
  close(): Promise<void>;
}

/** A fresh test database, a Data API emulator in front of it, and a SqlClient of each kind on it. */
export async function startSqlClients(label: string): Promise<TestSqlClients> {
  const db = await createTestDatabase(label);
  const dataApi = await startDataApiEmulator({ databaseUrl: db.url });
  const sdk = dataApiClient({
    endpoint: dataApi.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const config = {
    resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:t',
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:t',
    database: new URL(db.url).pathname.slice(1),
  };
  return {
    db,
    dataApi,
    client: (name) => (name === 'PgSqlClient' ? new PgSqlClient(db.repo.pool) : new DataApiSqlClient(config, sdk)),
    close: async () => {
      sdk.destroy();
      await dataApi.close();
      await db.drop();
    },
  };
}

/**
 * For a contract suite: the SqlClients on a fresh test database for the whole file (the hooks are
 * registered here), with `tables` emptied before each test. Use its members inside tests and hooks.
 */
export function useSqlClients(label: string, tables: readonly string[]): Omit<TestSqlClients, 'close'> {
  let clients: TestSqlClients | undefined;
  const started = (): TestSqlClients => {
    if (clients === undefined) throw new Error('the SqlClients are started in beforeAll: use them inside tests and hooks');
    return clients;
  };
  beforeAll(async () => {
    clients = await startSqlClients(label);
  });
  afterAll(() => clients?.close());
  beforeEach(async () => {
    if (tables.length > 0) await started().db.repo.pool.query(`TRUNCATE ${tables.map((t) => pg.escapeIdentifier(t)).join(', ')}`);
  });
  return {
    get db() {
      return started().db;
    },
    get dataApi() {
      return started().dataApi;
    },
    client: (name) => started().client(name),
  };
}
