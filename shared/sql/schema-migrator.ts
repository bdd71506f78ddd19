// SchemaMigrator over SqlClient: applies the versioned migrations of migrations.ts once each, one
// transaction per version, serialised against a concurrent migrator (two deploys, the CLI).

import type { SchemaMigrator, SqlClient } from '../ports.ts';
import { MIGRATION_LOCK, MIGRATIONS, MIGRATIONS_TABLE } from './migrations.ts';

export class SqlSchemaMigrator implements SchemaMigrator {
  constructor(private readonly sql: SqlClient) {}

  async migrate(): Promise<string[]> {
    await this.sql.query(MIGRATIONS_TABLE);
    const applied: string[] = [];
    for (const migration of MIGRATIONS) {
      const done = await this.sql.transaction(async (tx) => {
        await tx.query(MIGRATION_LOCK);
        const rows = await tx.query('SELECT version FROM schema_migrations WHERE version = CAST(:version AS text)', {
          version: migration.version,
        });
        if (rows.length > 0) return false;
        for (const statement of migration.statements) await tx.query(statement);
        await tx.query('INSERT INTO schema_migrations (version) VALUES (CAST(:version AS text))', { version: migration.version });
        return true;
      });
      if (done) applied.push(migration.version);
    }
    return applied;
  }
}
