// The deployed functions' world for benchmarks, outside vitest: a PostgreSQL server of its own
// (embedded, as the test suite starts one), then the S3 server and the Data API emulator over a
// fresh database on it (test/support/aws-local.ts), with a latency per Data API call; the table
// filled with generated customers, and the server's CPU time read from /proc.

import { mkdtemp, rm, chmod, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { generateCustomers, generateSchemaCustomers } from '../../shared/sample/generate.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { columnType, quoteIdentifier, SqlCustomerTable } from '../../shared/sql/customer-table.ts';
import { startEmbeddedPostgres } from '../../functions/adapters/embedded-postgres.ts';
import { PgSqlClient } from '../../functions/adapters/pg-sql-client.ts';
import { startLocalAws, type LocalAws } from '../support/aws-local.ts';

/**
 * What 50 ms per call stands for: a Lambda function calling the Data API in the same region pays
 * an HTTPS request to the service endpoint, which then runs the statement on a pooled connection;
 * see the README's Scaling section for the figure's source.
 */
export const BENCH_LATENCY_MS = 50;

export interface BenchServices {
  readonly aws: LocalAws;
  close(): Promise<void>;
}

/** Starts PostgreSQL, S3 and the Data API emulator (with `latencyMs` per call); close() stops all. */
export async function startBenchServices(label: string, latencyMs: number): Promise<BenchServices> {
  const dir = await mkdtemp(join(tmpdir(), `segments-bench-${label}-`));
  await chmod(dir, 0o755); // as root, the server runs as the postgres user, which must reach the directory
  const server = await startEmbeddedPostgres(join(dir, 'data'));
  try {
    const aws = await startLocalAws(label, { server: server.url, latencyMs });
    return {
      aws,
      close: async () => {
        await aws.close();
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Rows per INSERT when a benchmark fills the table (an array parameter per column). */
const LOAD_ROWS = 50_000;

/**
 * Fills the customers table with `rows` generated customers (`generate --rows N --seed`'s), unlabeled,
 * straight through pg: setting up a benchmark, not a path the product takes.
 */
export async function loadGeneratedCustomers(pool: pg.Pool, rows: number, seed = 1): Promise<void> {
  const columns = { id: [] as string[], gender: [] as string[], age: [] as number[], income: [] as number[], score: [] as number[] };
  const flush = async (): Promise<void> => {
    if (columns.id.length === 0) return;
    await pool.query(
      `INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score)
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::numeric[], $5::integer[])`,
      [columns.id, columns.gender, columns.age, columns.income, columns.score],
    );
    for (const list of Object.values(columns)) list.length = 0;
  };
  for (const c of generateCustomers({ rows, seed })) {
    columns.id.push(c.customerId);
    columns.gender.push(c.gender);
    columns.age.push(c.age);
    columns.income.push(c.annual_income_thousands);
    columns.score.push(c.spending_score);
    if (columns.id.length === LOAD_ROWS) await flush();
  }
  await flush();
  await pool.query('ANALYZE customers');
}

/**
 * Gives the customers table `schema`'s columns and fills it with `rows` customers generated for it
 * (`generate --schema … --rows N --seed`'s), unlabeled, straight through pg: setting up a benchmark.
 */
export async function loadSchemaCustomers(pool: pg.Pool, schema: CustomerSchema, rows: number, seed = 1): Promise<void> {
  await new SqlCustomerTable(new PgSqlClient(pool)).apply(schema);
  const names = schema.features.map((f) => f.name);
  const columns: unknown[][] = [[], ...names.map(() => [])];
  const arrays = [`$1::text[]`, ...schema.features.map((f, i) => `$${i + 2}::${columnType(f)}[]`)];
  const flush = async (): Promise<void> => {
    if (columns[0]!.length === 0) return;
    await pool.query(
      `INSERT INTO customers (customer_id, ${names.map(quoteIdentifier).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`,
      columns,
    );
    for (const list of columns) list.length = 0;
  };
  for (const c of generateSchemaCustomers(schema, { rows, seed })) {
    columns[0]!.push(c.customerId);
    names.forEach((name, i) => columns[i + 1]!.push(c[name]));
    if (columns[0]!.length === LOAD_ROWS) await flush();
  }
  await flush();
  await pool.query('ANALYZE customers');
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (Linux's USER_HZ). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) of the PostgreSQL server of `pool` so far: its postmaster and the
 * processes it runs, and those that ended (a backend whose connection closed, a parallel worker),
 * which count in the postmaster's children's times once reaped; null where /proc cannot be read.
 */
export async function databaseCpuMs(pool: pg.Pool): Promise<number | null> {
  const { rows } = await pool.query('SHOW data_directory');
  const postmaster = Number((await readFile(`${rows[0].data_directory}/postmaster.pid`, 'utf8')).split('\n')[0]);
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue; // the process ended while being read
    // fields after the command name (which may hold spaces): state ppid … utime(14) stime(15)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    if (pid === postmaster) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
