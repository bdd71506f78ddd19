// The deployed functions' world for benchmarks, outside vitest: a PostgreSQL server of its own
// (embedded, as the test suite starts one), then the S3 server and the Data API emulator over a
// fresh database on it (test/support/aws-local.ts), with a latency per Data API call.

import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { generateCustomers } from '../../shared/sample/generate.ts';
import { startEmbeddedPostgres } from '../../functions/adapters/embedded-postgres.ts';
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

/** Rows per INSERT when a benchmark fills the table (arrays bound as five parameters). */
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
