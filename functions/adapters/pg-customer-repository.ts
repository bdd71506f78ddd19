// CustomerRepository on a PostgreSQL connection (the CLI's embedded server, or DATABASE_URL).

import pg from 'pg';
import { SqlCustomerRepository } from '../../shared/sql/customer-repository.ts';
import { PgSqlClient } from './pg-sql-client.ts';

export class PgCustomerRepository extends SqlCustomerRepository {
  readonly pool: pg.Pool;

  constructor(config: { connectionString: string } | { pool: pg.Pool }) {
    const pool = 'pool' in config ? config.pool : new pg.Pool({ connectionString: config.connectionString, max: 4 });
    // an idle or closing connection the server ends (a restart, a dropped database) is an 'error'
    // event on the pool, which crashes the process unless handled; the pool replaces the connection,
    // and a query that needed it fails on its own
    if (!('pool' in config)) pool.on('error', () => undefined);
    super(new PgSqlClient(pool));
    this.pool = pool;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
