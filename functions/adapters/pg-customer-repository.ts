// The database ports on a PostgreSQL connection pool (the CLI's embedded server, or DATABASE_URL):
// every statement is shared/sql's; this adapter only supplies the pg SqlClient, and owns the pool.

import pg from 'pg';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { SqlDatabase } from '../../shared/sql/database.ts';
import { PgSqlClient } from './pg-sql-client.ts';

export class PgCustomerRepository extends SqlDatabase {
  readonly pool: pg.Pool;

  /** `schema`: the customers table's (the mall's by default), as SqlDatabase takes it. */
  constructor(config: ({ connectionString: string } | { pool: pg.Pool }) & { schema?: CustomerSchema }) {
    const pool = 'pool' in config ? config.pool : new pg.Pool({ connectionString: config.connectionString, max: 4 });
    // an idle or closing connection the server ends (a restart, a dropped database) is an 'error'
    // event on the pool, which crashes the process unless handled; the pool replaces the connection,
    // and a query that needed it fails on its own
    if (!('pool' in config)) pool.on('error', () => undefined);
    super(new PgSqlClient(pool), config.schema);
    this.pool = pool;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
