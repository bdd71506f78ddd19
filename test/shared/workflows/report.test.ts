// The report as the workflows write it: who moved where between the previous model and a retrain,
// also when a table-trained model's report is rendered again, for the mall's schema and another.

import { readFile } from 'node:fs/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { renderReport } from '../../../shared/report/index.ts';
import type { TableStatus } from '../../../shared/ports.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { movementOf, rewriteTableReport, tableStatsOf, type TrainingTable } from '../../../shared/workflows/report.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { REPORT_SAMPLE_ROWS } from '../../../shared/workflows/table-model.ts';
import { sampleOrder } from '../../../shared/clustering/sample-order.ts';

/** The customers in the sample order for `seed` (sample-order.ts), as training from the table reads them. */
const inSampleOrder = (rows: readonly Customer[], seed: number): Customer[] =>
  Array.from(
    sampleOrder(
      rows.map((c) => c.customerId),
      seed,
    ),
    (r) => rows[r]!,
  );
import { withTempDir } from '../../support/temp.ts';
import { wholesaleModel } from '../report/wholesale-fixture.ts';

const customers: Customer[] = [...generateCustomers({ rows: 600, seed: 51 })].map(({ planted: _p, ...c }) => c);
const train = (k: number, seed: number, reference: ReturnType<typeof trainModel> | null) =>
  trainModel(
    { source: 'test', customers, rowsRead: 600, rowsRejected: 0, duplicates: 0 },
    { k, maxK: 3, seed, exclude: ['gender'] },
    new Date('2026-02-01T00:00:00Z'),
    reference,
  );

describe('movementOf and the "who moved where" section', () => {
  it('counts every customer once, and a retrain with another seed keeps nearly everyone in the same id', async () => {
    const before = train(5, 1, null);
    const after = train(5, 2, before);
    const movement = movementOf(before, after, customers);
    expect(movement.counts.flat().reduce((a, b) => a + b, 0)).toBe(600);
    const stayed = movement.from.reduce(
      (sum, f, i) => sum + movement.to.reduce((s, t, j) => s + (t.id === f.id ? movement.counts[i]![j]! : 0), 0),
      0,
    );
    expect(stayed / 600).toBeGreaterThan(0.99);
    const html = await renderReport({ model: after, customers, movement });
    expect(html).toContain('<section id="movement">');
    expect(html).toContain(`data-stat="stayed">${stayed.toLocaleString('en-US')}`);
  });

  it('shows a split segment as customers moving from one previous id to two new ones', () => {
    const before = train(4, 1, null);
    const after = train(5, 1, before);
    const movement = movementOf(before, after, customers);
    expect(movement.to.map((t) => t.id).sort()).toEqual([...after.lineage.matched.map((m) => m.id), ...after.lineage.added].sort());
    const spread = movement.counts.map((row) => row.filter((n) => n > 0).length);
    expect(Math.max(...spread)).toBeGreaterThanOrEqual(2);
  });
});

describe('rewriteTableReport', () => {
  const status: TableStatus = {
    customers: 650,
    unlabeled: 20,
    byOrigin: { created: 600, assigned: 30, unlabeled: 20 },
    bySegment: [],
    lastRuns: [],
    lastDrift: null,
  };
  /** The table as the report reads it: the training members' current rows, in pages, and its status. */
  const table = (members: readonly Customer[]): TrainingTable => ({
    async *readTrainingMembers() {
      for (let i = 0; i < members.length; i += 250) yield members.slice(i, i + 250);
    },
    checkColumns: async () => ({ missing: [], retyped: [] }),
    status: async () => status,
  });
  let store: FileModelStore;
  beforeEach(async () => {
    const dir = await withTempDir('rewrite-report');
    store = new FileModelStore(dir.path);
    return () => dir.remove();
  });

  it('renders the table shares and who moved where from the model it was matched to (lineage.parent)', async () => {
    const before = train(4, 1, null);
    const after = train(5, 1, before);
    await store.putModel(before);
    await store.putModel(after);
    const outcome = await rewriteTableReport(store, table(customers), after);
    expect(outcome).toEqual({ written: true, uri: store.reportPath(after.modelVersion) });
    const expected = await renderReport({
      model: after,
      customers: inSampleOrder(customers, after.seed),
      tableStats: tableStatsOf(status),
      movement: movementOf(before, after, customers),
    });
    const html = await readFile(store.reportPath(after.modelVersion), 'utf8');
    expect(html).toContain('<section id="movement">');
    expect(html).toBe(expected);
  });

  it('renders a first model (no parent) without a movement section', async () => {
    const first = train(3, 1, null);
    await store.putModel(first);
    await rewriteTableReport(store, table(customers), first);
    const html = await readFile(store.reportPath(first.modelVersion), 'utf8');
    expect(html).not.toContain('<section id="movement">');
    expect(html).toBe(
      await renderReport({ model: first, customers: inSampleOrder(customers, first.seed), tableStats: tableStatsOf(status) }),
    );
  });

  it('draws a large table’s page from the training’s sample, as training did, and says so', async () => {
    const many: Customer[] = [...generateCustomers({ rows: REPORT_SAMPLE_ROWS + 500, seed: 52 })].map(({ planted: _p, ...c }) => c);
    const model = trainModel(
      { source: 'test', customers: many, rowsRead: many.length, rowsRejected: 0, duplicates: 0 },
      { k: 3, seed: 4, sweep: 'none' },
      new Date('2026-02-01T00:00:00Z'),
    );
    await store.putModel(model);
    await rewriteTableReport(store, table(many), model);
    const html = await readFile(store.reportPath(model.modelVersion), 'utf8');
    const sample = inSampleOrder(many, model.seed).slice(0, REPORT_SAMPLE_ROWS);
    expect(html).toBe(await renderReport({ model, customers: sample, tableStats: tableStatsOf(status), sampleOf: many.length }));
    expect(html).toContain(`data-sample="${REPORT_SAMPLE_ROWS}" data-of="${many.length}"`);
  });

  it('leaves the stored report alone and says why when training customers are gone or the parent is not stored', async () => {
    const before = train(4, 1, null);
    const after = train(5, 1, before);
    await store.putModel(after);
    await store.putReport(after.modelVersion, 'as training wrote it');
    expect(await rewriteTableReport(store, table(customers.slice(1)), after)).toEqual({
      written: false,
      reason: `the table no longer holds every training customer of ${after.modelVersion}`,
    });
    expect(await rewriteTableReport(store, table(customers), after)).toEqual({
      written: false,
      reason: `${before.modelVersion}, the model ${after.modelVersion} was matched to, is no longer stored`,
    });
    expect(await readFile(store.reportPath(after.modelVersion), 'utf8')).toBe('as training wrote it');
  });
});

describe('the report workflows for another schema', () => {
  it('counts who moved where with customers of the wholesale schema held as objects (the table’s rows)', async () => {
    const { customers: columns, model: before } = await wholesaleModel(1200, 21, { k: 4, sweep: 'none', restarts: 1, seed: 1 });
    const after = trainModel(
      { source: 'w.csv', customers: columns, rowsRead: 1200, rowsRejected: 0, duplicates: 0 },
      { k: 5, sweep: 'none', restarts: 1, seed: 2 },
      new Date('2026-02-01T00:00:00Z'),
      before,
    );
    const rows = Array.from({ length: columns.length }, (_, i) => columns.at(i));
    const movement = movementOf(before, after, rows);
    expect(movement).toEqual(movementOf(before, after, columns));
    expect(movement.counts.flat().reduce((a, b) => a + b, 0)).toBe(1200);
    const html = await renderReport({ model: after, customers: rows, movement });
    expect(html).toContain('<section id="movement">');
    expect(html).toContain('class="category" data-feature="channel"');
  });

  it('renders a table-trained model again without who moved where when its parent cannot read its rows', async () => {
    const dir = await withTempDir('rewrite-schema-report');
    try {
      const store = new FileModelStore(dir.path);
      // the parent: the mall's schema, as before the deployment changed its schema
      const mall = train(3, 1, null);
      const { customers: columns, model: trained } = await wholesaleModel(800, 22, { k: 3, sweep: 'none', restarts: 1 });
      const model = { ...trained, lineage: { ...trained.lineage, parent: mall.modelVersion } };
      await store.putModel(mall);
      await store.putModel(model);
      const rows = Array.from({ length: columns.length }, (_, i) => columns.at(i));
      const status: TableStatus = {
        customers: 800,
        unlabeled: 0,
        byOrigin: { created: 800 },
        bySegment: [],
        lastRuns: [],
        lastDrift: null,
      };
      const outcome = await rewriteTableReport(
        store,
        {
          async *readTrainingMembers() {
            yield rows;
          },
          checkColumns: async () => ({ missing: [], retyped: [] }),
          status: async () => status,
        },
        model,
      );
      expect(outcome).toEqual({ written: true, uri: store.reportPath(model.modelVersion) });
      const html = await readFile(store.reportPath(model.modelVersion), 'utf8');
      expect(html).not.toContain('<section id="movement">');
      expect(html).toBe(await renderReport({ model, customers: inSampleOrder(rows, model.seed), tableStats: tableStatsOf(status) }));
    } finally {
      await dir.remove();
    }
  });
});
