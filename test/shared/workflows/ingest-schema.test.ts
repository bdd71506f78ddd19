// Another business's customers through the database, end to end, over every SqlClient (pg, and the
// Data API through the emulator): a wholesale file (shared/schema/examples/wholesale.json: two
// categorical features, seven numeric, five of them log1p) ingested into a table migrated to its
// schema, then labeled by the nightly run in the database exactly as the JavaScript Assigner labels
// it; a column added after rows were stored, and a column a model uses dropped since its training.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { FileResultWriter } from '../../../functions/adapters/file-result-writer.ts';
import type { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { ModelError } from '../../../shared/errors.ts';
import { transformed } from '../../../shared/features/encode.ts';
import { parseModel, serializeModel, type Model } from '../../../shared/model/artifact.ts';
import { Assigner } from '../../../shared/model/assign.ts';
import { uploadBatchRows, type ObjectSource, type SqlClient } from '../../../shared/ports.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { SqlCustomerTable } from '../../../shared/sql/customer-table.ts';
import { SqlDatabase } from '../../../shared/sql/database.ts';
import { assignPending } from '../../../shared/workflows/database.ts';
import { ingestObject, type IngestDeps } from '../../../shared/workflows/ingest.ts';
import { promoteModel } from '../../../shared/workflows/promote.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, startSqlClients, type TestSqlClients } from '../../support/database.ts';
import { withTempDir } from '../../support/temp.ts';

const WHOLESALE: CustomerSchema = parseCustomerSchema(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/schema/examples/wholesale.json'), 'utf8')),
  'wholesale.json',
);

/** The wholesale schema with one more feature, added to a table that already has rows (no fill: NULL there). */
const WITH_RETURNS: CustomerSchema = parseCustomerSchema(
  {
    ...WHOLESALE,
    features: [
      ...WHOLESALE.features,
      { name: 'returns', header: 'Returns', label: 'Returns', kind: 'numeric', integer: true, min: 0, max: 100 },
    ],
  },
  'with-returns',
);

/** The wholesale schema without its frozen column. */
const WITHOUT_FROZEN: CustomerSchema = { ...WHOLESALE, features: WHOLESALE.features.filter((f) => f.name !== 'frozen') };

const csvOf = (schema: CustomerSchema, rows: number, seed: number, firstId = 1): string =>
  [...generateCsv({ schema, rows, seed, firstId })].join('');

async function columnsOf(schema: CustomerSchema, text: string): Promise<CustomerColumns> {
  async function* chunks() {
    yield text;
  }
  const csv = await readCustomerColumns(chunks(), { schema });
  if (csv.rejected.length > 0) throw new Error(`generated rows rejected: ${csv.rejected[0]!.reason}`);
  return csv.columns;
}

const customersOf = (columns: CustomerColumns): Customer[] => Array.from({ length: columns.length }, (_, i) => columns.at(i));

/** A model trained on generated customers of `schema`, as read back from model.json. */
async function modelOf(schema: CustomerSchema, rows: number, seed: number, exclude: string[] = []): Promise<Model> {
  const customers = await columnsOf(schema, csvOf(schema, rows, seed, 900_000));
  const trained = trainModel(
    { source: 'train.csv', customers, rowsRead: rows, rowsRejected: 0, duplicates: 0 },
    { k: 5, maxK: 5, restarts: 2, exclude },
    new Date(),
  );
  return parseModel(serializeModel(trained), 'model.json');
}

/** Uploaded objects held in memory, each with an ETag. */
function objectsOf(files: Record<string, string>): ObjectSource {
  return {
    open: async (key, etag) => {
      const text = files[key];
      if (text === undefined || (etag !== undefined && etag !== `etag-${key}`)) return null;
      return {
        etag: `etag-${key}`,
        body: (async function* () {
          yield new TextEncoder().encode(text);
        })(),
      };
    },
  };
}

let clients: TestSqlClients;
let model: Model;
beforeAll(async () => {
  clients = await startSqlClients('ingest_schema');
  await new SqlCustomerTable(clients.client('PgSqlClient')).apply(WHOLESALE);
  model = await modelOf(WHOLESALE, 3000, 11);
});
afterAll(() => clients.close());

describe.each(SQL_CLIENTS)('a wholesale table over %s', (implementation) => {
  let sql: SqlClient;
  let dir: { path: string; remove(): Promise<void> };
  let store: FileModelStore;
  const logs: string[] = [];

  beforeEach(async () => {
    await clients.db.repo.pool.query('TRUNCATE customers, training_members, runs, locks, ingested_objects, ingest_batches');
    dir = await withTempDir('ingest-schema');
    store = new FileModelStore(join(dir.path, 'store'));
    sql = clients.client(implementation);
    logs.length = 0;
    return () => dir.remove();
  });

  const ingestDeps = (schema: CustomerSchema, files: Record<string, string>): IngestDeps => ({
    objects: objectsOf(files),
    repo: new SqlDatabase(sql, schema),
    store,
    results: (name) =>
      new FileResultWriter({
        'labeled.csv': join(dir.path, `${name}.labeled.csv`),
        'rejects.csv': join(dir.path, `${name}.rejects.csv`),
        'summary.json': join(dir.path, `${name}.summary.json`),
      }),
    clock: () => new Date(),
    log: (message) => logs.push(message),
  });

  const ingest = (schema: CustomerSchema, key: string, text: string) =>
    ingestObject(ingestDeps(schema, { [key]: text }), { bucket: 'bucket', key, etag: `etag-${key}` });

  const nightly = (schema: CustomerSchema, batchSize = 700) =>
    assignPending({ repo: new SqlDatabase(sql, schema), store, clock: () => new Date(), log: (m) => logs.push(m) }, { batchSize });

  async function promote(m: Model): Promise<void> {
    await store.putModel(m);
    await promoteModel(store, m.modelVersion, new Date());
  }

  it('stores every feature of an ingested file as typed columns, and reads the customers back as the CSV reader gives them', async () => {
    const text = csvOf(WHOLESALE, 2500, 21);
    const outcome = await ingest(WHOLESALE, 'uploads/customers/a.csv', text);
    expect(outcome).toMatchObject({ status: 'processed', summary: { status: 'ok', rowsAccepted: 2500, modelVersion: null } });
    const read: Customer[] = [];
    for await (const page of new SqlDatabase(sql, WHOLESALE).readCustomers()) read.push(...page);
    expect(read).toEqual(customersOf(await columnsOf(WHOLESALE, text)));
    const { rows } = await clients.db.repo.pool.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('channel', 'recency_days', 'fresh')
       ORDER BY column_name`,
    );
    expect(rows).toEqual([
      { column_name: 'channel', data_type: 'text' },
      { column_name: 'fresh', data_type: 'numeric' },
      { column_name: 'recency_days', data_type: 'integer' },
    ]);
  });

  it('labels the ingested customers in the database as the JavaScript Assigner does, every row', async () => {
    const text = csvOf(WHOLESALE, 2500, 22);
    await ingest(WHOLESALE, 'uploads/customers/b.csv', text);
    await promote(model);
    const outcome = await nightly(WHOLESALE);
    expect(outcome).toMatchObject({ status: 'labeled', pending: 2500, incomplete: 0, labeled: 2500, batches: 4 });
    const { rows } = await clients.db.repo.pool.query(
      'SELECT customer_id, segment, segment_distance, is_outlier, segment_origin FROM customers ORDER BY customer_id',
    );
    const byId = new Map(rows.map((r) => [r.customer_id as string, r]));
    const assigner = new Assigner(model);
    let differing = 0;
    let largest = 0;
    for (const customer of customersOf(await columnsOf(WHOLESALE, text))) {
      const expected = assigner.assign(customer);
      const got = byId.get(customer.customerId)!;
      expect(got.segment_origin).toBe('assigned');
      largest = Math.max(largest, Math.abs(got.segment_distance - expected.distance) / expected.distance);
      if (got.segment !== expected.segment) {
        // ln(1 + x) against Math.log1p (scoring.ts): only a tie of the two nearest centroids may differ
        differing++;
        const [first, second] = squaredDistances(model, customer).sort((a, b) => a - b);
        expect((second! - first!) / first!).toBeLessThan(1e-12);
        continue;
      }
      expect(got.is_outlier).toBe(expected.isOutlier);
    }
    expect(differing).toBe(0);
    expect(largest).toBeLessThan(1e-12);
  });

  it('labels an upload with the active model as it stores it: the nightly run finds nothing, and reports drift per feature', async () => {
    await promote(model);
    const outcome = await ingest(WHOLESALE, 'uploads/customers/c.csv', csvOf(WHOLESALE, 600, 23));
    expect(outcome).toMatchObject({ status: 'processed', summary: { status: 'ok', rowsAccepted: 600, modelVersion: model.modelVersion } });
    const run = await nightly(WHOLESALE);
    expect(run).toMatchObject({ status: 'no-new-customers', pending: 0, incomplete: 0 });
    expect(Object.keys(run.drift!.psi).sort()).toEqual(
      WHOLESALE.features
        .filter((f) => f.kind === 'numeric')
        .map((f) => f.name)
        .sort(),
    );
    expect(Object.keys(run.drift!.categories!).sort()).toEqual(['channel', 'region']);
    expect(run.drift!.categories!.region!.values).toEqual(['lisbon', 'oporto', 'other']);
    const shares = run.drift!.categories!.channel!.now!;
    expect(shares.reduce((a, b) => a + b, 0) + run.drift!.categories!.channel!.unseen!).toBeCloseTo(1, 12);
    expect(run.drift!.retrainRecommended).toBe(false);
  });

  it('counts apart, and does not label, rows stored before a column the model uses was added; a model without it labels them', async () => {
    await ingest(WHOLESALE, 'uploads/customers/d.csv', csvOf(WHOLESALE, 300, 24));
    const table = new SqlCustomerTable(clients.client('PgSqlClient'));
    await table.apply(WITH_RETURNS);
    try {
      // the new column is NULL in the rows stored before it; rows uploaded since have it
      const later = await ingest(WITH_RETURNS, 'uploads/customers/e.csv', csvOf(WITH_RETURNS, 200, 25, 500_000));
      expect(later).toMatchObject({ summary: { status: 'ok', rowsAccepted: 200 } });
      const withReturns = await modelOf(WITH_RETURNS, 2000, 12);
      await promote(withReturns);
      const outcome = await nightly(WITH_RETURNS);
      expect(outcome).toMatchObject({ status: 'labeled', pending: 200, incomplete: 300, labeled: 200 });
      expect(logs).toContain(
        `300 customers are not labeled: a NULL in a column model ${withReturns.modelVersion} uses (stored before the column was added); upload their rows again to label them`,
      );
      const { rows } = await clients.db.repo.pool.query(
        'SELECT count(*)::int AS n FROM customers WHERE segment IS NULL AND returns IS NULL',
      );
      expect(rows[0].n).toBe(300);
      // the model trained before the column existed labels every row
      await promote(model);
      expect(await nightly(WITH_RETURNS)).toMatchObject({ status: 'labeled', pending: 500, incomplete: 0, labeled: 500 });
    } finally {
      await clients.db.repo.pool.query('TRUNCATE customers');
      await table.apply(WHOLESALE, { allowDrop: true });
    }
  });

  it('keeps a full upload batch of the widest values within the 4 MiB request: long escaped ids and categories, long numbers', async () => {
    // channel learned: its values are whatever the files hold, here 200 characters each, most escaped twice
    const learned = parseCustomerSchema(
      {
        ...WHOLESALE,
        features: WHOLESALE.features.map((f) => (f.name === 'channel' ? { ...f, categories: 'learned', valueAliases: {} } : f)),
      },
      'learned channel',
    );
    const rowsPerBatch = uploadBatchRows(learned);
    const customers = customersOf(await columnsOf(WHOLESALE, csvOf(WHOLESALE, rowsPerBatch, 28)));
    const rows = customers.map((c, i) => ({
      customer: {
        ...c,
        customerId: `${'\u0001'.repeat(120)}${String(i).padStart(8, '0')}`,
        channel: `${'\u0002'.repeat(190)}${String(i % 255).padStart(10, '0')}`,
        fresh: 1234567.8912345678 + i,
      },
      assignment: null,
    }));
    const before = clients.dataApi.stats.maxRequestBytes;
    const stored = await new SqlDatabase(sql, learned).storeUploadBatch({ bucket: 'b', key: 'k', etag: 'e' }, 0, rows, null);
    expect(stored.inserted).toBe(rowsPerBatch);
    if (implementation === 'DataApiSqlClient') {
      expect(clients.dataApi.stats.maxRequestBytes).toBeGreaterThan(Math.max(before, 2 * 1024 * 1024));
      expect(clients.dataApi.stats.maxRequestBytes).toBeLessThan(4 * 1024 * 1024);
    }
    // every value as it was sent: the dictionary's entries, the numbers
    const { rows: back } = await clients.db.repo.pool.query(
      'SELECT customer_id, channel, CAST(fresh AS double precision) AS fresh FROM customers',
    );
    const sent = new Map(rows.map((r) => [r.customer.customerId, r.customer]));
    expect(back).toHaveLength(rowsPerBatch);
    for (const r of back) expect([r.channel, r.fresh]).toEqual([sent.get(r.customer_id)!.channel, sent.get(r.customer_id)!.fresh]);
  });

  it('labels on when a column the model does not use is dropped, its drift leaving that column out', async () => {
    const withoutFrozen = await modelOf(WHOLESALE, 2000, 13, ['frozen']);
    expect(Object.keys(withoutFrozen.baseline.bins)).toContain('frozen');
    await ingest(WHOLESALE, 'uploads/customers/h.csv', csvOf(WHOLESALE, 150, 29));
    await promote(withoutFrozen);
    const table = new SqlCustomerTable(clients.client('PgSqlClient'));
    await table.apply(WITHOUT_FROZEN, { allowDrop: true });
    try {
      const outcome = await nightly(WITHOUT_FROZEN);
      expect(outcome).toMatchObject({ status: 'labeled', labeled: 150 });
      expect(Object.keys(outcome.drift!.psi)).not.toContain('frozen');
      expect(Object.keys(outcome.drift!.psi)).toHaveLength(6);
      expect(logs).toContain('drift leaves out frozen: no longer a column of the customers table as the model knew it');
    } finally {
      await clients.db.repo.pool.query('TRUNCATE customers');
      await table.apply(WHOLESALE);
    }
  });

  it('ends with one line saying to retrain when a column the model uses is no longer in the table', async () => {
    await ingest(WHOLESALE, 'uploads/customers/f.csv', csvOf(WHOLESALE, 100, 26));
    await promote(model);
    const table = new SqlCustomerTable(clients.client('PgSqlClient'));
    await table.apply(WITHOUT_FROZEN, { allowDrop: true });
    try {
      const message = `the active model ${model.modelVersion} cannot label the customers table: column frozen is no longer in the table (dropped or renamed since it was trained); retrain on the table's current columns (or promote a model trained on them)`;
      await expect(nightly(WITHOUT_FROZEN)).rejects.toThrow(new ModelError(message));
      const { rows } = await clients.db.repo.pool.query("SELECT status, error FROM runs WHERE kind = 'assign'");
      expect(rows).toEqual([{ status: 'failed', error: message }]);
      // ingest refuses the model before it claims the upload: the table stays as it is
      await expect(ingest(WITHOUT_FROZEN, 'uploads/customers/g.csv', csvOf(WITHOUT_FROZEN, 10, 27, 800_000))).rejects.toThrow(
        /uses frozen, which the customers table's schema \(wholesale\) no longer has as it was trained on: retrain/,
      );
      expect((await clients.db.repo.pool.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(100);
    } finally {
      await clients.db.repo.pool.query('TRUNCATE customers');
      await table.apply(WHOLESALE);
    }
  });
});

/** The squared distance from a customer to each centroid in model space, as the Assigner computes them (Math.log1p). */
function squaredDistances(model: Model, customer: Customer): number[] {
  const point = model.features.flatMap((f) =>
    f.kind === 'categorical'
      ? (f.categories ?? []).map((c) => (customer[f.name] === c ? 1 : 0))
      : [transformed(customer[f.name] as number, f.transform === 'log1p')],
  );
  const { mean, scale, weight } = model.scaler;
  const x = point.map((v, j) => ((v - mean[j]!) / scale[j]!) * weight[j]!);
  return model.centroids.model.map((c) => c.reduce((s, v, j) => s + (x[j]! - v) * (x[j]! - v), 0));
}
