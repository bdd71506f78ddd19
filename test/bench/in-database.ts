// In-database labeling at scale: n customers in a fresh embedded PostgreSQL, labeled by the
// nightly workflow's bounded UPDATE statements; reports time, rows/s and the slowest statement.

import { chmodSync, mkdirSync } from 'node:fs';
import { startEmbeddedPostgres } from '../../functions/adapters/embedded-postgres.ts';
import { FileModelStore } from '../../functions/adapters/file-model-store.ts';
import { PgCustomerRepository } from '../../functions/adapters/pg-customer-repository.ts';
import { generateCustomers } from '../../shared/sample/generate.ts';
import { assignPending } from '../../shared/workflows/database.ts';
import { publishModel } from '../../shared/workflows/promote.ts';
import { trainModel } from '../../shared/workflows/train.ts';

const LOAD_BATCH = 100_000;
const TRAINING_ROWS = 5000;

export async function benchInDatabase(
  dir: string,
  rows: number,
): Promise<{ labelMs: number; rowsPerSecond: number; slowestStatementMs: number }> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres(`${dir}/data`);
  const repo = new PgCustomerRepository({ connectionString: server.url });
  try {
    await repo.migrate();
    const customers = [...generateCustomers({ rows, seed: 3 })];
    // bulk load with arrays (pg only; the product's upsert is bounded for the Data API instead)
    for (let i = 0; i < rows; i += LOAD_BATCH) {
      const b = customers.slice(i, i + LOAD_BATCH);
      await repo.pool.query(
        'INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::numeric[], $5::int[])',
        [
          b.map((c) => c.customerId),
          b.map((c) => c.gender),
          b.map((c) => c.age),
          b.map((c) => c.annualIncomeThousands),
          b.map((c) => c.spendingScore),
        ],
      );
    }
    await repo.pool.query('VACUUM ANALYZE customers');
    const store = new FileModelStore(`${dir}/store`);
    const sample = customers.slice(0, TRAINING_ROWS);
    const model = trainModel(
      { source: 'bench', customers: sample, rowsRead: sample.length, rowsRejected: 0, duplicates: 0 },
      { k: 5, maxK: 5, restarts: 3 },
      new Date(),
    );
    await publishModel(store, model, { promote: true, autoPromote: true, now: () => new Date() });
    let slowest = 0;
    const label = repo.labelNextBatch.bind(repo);
    repo.labelNextBatch = async (...args) => {
      const start = performance.now();
      const result = await label(...args);
      slowest = Math.max(slowest, performance.now() - start);
      return result;
    };
    const start = performance.now();
    const outcome = await assignPending({ repo, store, clock: () => new Date(), log: () => undefined });
    const labelMs = performance.now() - start;
    if (outcome.labeled !== rows) throw new Error(`labeled ${outcome.labeled} of ${rows}`);
    return { labelMs, rowsPerSecond: rows / (labelMs / 1000), slowestStatementMs: slowest };
  } finally {
    await repo.close();
    await server.stop();
  }
}
