// SqlClient over a node-postgres pool: named parameters become positional, one statement per call.

import pg from 'pg';
import type { SqlClient, SqlParams, SqlRow } from '../../shared/ports.ts';
import { toPositional } from '../../shared/sql/named-parameters.ts';

// numeric and int8 arrive as strings by default; counts are cast in SQL, incomes are read as float8
async function run(client: pg.Pool | pg.PoolClient, sql: string, params: SqlParams = {}): Promise<SqlRow[]> {
  const { text, names } = toPositional(sql);
  const values = names.map((name) => {
    if (!(name in params)) throw new Error(`SQL parameter :${name} has no value`);
    return params[name];
  });
  const result = await client.query(text, values);
  return result.rows as SqlRow[];
}

export class PgSqlClient implements SqlClient {
  constructor(private readonly pool: pg.Pool) {}

  query(sql: string, params?: SqlParams): Promise<SqlRow[]> {
    return run(this.pool, sql, params);
  }

  async transaction<T>(work: (tx: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work({ query: (sql, params) => run(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
