// The statements of training from the table run as the application role the functions connect as
// (roles.ts, APP_GRANTS): no privilege missing on the scratch tables, the members or the customers.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { PgSqlClient } from '../../../functions/adapters/pg-sql-client.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { SqlDatabase } from '../../../shared/sql/database.ts';
import { APP_GRANTS, ensureRole, EXAMPLE_VERIFIER } from '../../../shared/sql/roles.ts';
import { tableStatsOf } from '../../../shared/workflows/report.ts';
import { trainFromTable } from '../../../shared/workflows/train-table.ts';
import { SqlTableTraining } from '../../../shared/sql/table-training.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { withTempDir } from '../../support/temp.ts';

let db: TestDatabase;
const role = `app_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase('table_training_role');
  await ensureRole(new PgSqlClient(db.repo.pool), role, EXAMPLE_VERIFIER, APP_GRANTS);
});
afterAll(async () => {
  await db.drop();
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`).finally(() => admin.end());
});

it('trains from the table, records members, labels and cleans up as the application role', async () => {
  await db.repo.upsertCustomers([...generateCustomers({ rows: 300, seed: 8 })].map(({ planted: _p, ...c }) => c));
  // every statement of the run as the role (the suite's user is a superuser, a member of every role)
  const pool = new pg.Pool({ connectionString: db.url, options: `-c role=${role}`, max: 2 });
  const store = await withTempDir('table-training-role');
  try {
    const repo = new SqlDatabase(new PgSqlClient(pool));
    const [who] = (await pool.query('SELECT current_user AS name')).rows;
    expect(who.name).toBe(role);
    const outcome = await trainFromTable(
      { repo, store: new FileModelStore(store.path), clock: () => new Date(), log: () => undefined },
      { k: 3, seed: 1, sampleSize: 100, autoPromote: true, report: false },
    );
    expect(outcome).toMatchObject({ promoted: true, members: 300, assign: { labeled: 300 } });
    // the report's table figures in one pass are the table status's
    expect(await repo.labelCounts()).toEqual(tableStatsOf(await db.repo.status()));
  } finally {
    await pool.end();
    await store.remove();
  }
});

it('records a part of the members once: a statement repeated after it ran adds nothing', async () => {
  await db.repo.pool.query('TRUNCATE customers, training_members');
  await db.repo.upsertCustomers([...generateCustomers({ rows: 120, seed: 9 })].map(({ planted: _p, ...c }) => c));
  const training = new SqlTableTraining(new PgSqlClient(db.repo.pool));
  const runId = crypto.randomUUID();
  const snapshot = await training.takeSnapshot(runId, 1);
  expect(await training.recordMembers(snapshot, 'model-a')).toBe(120);
  expect(await training.recordMembers(snapshot, 'model-a')).toBe(0);
  expect(await training.recordMembers(snapshot, 'model-b')).toBe(120);
  const { rows } = await db.repo.pool.query('SELECT model_version, count(*)::int AS n FROM training_members GROUP BY 1 ORDER BY 1');
  expect(rows).toEqual([
    { model_version: 'model-a', n: 120 },
    { model_version: 'model-b', n: 120 },
  ]);
  await training.dropSnapshot(runId);
});
