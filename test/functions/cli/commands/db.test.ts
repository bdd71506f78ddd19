// `segments db load` against a real PostgreSQL: the ingest function's pipeline on the local
// database — the duplicate rule settled before a row is stored, rows upserted in several batches
// at once, rejects reported in line order, counts that add up.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CliConfig } from '../../../../functions/cli/config.ts';
import { UPLOAD_BATCH_ROWS } from '../../../../shared/ports.ts';
import { generateCsv } from '../../../../shared/sample/generate.ts';
import { parseCustomerSchema } from '../../../../shared/schema/customer-schema.ts';
import { runSegments } from '../../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/database.ts';
import { withTempDir } from '../../../support/temp.ts';

let db: TestDatabase;
let config: CliConfig;
let dir: { path: string; remove(): Promise<void> };

beforeEach(async () => {
  db = await createTestDatabase('cli-db');
  config = { databaseUrl: db.url, debug: false };
  dir = await withTempDir('cli-db');
  return async () => {
    await dir.remove();
    await db.drop();
  };
});

const cli = (...argv: string[]) => runSegments([...argv, '--store', join(dir.path, 'store')], config);

describe('segments db load', () => {
  it('stores every winning row once over many batches, and reports rejects in line order', async () => {
    const rows = 4 * UPLOAD_BATCH_ROWS + 321;
    const body = [...generateCsv({ rows, seed: 4 })].join('');
    // line 2 + i is customer i + 1: a bad row at the end, and customer 7 again (superseding line 8)
    const csv = join(dir.path, 'load.csv');
    await writeFile(csv, `${body}0009999,Robot,30,40,50\n0000007,Female,33,44,55\n`);
    const load = await cli('db', 'load', csv);
    expect(load.code).toBe(0);
    expect(load.out).toEqual([
      `${rows + 2} rows read: ${rows} accepted (${rows} new, 0 changed, 0 unchanged), 2 rejected`,
      `  line 8: duplicate customer_id, superseded by line ${rows + 3}`,
      `  line ${rows + 2}: gender "Robot" is not Female/Male (or F/M)`,
    ]);
    const { rows: table } = await db.repo.pool.query(
      "SELECT count(*)::int AS n, count(DISTINCT customer_id)::int AS ids, min(age) FILTER (WHERE customer_id = '0000007') AS age FROM customers",
    );
    expect(table[0]).toEqual({ n: rows, ids: rows, age: 33 });
    // the same file again: nothing new, nothing changed
    expect((await cli('db', 'load', csv)).out[0]).toBe(
      `${rows + 2} rows read: ${rows} accepted (0 new, 0 changed, ${rows} unchanged), 2 rejected`,
    );
  });
});

describe('segments db with a customer schema', () => {
  const wholesale = join(import.meta.dirname, '../../../../shared/schema/examples/wholesale.json');

  it('brings the table to the schema, loads, trains from it and labels, then keeps the schema it was given', async () => {
    const csv = join(dir.path, 'wholesale.csv');
    await writeFile(csv, [...generateCsv({ rows: 1500, seed: 2, schema: await readSchemaFile(wholesale) })].join(''));
    const load = await cli('db', 'load', csv, '--schema', wholesale);
    expect(load.code).toBe(0);
    expect(load.out).toEqual(['1500 rows read: 1500 accepted (1500 new, 0 changed, 0 unchanged), 0 rejected']);
    expect(load.err).toContain('customers table: drop column gender and its values');
    expect(load.err).toContain('customers table: add column detergents_paper (numeric)');
    const { rows: columns } = await db.repo.pool.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('channel', 'recency_days', 'fresh', 'gender') ORDER BY column_name",
    );
    expect(columns).toEqual([
      { column_name: 'channel', data_type: 'text' },
      { column_name: 'fresh', data_type: 'numeric' },
      { column_name: 'recency_days', data_type: 'integer' },
    ]);
    // no --schema: the table's own, recorded when it was applied
    const trained = await cli('db', 'train', '--k', '4', '--no-report', '--json');
    expect(trained.code).toBe(0);
    expect(JSON.parse(trained.out[0]!)).toMatchObject({ k: 4, promoted: true, assign: { labeled: 1500 } });
    const model = JSON.parse(
      await readFile(join(dir.path, 'store', 'models', JSON.parse(trained.out[0]!).modelVersion, 'model.json'), 'utf8'),
    );
    expect(model.customerSchema.name).toBe('wholesale');
    expect(model.features.map((f: { name: string }) => f.name)).toEqual(model.customerSchema.features.map((f: { name: string }) => f.name));
    const { rows: unlabeled } = await db.repo.pool.query('SELECT count(*)::int AS n FROM customers WHERE segment IS NULL');
    expect(unlabeled[0]).toEqual({ n: 0 });
  });

  it('refuses to drop a column holding values without --allow-drop, in one line, and drops it with it', async () => {
    await cli('db', 'load', await mallFile(50));
    const refused = await cli('db', 'migrate', '--schema', wholesale);
    expect(refused.code).toBe(1);
    expect(refused.err).toHaveLength(1);
    expect(refused.err[0]).toMatch(
      /^segments: the schema drops columns gender, age, annual_income_thousands, spending_score of the customers table, which hold values: allow the drop .*--allow-drop/,
    );
    const allowed = await cli('db', 'migrate', '--schema', wholesale, '--allow-drop');
    expect(allowed.code).toBe(0);
    expect(allowed.out).toContain('customers table: drop column gender and its values');
  });

  it('refuses a schema file that is not one, naming the field, before touching the table', async () => {
    const bad = join(dir.path, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({ name: 'x', id: { header: 'id' }, features: [{ name: 'a', header: 'a', label: 'A', kind: 'numeric', weight: 0 }] }),
    );
    const run = await cli('db', 'migrate', '--schema', bad);
    expect(run.code).toBe(1);
    expect(run.err).toEqual([`segments: ${bad}: features[0].weight: must be greater than 0`]);
    const { rows } = await db.repo.pool.query(
      "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'gender'",
    );
    expect(rows[0]).toEqual({ n: 1 });
  });
});

async function mallFile(rows: number): Promise<string> {
  const csv = join(dir.path, 'mall.csv');
  await writeFile(csv, [...generateCsv({ rows, seed: 4 })].join(''));
  return csv;
}

async function readSchemaFile(path: string) {
  return parseCustomerSchema(JSON.parse(await readFile(path, 'utf8')), path);
}

describe('segments db migrate', () => {
  it('says which migrations it applied to a new database, then that it is up to date', async () => {
    // a database without any migration: the test's own is migrated already
    await db.repo.pool.query('DROP SCHEMA public CASCADE');
    await db.repo.pool.query('CREATE SCHEMA public');
    const first = await cli('db', 'migrate');
    expect(first).toMatchObject({ code: 0, err: [] });
    expect(first.out).toEqual([
      'applied 001_initial, 002_customers_fillfactor, 003_runs_run_key, 004_ingest_batches, 005_training_snapshots, 006_customer_schema',
    ]);
    expect((await cli('db', 'migrate')).out).toEqual(['database is up to date']);
  });
});
