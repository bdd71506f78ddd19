// The SchemaMigrator contract, over every SqlClient (pg, and the Data API through the emulator):
// every version applied once, in order, also when two migrators run at the same time.

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../shared/sql/migrations.ts';
import { SqlSchemaMigrator } from '../../../shared/sql/schema-migrator.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const clients = useSqlClients('schema_migrator', []);

describe.each(SQL_CLIENTS)('SqlSchemaMigrator over %s', (name) => {
  it('applies nothing to a migrated database', async () => {
    expect(await new SqlSchemaMigrator(clients.client(name)).migrate()).toEqual([]);
  });

  it('applies every version once, in order, even with two migrators at the same time', async () => {
    const pool = clients.db.repo.pool;
    // back to an empty schema, the migrations table kept: created on first use, it is not one of the versions
    const { rows: tables } = await pool.query(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
    );
    for (const { tablename } of tables) await pool.query(`DROP TABLE ${pg.escapeIdentifier(tablename)}`);
    await pool.query('TRUNCATE schema_migrations');
    const applied = await Promise.all([
      new SqlSchemaMigrator(clients.client(name)).migrate(),
      new SqlSchemaMigrator(clients.client(name)).migrate(),
    ]);
    const versions = MIGRATIONS.map((m) => m.version);
    expect(applied.flat().sort()).toEqual(versions);
    // every version went to exactly one of them, in order
    for (const one of applied) expect(one).toEqual(versions.filter((v) => one.includes(v)));
    const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY applied_at, version');
    expect(rows.map((r) => r.version)).toEqual(versions);
    expect(await new SqlSchemaMigrator(clients.client(name)).migrate()).toEqual([]);
  });
});
