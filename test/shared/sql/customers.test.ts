// The CustomerRepository contract, over every SqlClient (pg, and the Data API through the
// emulator): upserts, labeled upserts and the origin rule, pending counts, pages within the limits.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Customer } from '../../../shared/csv/contract.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { assignCustomers } from '../../../shared/model/assign.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { SqlCustomers } from '../../../shared/sql/customers.ts';
import { SqlTrainingMembers } from '../../../shared/sql/training-members.ts';
import { SqlUploadLedger } from '../../../shared/sql/upload-ledger.ts';
import { UPLOAD_BATCH_ROWS, uploadBatchRows } from '../../../shared/ports.ts';
import { MALL_SCHEMA, parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const customers = (rows: number, seed: number, firstId = 1): Customer[] =>
  [...generateCustomers({ rows, seed, firstId })].map(({ planted: _planted, ...c }) => c);

const modelOf = (rows: readonly Customer[], k: number): Model =>
  trainModel(
    { source: 'f', customers: [...rows], rowsRead: rows.length, rowsRejected: 0, duplicates: 0 },
    { k, maxK: k, restarts: 1 },
    new Date(),
  );

const clients = useSqlClients('customers', ['customers', 'training_members', 'ingest_batches']);

/** The labels in the table, by customer id. */
async function labels(): Promise<
  Map<string, { segment: number | null; origin: string | null; version: string | null; name: string | null }>
> {
  const { rows } = await clients.db.repo.pool.query(
    'SELECT customer_id, segment, segment_origin, model_version, segment_name FROM customers ORDER BY customer_id',
  );
  return new Map(
    rows.map((r) => [r.customer_id, { segment: r.segment, origin: r.segment_origin, version: r.model_version, name: r.segment_name }]),
  );
}

describe('uploadBatchRows', () => {
  it("is the mall's 2,000 rows, and fewer for a schema whose rows could take more of the request", () => {
    expect(uploadBatchRows(MALL_SCHEMA)).toBe(UPLOAD_BATCH_ROWS);
    const wide = parseCustomerSchema(
      {
        name: 'wide',
        id: { header: 'id' },
        features: [
          ...Array.from({ length: 60 }, (_, i) => ({ name: `n${i}`, header: `n${i}`, label: `N${i}`, kind: 'numeric' })),
          ...Array.from({ length: 4 }, (_, i) => ({
            name: `c${i}`,
            header: `c${i}`,
            label: `C${i}`,
            kind: 'categorical',
            categories: 'learned',
          })),
        ],
      },
      'wide',
    );
    const rows = uploadBatchRows(wide);
    expect(rows).toBeGreaterThan(500);
    expect(rows).toBeLessThan(UPLOAD_BATCH_ROWS);
  });
});

describe.each(SQL_CLIENTS)('SqlCustomers over %s', (name) => {
  let table: SqlCustomers;
  let members: SqlTrainingMembers;
  beforeEach(() => {
    const sql = clients.client(name);
    table = new SqlCustomers(sql);
    members = new SqlTrainingMembers(sql);
  });

  describe('upsertCustomers', () => {
    it('inserts new rows, leaves identical ones untouched and clears the label of changed ones', async () => {
      const batch = customers(30, 1);
      expect(await table.upsertCustomers(batch)).toEqual({ inserted: 30, updated: 0, unchanged: 0 });
      await clients.db.repo.pool.query("UPDATE customers SET segment = 1, segment_origin = 'assigned', model_version = 'x'");
      const changed = batch.map((c, i) => (i < 3 ? { ...c, age: (c.age as number) + 1 } : c));
      expect(await table.upsertCustomers(changed)).toEqual({ inserted: 0, updated: 3, unchanged: 27 });
      expect([...(await labels()).values()].filter((l) => l.segment === null)).toHaveLength(3);
    });

    it('splits large loads into bounded statements and loses no row', async () => {
      expect((await table.upsertCustomers(customers(2500, 2))).inserted).toBe(2500);
      expect((await labels()).size).toBe(2500);
    });
  });

  describe('upsertLabeledCustomers', () => {
    it("labels customers with the model, 'created' only for those it was trained on (origin rule)", async () => {
      const known = customers(20, 3);
      const model = modelOf(known, 2);
      await table.upsertCustomers(known);
      await members.recordTrainingMembers(
        model.modelVersion,
        known.slice(0, 10).map((c) => c.customerId),
      );
      const arriving = [...known, ...customers(5, 4, 500)];
      const assignments = assignCustomers(arriving, model);
      const items = arriving.map((customer, i) => ({ customer, assignment: assignments[i]! }));
      expect(await table.upsertLabeledCustomers(items, model)).toEqual({ inserted: 5, updated: 20, unchanged: 0 });
      const all = await labels();
      arriving.forEach((c, i) => {
        const segment = model.segments[assignments[i]!.index]!;
        expect(all.get(c.customerId)).toEqual({
          segment: segment.id,
          origin: i < 10 ? 'created' : 'assigned',
          version: model.modelVersion,
          name: segment.name,
        });
      });
      // labeled by this model already, with the same values: nothing to write
      expect(await table.upsertLabeledCustomers(items, model)).toEqual({ inserted: 0, updated: 0, unchanged: 25 });
    });
  });

  describe('storeUploadBatch', () => {
    const upload = { bucket: 'bucket', key: 'uploads/customers/a.csv', etag: 'etag-1' };
    const done = () => new SqlUploadLedger(clients.client(name)).doneBatches(upload.bucket, upload.key, upload.etag);

    it('upserts a labeled batch and records it done in one statement, answering the training members among it', async () => {
      const known = customers(20, 5);
      const model = modelOf(known, 2);
      await members.recordTrainingMembers(model.modelVersion, ['0000002', '0000004']);
      const assignments = assignCustomers(known, model);
      const rows = known.map((customer, i) => ({ customer, assignment: assignments[i]! }));
      const stored = await table.storeUploadBatch(upload, 3, rows, model);
      expect(stored).toEqual({ inserted: 20, updated: 0, unchanged: 0, created: new Set(['0000002', '0000004']) });
      expect(await done()).toEqual(new Set([3]));
      const all = await labels();
      expect(all.get('0000001')).toMatchObject({ version: model.modelVersion, origin: 'assigned' });
      // stored again (a retried statement): the table and the progress as once
      expect(await table.storeUploadBatch(upload, 3, rows, model)).toMatchObject({ inserted: 0, updated: 0, unchanged: 20 });
      expect(await labels()).toEqual(all);
      expect(await done()).toEqual(new Set([3]));
    });

    it('upserts an unlabeled batch without a model', async () => {
      const rows = customers(7, 6).map((customer) => ({ customer, assignment: null }));
      expect(await table.storeUploadBatch(upload, 0, rows, null)).toEqual({ inserted: 7, updated: 0, unchanged: 0, created: new Set() });
      expect([...(await labels()).values()].every((l) => l.segment === null)).toBe(true);
      expect(await done()).toEqual(new Set([0]));
    });

    it('records nothing done when the upsert fails: both or neither', async () => {
      const rows = customers(5, 7).map((customer, i) => ({ customer: i === 4 ? { ...customer, age: 500 } : customer, assignment: null }));
      await expect(table.storeUploadBatch(upload, 1, rows, null)).rejects.toThrow();
      expect((await labels()).size).toBe(0);
      expect(await done()).toEqual(new Set());
    });

    it('keeps a full batch of the longest, most escaped customer_ids well under the 4 MiB request limit', async () => {
      // 128 characters each, almost all of which JSON escapes as \u0001, escaped again in the request
      const rows = customers(UPLOAD_BATCH_ROWS, 9).map((customer, i) => ({
        customer: { ...customer, customerId: `${'\u0001'.repeat(120)}${String(i).padStart(8, '0')}` },
        assignment: null,
      }));
      const before = clients.dataApi.stats.maxRequestBytes;
      expect((await table.storeUploadBatch(upload, 0, rows, null)).inserted).toBe(UPLOAD_BATCH_ROWS);
      if (name === 'DataApiSqlClient') {
        expect(clients.dataApi.stats.maxRequestBytes).toBeGreaterThan(before);
        expect(clients.dataApi.stats.maxRequestBytes).toBeLessThan(2.5 * 1024 * 1024);
      }
    });

    it('refuses a batch larger than one statement takes', async () => {
      const rows = customers(UPLOAD_BATCH_ROWS + 1, 8).map((customer) => ({ customer, assignment: null }));
      await expect(table.storeUploadBatch(upload, 0, rows, null)).rejects.toThrow(RangeError);
    });
  });

  describe('countPending', () => {
    it('counts customers never labeled, and with an active model also those labeled by another', async () => {
      const rows = customers(10, 5);
      const ids = rows.map((c) => c.customerId);
      await table.upsertCustomers(rows);
      const model = modelOf(rows, 2);
      const label = (version: string, some: readonly string[]) =>
        clients.db.repo.pool.query(
          "UPDATE customers SET segment = 0, segment_origin = 'assigned', model_version = $1 WHERE customer_id = ANY($2)",
          [version, some],
        );
      await label('a', ids.slice(0, 3));
      await label(model.modelVersion, ids.slice(3, 7));
      expect(await table.countPending(null)).toEqual({ pending: 3, incomplete: 0 });
      expect(await table.countPending(model)).toEqual({ pending: 6, incomplete: 0 });
    });

    it('counts apart, as incomplete, waiting customers with a NULL in a column the model uses', async () => {
      const rows = customers(10, 15);
      await table.upsertCustomers(rows);
      const model = modelOf(rows, 2);
      // rows stored before a column existed hold NULL there (customer-table.ts adds it nullable)
      await clients.db.repo.pool.query('ALTER TABLE customers ALTER COLUMN age DROP NOT NULL');
      try {
        await clients.db.repo.pool.query("UPDATE customers SET age = NULL WHERE customer_id IN ('0000002', '0000005')");
        expect(await table.countPending(model)).toEqual({ pending: 8, incomplete: 2 });
        const batch = await table.labelNextBatch(model, '', 50_000);
        expect(batch).toMatchObject({ labeled: 8 });
        expect(await table.countPending(model)).toEqual({ pending: 0, incomplete: 2 });
        expect((await labels()).get('0000002')!.segment).toBeNull();
        // a model that does not use the column labels them
        const without = trainModel(
          { source: 'f', customers: [...rows], rowsRead: rows.length, rowsRejected: 0, duplicates: 0 },
          { k: 2, maxK: 2, restarts: 1, exclude: ['age'] },
          new Date(),
        );
        expect(await table.countPending(without)).toEqual({ pending: 10, incomplete: 0 });
        // readCustomers reads complete rows only
        const read: Customer[] = [];
        for await (const page of table.readCustomers()) read.push(...page);
        expect(read.map((c) => c.customerId)).toHaveLength(8);
      } finally {
        await clients.db.repo.pool.query('DELETE FROM customers');
        await clients.db.repo.pool.query('ALTER TABLE customers ALTER COLUMN age SET NOT NULL');
      }
    });
  });

  describe('pendingKeyAt and lanes', () => {
    it('names the pending customer at a rank, and a lane labels only its part of the key range', async () => {
      const rows = customers(30, 17);
      await table.upsertCustomers(rows);
      const model = modelOf(rows, 2);
      await clients.db.repo.pool.query(
        "UPDATE customers SET segment = 0, segment_origin = 'assigned', model_version = $1 WHERE customer_id <= '0000010'",
        [model.modelVersion],
      );
      // pending: 0000011 to 0000030
      expect(await table.pendingKeyAt(model, 0)).toBe('0000011');
      expect(await table.pendingKeyAt(model, 9)).toBe('0000020');
      expect(await table.pendingKeyAt(model, 20)).toBeNull();
      expect(await table.labelNextBatch(model, '', 100, '0000020')).toMatchObject({ labeled: 10, lastKey: '0000020' });
      expect(await table.labelNextBatch(model, '0000020', 100, '0000020')).toBeNull();
      expect(await table.countPending(model)).toEqual({ pending: 10, incomplete: 0 });
      expect(await table.labelNextBatch(model, '0000020', 100)).toMatchObject({ labeled: 10, lastKey: '0000030' });
    });
  });

  describe('pages', () => {
    it('reads every customer once, in key order, page by page', async () => {
      const rows = customers(25, 6);
      await table.upsertCustomers(rows);
      const pages: Customer[][] = [];
      for await (const page of table.readCustomers(10)) pages.push(page);
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual([...rows].sort((x, y) => (x.customerId < y.customerId ? -1 : 1)));
    });

    it('reads a 2,500-customer segment page by page within the Data API limits, every customer once', async () => {
      const rows = customers(2500, 71);
      await table.upsertCustomers(rows);
      const model = modelOf(rows, 1);
      expect(await table.labelNextBatch(model, '', 50_000)).toMatchObject({ labeled: 2500 });
      const seen: string[] = [];
      for await (const page of table.readSegment(model.modelVersion, 0)) seen.push(...page.map((r) => String(r.customer_id)));
      expect(seen).toHaveLength(2500);
      expect(new Set(seen).size).toBe(2500);
      expect(clients.dataApi.stats.maxResponseBytes).toBeLessThan(1024 * 1024);
    });
  });
});
