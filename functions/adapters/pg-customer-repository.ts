// CustomerRepository on a PostgreSQL connection (the CLI's embedded server, or DATABASE_URL).

import pg from 'pg';
import { SqlCustomerRepository } from '../../shared/sql/customer-repository.ts';
import { PgSqlClient } from './pg-sql-client.ts';

export class PgCustomerRepository extends SqlCustomerRepository {
  readonly pool: pg.Pool;

  constructor(config: { connectionString: string } | { pool: pg.Pool }) {
    const pool = 'pool' in config ? config.pool : new pg.Pool({ connectionString: config.connectionString, max: 4 });
    super(new PgSqlClient(pool));
    this.pool = pool;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
