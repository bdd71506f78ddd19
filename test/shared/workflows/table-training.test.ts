// Training from the table inside the database against training from a file of the same rows: the
// same model (k, segment ids, names and sizes, the labels it gives, centroids and every figure to
// rounding), the sample the same prefix of the sample order, the run's copy consistent while the
// table changes, and nothing left behind; for the mall's schema and for another (the wholesale
// example: listed and learned categories, log1p spend columns), rows the schema cannot train on
// left out and counted.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { PgSqlClient } from '../../../functions/adapters/pg-sql-client.ts';
import { sampleOrder } from '../../../shared/clustering/sample-order.ts';
import type { CustomerColumns, Customers } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { readCustomerColumns, type CustomerColumnsCsv } from '../../../shared/csv/read-customers.ts';
import { compareUtf8, sampleKey } from '../../../shared/clustering/sample-order.ts';
import { assignCustomers } from '../../../shared/model/assign.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import type { SqlClient } from '../../../shared/ports.ts';
import { generateCsv, generateCustomers } from '../../../shared/sample/generate.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { columnType, quoteIdentifier, SqlCustomerTable } from '../../../shared/sql/customer-table.ts';
import { SqlDatabase } from '../../../shared/sql/database.ts';
import { keyRange, SqlTableTraining } from '../../../shared/sql/table-training.ts';
import type { DatabaseDeps } from '../../../shared/workflows/database.ts';
import { trainInTable } from '../../../shared/workflows/table-model.ts';
import { trainFromTable } from '../../../shared/workflows/train-table.ts';
import { trainingDataFromCsv, trainModel, type TrainOptions } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, startSqlClients, type TestSqlClients } from '../../support/database.ts';
import { withTempDir } from '../../support/temp.ts';

/** Generated customers, a quarter of them with an income of a quarter thousand more (not whole). */
const customers = (rows: number, seed: number, firstId = 1): Customer[] =>
  [...generateCustomers({ rows, seed, firstId })].map(({ planted: _planted, ...c }, i) =>
    i % 4 === 1 ? { ...c, annual_income_thousands: c.annual_income_thousands + 0.25 } : c,
  );

let clients: TestSqlClients;
beforeAll(async () => {
  clients = await startSqlClients('table_training');
});
afterAll(() => clients.close());
beforeEach(async () => {
  await clients.db.repo.pool.query('TRUNCATE customers, training_members, runs, locks, training_snapshots, training_points');
});

/**
 * Relative difference, values below 1 in magnitude compared absolutely: a gender share of a
 * centroid that is 0 comes out as ±1e-15 or so, from sums taken in another order.
 */
const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

/** Every number of a JSON value, in order, beside everything else of it (strings, booleans, shapes). */
function split(value: unknown): { numbers: number[]; rest: string } {
  const numbers: number[] = [];
  const rest = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number') {
      numbers.push(v);
      return 0;
    }
    return v;
  });
  return { numbers, rest };
}

/** The model from the table against the model from the file: same everything, numbers to `tolerance` relative. */
function expectSameModel(table: Model, file: Model, rows: Customers, tolerance = 1e-9): number {
  expect(table.k).toBe(file.k);
  expect(table.segments.map((s) => [s.id, s.name, s.size])).toEqual(file.segments.map((s) => [s.id, s.name, s.size]));
  expect(table.warnings).toEqual(file.warnings);
  expect(table.restarts).toBe(file.restarts);
  const { createdAt: _a, modelVersion: _b, training: tt, ...tableBody } = table;
  const { createdAt: _c, modelVersion: _d, training: ft, ...fileBody } = file;
  expect({ ...tt, source: 'x' }).toEqual({ ...ft, source: 'x' });
  const t = split(tableBody);
  const f = split(fileBody);
  expect(t.rest).toEqual(f.rest);
  expect(t.numbers.length).toBe(f.numbers.length);
  let worst = 0;
  t.numbers.forEach((v, i) => (worst = Math.max(worst, relative(v, f.numbers[i]!))));
  expect(worst).toBeLessThanOrEqual(tolerance);
  // the labels each model gives every customer
  const byTable = assignCustomers(rows, table).map((a) => a.segment);
  const byFile = assignCustomers(rows, file).map((a) => a.segment);
  expect(byTable).toEqual(byFile);
  return worst;
}

/** The file path's model of `rows`, as a CSV of them sorted by customer_id in byte order would train it. */
function fromFile(rows: readonly Customer[], options: TrainOptions, reference: Model | null = null): Model {
  const sorted = [...rows].sort((a, b) => compareUtf8(a.customerId, b.customerId));
  return trainModel(
    { source: 'file.csv', customers: sorted, rowsRead: rows.length, rowsRejected: 0, duplicates: 0 },
    options,
    new Date(),
    reference,
  );
}

describe('a model trained in the table is the model trained from a file of the same rows', () => {
  const cases: [string, number, TrainOptions][] = [
    ['every row in the sample, k chosen by the full sweep', 3000, { seed: 5 }],
    ['k given, a quick sweep', 3000, { k: 4, seed: 7, exclude: ['gender'] }],
    ['refined on every row in the database (sample of 1,000 of 4,000)', 4000, { k: 5, seed: 11, sampleSize: 1000 }],
    ['refined, k chosen by the sweep on 800 rows, weights', 4000, { seed: 3, sampleSize: 800, weights: { age: 2 } }],
    ['no sweep, k = 1', 500, { k: 1, sweep: 'none', seed: 2 }],
  ];
  it.each(cases)('%s', async (_title, n, options) => {
    const rows = customers(n, 21);
    const repo = new SqlDatabase(clients.client('PgSqlClient'));
    await repo.upsertCustomers(rows);
    const trained = await trainInTable(repo, crypto.randomUUID(), options, new Date(), null);
    expectSameModel(trained.model, fromFile(rows, options), rows);
    await repo.dropSnapshot(trained.snapshot.runId);
  });

  it('keeps the active model’s segment ids and names, and counts who moved where as movementOf does', async () => {
    const first = customers(3000, 31);
    const repo = new SqlDatabase(clients.client('PgSqlClient'));
    const reference = fromFile(first, { k: 4, seed: 1 });
    const rows = customers(3000, 32);
    await repo.upsertCustomers(rows);
    const options = { k: 5, seed: 9, sampleSize: 1000 };
    const trained = await trainInTable(repo, crypto.randomUUID(), options, new Date(), reference);
    const file = fromFile(rows, options, reference);
    expectSameModel(trained.model, file, rows);
    const { movementOf } = await import('../../../shared/workflows/report.ts');
    expect(trained.movement).toEqual(movementOf(reference, file, rows).counts);
    await repo.dropSnapshot(trained.snapshot.runId);
  });
});

describe.each(SQL_CLIENTS)('the run over %s', (implementation) => {
  let sql: SqlClient;
  beforeEach(() => {
    sql = clients.client(implementation);
  });

  it('reads the sample as the prefix of sampleOrder, unicode ids included, page by page', async () => {
    const base = customers(600, 41);
    const ids = ['é', 'e', 'Zoë-7', '中文-1', '😀', '𝔘nicode', 'a'.repeat(128), 'ＡＢＣ', '\u00a0x', 'z'];
    const rows = base.map((c, i) => (i < ids.length ? { ...c, customerId: ids[i]! } : c));
    const repo = new SqlDatabase(sql);
    await repo.upsertCustomers(rows);
    // pages of 50 rows: ids of up to 128 printable ASCII characters (258 bytes of JSON at most) and
    // the mall's 79 bytes beside each ({"customer_id":,"f0":"Female","f1":120,"f2":<24>,"f3":100},)
    const training = new SqlTableTraining(sql, 50 * (128 * 2 + 2 + 79));
    const runId = crypto.randomUUID();
    const snapshot = await training.takeSnapshot(runId, 77);
    expect(snapshot.customers).toBe(600);
    const read: string[] = [];
    let pages = 0;
    for await (const page of training.readSample(snapshot, 450, (id) => sampleKey(id, 77))) {
      read.push(...page.map((c) => c.customerId));
      pages++;
    }
    const expected = Array.from(
      sampleOrder(
        rows.map((c) => c.customerId),
        77,
        450,
      ),
      (r) => rows[r]!.customerId,
    );
    expect(read).toEqual(expected);
    expect(pages).toBe(9);
    await training.dropSnapshot(runId);
  });

  it('keeps every sample page under the Data API’s 1 MiB, ids of 128 control characters included', async () => {
    // JSON writes each of these characters as \\u0001: 6 bytes a character
    const rows = customers(2500, 42).map((c, i) => ({ ...c, customerId: `${String(i).padStart(4, '0')}${'\u0001'.repeat(124)}` }));
    await new SqlDatabase(sql).upsertCustomers(rows);
    const training = new SqlTableTraining(sql);
    const runId = crypto.randomUUID();
    const snapshot = await training.takeSnapshot(runId, 3);
    let read = 0;
    for await (const page of training.readSample(snapshot, 2500, (id) => sampleKey(id, 3))) read += page.length;
    expect(read).toBe(2500);
    await training.dropSnapshot(runId);
  });

  it('records as members only the copied rows unchanged when training ends; the others are labeled assigned', async () => {
    const rows = customers(300, 51);
    const base = new SqlDatabase(sql);
    await base.upsertCustomers(rows);
    const changed = rows[17]!;
    // while training runs (when it labels the points), one copied customer changes and one arrives
    let struck = false;
    const racing: SqlClient = {
      query: async (text, params) => {
        if (!struck && /UPDATE training_points/.test(text)) {
          struck = true;
          await base.upsertCustomers([
            { ...changed, age: changed.age === 90 ? 91 : 90 },
            { ...rows[0]!, customerId: 'arrived-late' },
          ]);
        }
        return await sql.query(text, params);
      },
      transaction: (work) => sql.transaction(work),
    };
    const store = await withTempDir('table-training');
    try {
      const deps: DatabaseDeps = {
        repo: new SqlDatabase(racing),
        store: new FileModelStore(store.path),
        clock: () => new Date(),
        log: () => undefined,
      };
      const outcome = await trainFromTable(deps, { k: 3, seed: 4, autoPromote: true, report: false });
      expect(struck).toBe(true);
      expect(outcome.model.training.rowsAccepted).toBe(300);
      expect(outcome.members).toBe(299);
      const { rows: labels } = await clients.db.repo.pool.query(
        'SELECT customer_id, segment_origin FROM customers WHERE customer_id = ANY($1)',
        [[changed.customerId, 'arrived-late', rows[1]!.customerId]],
      );
      expect(Object.fromEntries(labels.map((r) => [r.customer_id, r.segment_origin]))).toEqual({
        [changed.customerId]: 'assigned',
        'arrived-late': 'assigned',
        [rows[1]!.customerId]: 'created',
      });
      // the run's copy is gone
      const { rows: left } = await clients.db.repo.pool.query(
        'SELECT (SELECT count(*) FROM training_snapshots)::int AS s, (SELECT count(*) FROM training_points)::int AS p',
      );
      expect(left[0]).toEqual({ s: 0, p: 0 });
    } finally {
      await store.remove();
    }
  });

  it('deletes what a crashed run left behind once it is a day old, and a failed run its own copy', async () => {
    const repo = new SqlDatabase(sql);
    await repo.upsertCustomers(customers(40, 61));
    const training = new SqlTableTraining(sql);
    const crashed = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await training.takeSnapshot(crashed, 1);
    await training.takeSnapshot(recent, 1);
    await clients.db.repo.pool.query("UPDATE training_snapshots SET taken_at = now() - interval '25 hours' WHERE run_id = $1", [crashed]);
    await clients.db.repo.pool.query("UPDATE training_points SET taken_at = now() - interval '25 hours' WHERE run_id = $1", [crashed]);
    expect(await training.clearStale()).toBeGreaterThan(40);
    const { rows } = await clients.db.repo.pool.query('SELECT DISTINCT run_id::text AS run FROM training_snapshots');
    expect(rows).toEqual([{ run: recent }]);
    await training.dropSnapshot(recent);
    // k larger than the customers: training fails, and its copy goes with it
    const store = await withTempDir('table-training');
    try {
      const deps: DatabaseDeps = { repo, store: new FileModelStore(store.path), clock: () => new Date(), log: () => undefined };
      await expect(trainFromTable(deps, { k: 50, sampleSize: 40, autoPromote: true })).rejects.toThrow();
      const { rows: left } = await clients.db.repo.pool.query('SELECT count(*)::int AS n FROM training_snapshots');
      expect(left[0].n).toBe(0);
    } finally {
      await store.remove();
    }
  });
});

describe('keyRange', () => {
  it('cuts the ranges between the keys into runs that cover each once, in order', () => {
    const keys = ['b', 'd', 'f', 'h'];
    // the five ranges: (…, b], (b, d], (d, f], (f, h], (h, …)
    expect([0, 1].map((p) => keyRange(keys, p, 2))).toEqual([{ upTo: 'd' }, { after: 'd' }]);
    expect([0, 1, 2].map((p) => keyRange(keys, p, 3))).toEqual([{ upTo: 'b' }, { after: 'b', upTo: 'f' }, { after: 'f' }]);
    expect(keyRange(keys, 0, 1)).toEqual({});
    expect(keyRange([], 0, 1)).toEqual({});
    expect([0, 1, 2, 3, 4].map((p) => keyRange(keys, p, 5))).toEqual([
      { upTo: 'b' },
      { after: 'b', upTo: 'd' },
      { after: 'd', upTo: 'f' },
      { after: 'f', upTo: 'h' },
      { after: 'h' },
    ]);
  });
});

/** The wholesale example schema: channel and region listed, recency and orders whole numbers, five log1p spend columns. */
const WHOLESALE = parseCustomerSchema(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/schema/examples/wholesale.json'), 'utf8')),
  'wholesale.json',
);

/** The wholesale schema with its region learned at training rather than listed. */
const LEARNED_REGION = parseCustomerSchema(
  {
    ...WHOLESALE,
    features: WHOLESALE.features.map((f) =>
      f.name === 'region' ? { ...f, categories: 'learned', valueAliases: {}, missing: 'reject' } : f,
    ),
  },
  'wholesale, region learned',
);

/** Generated customers of `schema` as CSV text; `region` renames the region values (a learned region's). */
function csvOf(schema: CustomerSchema, rows: number, seed: number, firstId = 1, region?: Record<string, string>): string {
  const text = [...generateCsv({ schema: WHOLESALE, rows, seed, firstId })].join('');
  const dropped = WHOLESALE.features.map((f, i) => (schema.features.some((g) => g.name === f.name) ? -1 : i + 1)).filter((i) => i > 0);
  return text
    .split('\n')
    .map((line, n) => {
      if (line === '') return line;
      const fields = line.split(',');
      if (n > 0 && region !== undefined) fields[2] = region[fields[2]!]!;
      return fields.filter((_, i) => !dropped.includes(i)).join(',');
    })
    .join('\n');
}

/** A CSV text read as `segments train --schema` reads a file. */
async function readCsv(text: string, schema: CustomerSchema): Promise<CustomerColumnsCsv> {
  async function* chunks() {
    yield text;
  }
  const csv = await readCustomerColumns(chunks(), { schema });
  expect(csv.rejected).toEqual([]);
  return csv;
}

/** Stores customers in the table straight through pg, every feature column of `schema`: setting up a table, not a product path. */
async function insertCustomers(pool: pg.Pool, schema: CustomerSchema, customers: readonly Customer[]): Promise<void> {
  const names = schema.features.map((f) => quoteIdentifier(f.name));
  const types = schema.features.map((f, i) => `${names[i]} ${columnType(f)}`);
  await pool.query(
    `INSERT INTO customers (customer_id, ${names.join(', ')})
     SELECT customer_id, ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(customer_id text, ${types.join(', ')})`,
    [JSON.stringify(customers.map(({ customerId, ...values }) => ({ customer_id: customerId, ...values })))],
  );
}

const rowsOf = (columns: CustomerColumns): Customer[] => Array.from({ length: columns.length }, (_, i) => columns.at(i));

describe('a model trained in a table of another schema is the model trained from a file of the same rows', () => {
  let schemaClients: TestSqlClients;
  let table: SqlCustomerTable;
  beforeAll(async () => {
    schemaClients = await startSqlClients('table_training_schema');
    table = new SqlCustomerTable(new PgSqlClient(schemaClients.db.repo.pool));
    await table.apply(WHOLESALE);
  });
  afterAll(() => schemaClients.close());
  beforeEach(async () => {
    await schemaClients.db.repo.pool.query('TRUNCATE customers, training_members, training_snapshots, training_points');
  });

  /** Trains from a file of `text` and from the table holding its rows, over `implementation`; both models and the rows. */
  async function bothWays(
    implementation: (typeof SQL_CLIENTS)[number],
    schema: CustomerSchema,
    text: string,
    options: TrainOptions,
    training: (sql: SqlClient) => SqlTableTraining = (sql) => new SqlTableTraining(sql),
  ): Promise<{ table: Model; file: Model; rows: CustomerColumns }> {
    const csv = await readCsv(text, schema);
    await insertCustomers(schemaClients.db.repo.pool, schema, rowsOf(csv.columns));
    const file = trainModel(trainingDataFromCsv(csv, 'wholesale.csv'), options, new Date());
    const sql = schemaClients.client(implementation);
    const trained = await trainInTable(training(sql), crypto.randomUUID(), { ...options, schema }, new Date(), null);
    await new SqlTableTraining(sql).dropSnapshot(trained.snapshot.runId);
    expect(trained.model.customerSchema).toEqual(schema);
    return { table: trained.model, file, rows: csv.columns };
  }

  const cases: [string, number, TrainOptions][] = [
    ['every row in the sample, k chosen by the full sweep', 2000, { seed: 5, maxK: 6 }],
    ['refined on every row in the database (sample of 1,000 of 5,000), k given', 5000, { k: 4, seed: 11, sampleSize: 1000 }],
    ['features chosen and weighted, refined', 3000, { k: 3, seed: 3, sampleSize: 800, exclude: ['region'], weights: { fresh: 2 } }],
  ];
  describe.each(SQL_CLIENTS)('over %s', (implementation) => {
    it.each(cases)('%s', async (_title, n, options) => {
      const { table: model, file, rows } = await bothWays(implementation, WHOLESALE, csvOf(WHOLESALE, n, 21), options);
      expectSameModel(model, file, rows);
      // every categorical feature's shares and every numeric feature's summary, as the schema lists them
      expect(Object.keys(model.segments[0]!.categories).sort()).toEqual(['channel', 'region']);
      expect(Object.keys(model.segments[0]!.stats)).toHaveLength(7);
      expect(Object.keys(model.baseline.categories ?? {}).sort()).toEqual(['channel', 'region']);
    });
  });

  it('learns a categorical feature’s values from the rows, sorted as JavaScript sorts them whatever the collation', async () => {
    // JavaScript's order is by UTF-16 code units: Zone < 𝔘nicode (a surrogate pair, D835 …) < ｚone (FF5A); by code
    // points (collation "C") ｚone comes before 𝔘nicode, and a linguistic collation orders them otherwise again
    const region = { lisbon: '𝔘nicode', oporto: 'ｚone', other: 'Zone' };
    await table.apply(LEARNED_REGION);
    try {
      for (const implementation of SQL_CLIENTS) {
        await schemaClients.db.repo.pool.query('TRUNCATE customers');
        const text = csvOf(LEARNED_REGION, 3000, 31, 1, region);
        const { table: model, file, rows } = await bothWays(implementation, LEARNED_REGION, text, { k: 4, seed: 2, sampleSize: 1000 });
        expect(model.features.find((f) => f.name === 'region')?.categories).toEqual(['Zone', '𝔘nicode', 'ｚone']);
        expectSameModel(model, file, rows);
      }
    } finally {
      await table.apply(WHOLESALE);
    }
  });

  it('gives the same model with its statements cut into many parts (key ranges of a few hundred rows)', async () => {
    // k = 4 and 12 model columns: Lloyd statements of 300 points, labeling statements of 250
    const sizes = { copyRows: 700, memberRows: 300, groupRows: 1100, pointRows: 100, lloydWork: 300 * 4 * 12, labelPoints: 250 };
    const options = { k: 4, seed: 8, sampleSize: 500 };
    const statements: string[] = [];
    const counted = (sql: SqlClient): SqlClient => ({
      query: (text, params) => {
        statements.push(text);
        return sql.query(text, params);
      },
      transaction: (work) => sql.transaction(work),
    });
    const {
      table: model,
      file,
      rows,
    } = await bothWays(
      'DataApiSqlClient',
      WHOLESALE,
      csvOf(WHOLESALE, 3000, 41),
      options,
      (sql) => new SqlTableTraining(counted(sql), undefined, sizes),
    );
    expectSameModel(model, file, rows);
    // about 3,000 points: 12 labeling statements or more, 10 statements or more per Lloyd step
    expect(statements.filter((text) => text.includes('UPDATE training_points')).length).toBeGreaterThanOrEqual(12);
    const steps = statements.filter((text) => /GROUP BY segment$/.test(text)).length;
    expect(steps).toBeGreaterThanOrEqual(10);
    // the copy in 5 statements, the grouping in 3 (each dealing its points out to 11 parts), the membership in 10: every copied row once
    const training = new SqlTableTraining(schemaClients.client('PgSqlClient'), undefined, sizes);
    const runId = crypto.randomUUID();
    const snapshot = await training.takeSnapshot(runId, 8, WHOLESALE);
    expect(snapshot.keys).toHaveLength(9);
    expect(snapshot.parts).toBe(33);
    expect(snapshot.pointsByPart.every((n) => n > 50 && n < 150)).toBe(true);
    expect(await training.recordMembers(snapshot, 'model-a')).toBe(3000);
    expect(await training.recordMembers(snapshot, 'model-a')).toBe(0);
    await training.dropSnapshot(runId);
  });

  it('leaves out rows with a feature NULL (stored before its column was added) or a value the schema does not accept, and counts them', async () => {
    // the table first without recency_days: 300 customers stored then
    const withoutRecency = parseCustomerSchema(
      { ...WHOLESALE, features: WHOLESALE.features.filter((f) => f.name !== 'recency_days') },
      'wholesale without recency',
    );
    await table.apply(withoutRecency);
    try {
      const old = await readCsv(csvOf(withoutRecency, 300, 51, 100_001), withoutRecency);
      await insertCustomers(schemaClients.db.repo.pool, withoutRecency, rowsOf(old.columns));
      // recency_days added: those rows get NULL; then 2,000 customers with every feature, and 5 with a channel the schema does not list
      await table.apply(WHOLESALE);
      const odd = rowsOf((await readCsv(csvOf(WHOLESALE, 5, 52, 200_001), WHOLESALE)).columns).map((c) => ({
        ...c,
        channel: 'cash-and-carry',
      }));
      await insertCustomers(schemaClients.db.repo.pool, WHOLESALE, odd);
      // no row to train on: said, with why
      await expect(
        trainInTable(
          new SqlDatabase(schemaClients.client('PgSqlClient')),
          crypto.randomUUID(),
          { k: 2, schema: WHOLESALE },
          new Date(),
          null,
        ),
      ).rejects.toThrow(/^no rows to cluster \(305 rows of the customers table left out of training: 300 rows with a feature empty/);
      await schemaClients.db.repo.pool.query('TRUNCATE training_snapshots, training_points');
      for (const implementation of SQL_CLIENTS) {
        await schemaClients.db.repo.pool.query("DELETE FROM customers WHERE customer_id < '0100000'");
        const options = { k: 3, seed: 4, sampleSize: 1000 };
        const { table: model, file, rows } = await bothWays(implementation, WHOLESALE, csvOf(WHOLESALE, 2000, 53), options);
        expect(model.training).toMatchObject({ rowsRead: 2305, rowsAccepted: 2000, rowsRejected: 305 });
        const warning =
          '305 rows of the customers table left out of training: 300 rows with a feature empty (stored before its column was added: upload them again with every feature); 5 rows with a value the schema does not accept: the model is trained on the other 2000';
        expect(model.warnings.at(-1)).toBe(warning);
        // but for those counts and that warning, the model of the other rows
        const adjusted = {
          ...model,
          warnings: model.warnings.slice(0, -1),
          training: { ...model.training, rowsRead: 2000, rowsRejected: 0 },
        };
        expectSameModel(adjusted, file, rows);
      }
    } finally {
      await schemaClients.db.repo.pool.query('TRUNCATE customers');
      await table.apply(WHOLESALE);
    }
  });
});
