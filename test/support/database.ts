// A private database per test file on the suite's PostgreSQL server (see global-setup.ts).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { PgCustomerRepository } from '../../functions/adapters/pg-customer-repository.ts';

export interface TestDatabase {
  readonly url: string;
  readonly repo: PgCustomerRepository;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, migrated database named after the test file; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `t_${label.replace(/\W+/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  const repo = new PgCustomerRepository({ connectionString: url.toString() });
  await repo.migrate();
  return {
    url: url.toString(),
    repo,
    drop: async () => {
      await repo.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}
