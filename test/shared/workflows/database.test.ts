// The table workflows on a real PostgreSQL server, run as one contract over every SqlClient the
// database ports run on: pg directly, and the RDS Data API (the emulator, unmodified SDK client).
// Training from the table, the nightly assignment, the origin rule, no model, interruption, lease.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { LockHeldError } from '../../../shared/errors.ts';
import { assignCustomers } from '../../../shared/model/assign.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import type { SqlClient } from '../../../shared/ports.ts';
import { SqlDatabase } from '../../../shared/sql/database.ts';
import { assignPending, NIGHTLY_LOCK, type DatabaseDeps } from '../../../shared/workflows/database.ts';
import { trainFromTable } from '../../../shared/workflows/train-table.ts';
import { promoteModel } from '../../../shared/workflows/promote.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, startSqlClients, type TestDatabase, type TestSqlClients } from '../../support/database.ts';
import { withTempDir } from '../../support/temp.ts';

const customers = (rows: number, seed: number, firstId = 1): Customer[] =>
  [...generateCustomers({ rows, seed, firstId })].map(({ planted: _planted, ...c }) => c);

let clients: TestSqlClients;
let db: TestDatabase;
let storeDir: { path: string; remove(): Promise<void> };
let sql: SqlClient;
let deps: DatabaseDeps & { repo: SqlDatabase };
const logs: string[] = [];

beforeAll(async () => {
  clients = await startSqlClients('workflows');
  db = clients.db;
});
afterAll(() => clients.close());

/**
 * `sql`, with `fault` run before every statement matching `pattern` (given how many have come so
 * far, this one included): it may throw, as when the server ends the connection, or change the
 * table behind the caller's back — faults a real server cannot produce on demand.
 */
function withFault(sql: SqlClient, pattern: RegExp, fault: (seen: number) => Promise<void>): SqlClient {
  let seen = 0;
  const guarded =
    (query: SqlClient['query']): SqlClient['query'] =>
    async (text, params) => {
      if (pattern.test(text)) await fault(++seen);
      return await query(text, params);
    };
  return {
    query: guarded((text, params) => sql.query(text, params)),
    transaction: (work) => sql.transaction((tx) => work({ query: guarded((text, params) => tx.query(text, params)) })),
  };
}

/** The labeling statement of one batch (shared/sql/scoring.ts). */
const LABEL_BATCH = /UPDATE customers AS c SET/;

describe.each(SQL_CLIENTS)('the database ports over %s', (implementation) => {
  beforeEach(async () => {
    await db.repo.pool.query('TRUNCATE customers, training_members, runs, locks');
    storeDir = await withTempDir('store');
    logs.length = 0;
    sql = clients.client(implementation);
    deps = {
      repo: new SqlDatabase(sql),
      store: new FileModelStore(storeDir.path),
      clock: () => new Date(),
      log: (m) => logs.push(m),
    };
    return () => storeDir.remove();
  });

  async function labels(): Promise<
    Map<string, { segment: number | null; origin: string | null; version: string | null; distance: number | null; outlier: boolean | null }>
  > {
    const { rows } = await db.repo.pool.query(
      'SELECT customer_id, segment, segment_origin, model_version, segment_distance, is_outlier FROM customers ORDER BY customer_id',
    );
    return new Map(
      rows.map((r) => [
        r.customer_id,
        { segment: r.segment, origin: r.segment_origin, version: r.model_version, distance: r.segment_distance, outlier: r.is_outlier },
      ]),
    );
  }

  describe('trainFromTable', () => {
    it('labels the training customers created, in the database, exactly as the model assigns them', async () => {
      const rows = customers(400, 3);
      await deps.repo.upsertCustomers(rows);
      const outcome = await trainFromTable(deps, { k: 4, exclude: ['gender'], autoPromote: true });
      expect(outcome.promoted).toBe(true);
      expect(outcome.members).toBe(400);
      expect(outcome.assign?.labeled).toBe(400);
      const expected = assignCustomers(rows, outcome.model);
      const all = await labels();
      rows.forEach((c, i) => {
        const got = all.get(c.customerId)!;
        expect(got.origin).toBe('created');
        expect(got.version).toBe(outcome.model.modelVersion);
        expect(got.segment).toBe(expected[i]!.segment);
        expect(got.distance!).toBeCloseTo(expected[i]!.distance, 9);
        expect(got.outlier).toBe(expected[i]!.isOutlier);
      });
      expect((await deps.store.getActive())?.modelVersion).toBe(outcome.model.modelVersion);
    });
  });

  describe('assignPending (the nightly job)', () => {
    it('says "no active model" and succeeds when nothing was ever promoted', async () => {
      await deps.repo.upsertCustomers(customers(10, 4));
      const outcome = await assignPending(deps);
      expect(outcome.status).toBe('no-active-model');
      expect(outcome.pending).toBe(10);
      expect(logs).toContain('no active model: nothing to assign with');
    });

    it('labels new customers assigned, then finds no new customers', async () => {
      await deps.repo.upsertCustomers(customers(200, 5));
      await trainFromTable(deps, { k: 3, autoPromote: true });
      await deps.repo.upsertCustomers(customers(25, 6, 10_000));
      const first = await assignPending(deps, { batchSize: 7 });
      expect(first).toMatchObject({ status: 'labeled', pending: 25, labeled: 25, batches: 4 });
      const all = await labels();
      expect([...all.entries()].filter(([id]) => Number(id) >= 10_000).every(([, l]) => l.origin === 'assigned')).toBe(true);
      expect([...all.entries()].filter(([id]) => Number(id) < 10_000).every(([, l]) => l.origin === 'created')).toBe(true);
      const second = await assignPending(deps);
      expect(second.status).toBe('no-new-customers');
      expect(logs).toContain('no new customers');
      const { rows: runs } = await db.repo.pool.query("SELECT status, labeled FROM runs WHERE kind = 'assign' ORDER BY id");
      expect(runs.slice(-2)).toEqual([
        { status: 'ok', labeled: 25 },
        { status: 'ok', labeled: 0 },
      ]);
    });

    it('relabels after a promotion and a rollback following the origin rule', async () => {
      const rows = customers(150, 7);
      await deps.repo.upsertCustomers(rows);
      const fromTable = await trainFromTable(deps, { k: 3, autoPromote: true });
      // a model trained from a file: nobody in the table was in its training data
      const fromFile = trainModel(
        { source: 'file.csv', customers: customers(150, 8), rowsRead: 150, rowsRejected: 0, duplicates: 0 },
        { k: 4 },
        new Date(),
      );
      await deps.store.putModel(fromFile);
      await promoteModel(deps.store, fromFile.modelVersion, new Date());
      expect((await assignPending(deps)).labeled).toBe(150);
      expect([...(await labels()).values()].every((l) => l.origin === 'assigned' && l.version === fromFile.modelVersion)).toBe(true);
      await promoteModel(deps.store, fromTable.model.modelVersion, new Date());
      expect((await assignPending(deps)).labeled).toBe(150);
      expect([...(await labels()).values()].every((l) => l.origin === 'created' && l.version === fromTable.model.modelVersion)).toBe(true);
    });

    it('loses nothing when interrupted halfway: the next run finishes the job', async () => {
      await deps.repo.upsertCustomers(customers(120, 9));
      await trainFromTable(deps, { k: 3, autoPromote: false, promote: false });
      await deps.repo.upsertCustomers(customers(60, 10, 5000));
      // the connection dies after two labeling statements
      const failing = new SqlDatabase(
        withFault(sql, LABEL_BATCH, async (seen) => {
          if (seen > 2) throw new Error('connection terminated');
        }),
      );
      await expect(assignPending({ ...deps, repo: failing }, { batchSize: 10 })).rejects.toThrow('connection terminated');
      expect((await deps.repo.countPending(await deps.store.getModel((await deps.store.getActive())!.modelVersion))).pending).toBe(40);
      const rerun = await assignPending(deps, { batchSize: 10 });
      expect(rerun.labeled).toBe(40);
      expect([...(await labels()).values()].every((l) => l.segment !== null)).toBe(true);
      const { rows } = await db.repo.pool.query("SELECT status, error FROM runs WHERE kind = 'assign' ORDER BY id");
      // the driver's message stays out of the table: the error's name and where the details are
      expect(rows).toEqual([
        { status: 'ok', error: null },
        { status: 'failed', error: 'unexpected error: Error (details in the log)' },
        { status: 'ok', error: null },
      ]);
    });

    it('stops when another run takes the lease midway, and records why in words for a person', async () => {
      await deps.repo.upsertCustomers(customers(120, 13));
      await trainFromTable(deps, { k: 3, autoPromote: false, promote: false, report: false });
      await deps.repo.upsertCustomers(customers(30, 14, 5000));
      // while the second batch is labeled, the lease passes to another run (this one's had expired)
      const stolen = new SqlDatabase(
        withFault(sql, LABEL_BATCH, async (seen) => {
          if (seen === 2) await db.repo.pool.query("UPDATE locks SET owner = 'another-run'");
        }),
      );
      await expect(assignPending({ ...deps, repo: stolen }, { batchSize: 10 })).rejects.toBeInstanceOf(LockHeldError);
      expect((await deps.repo.countPending(await deps.store.getModel((await deps.store.getActive())!.modelVersion))).pending).toBe(10);
      const { rows } = await db.repo.pool.query("SELECT status, error FROM runs WHERE kind = 'assign' ORDER BY id DESC LIMIT 1");
      expect(rows[0]).toEqual({
        status: 'failed',
        error: 'the assignment lease was lost to another run; stopping (labeled rows are kept)',
      });
    });

    it('does nothing while another run holds the lease, and takes an expired one', async () => {
      await deps.repo.upsertCustomers(customers(20, 11));
      await trainFromTable(deps, { k: 2, autoPromote: false, promote: false });
      await deps.repo.upsertCustomers(customers(5, 12, 900));
      expect(await deps.repo.acquireLease(NIGHTLY_LOCK, 'other-run', 60)).toBe(true);
      expect((await assignPending(deps)).status).toBe('locked');
      await db.repo.pool.query("UPDATE locks SET expires_at = now() - interval '1 second'");
      expect((await assignPending(deps)).labeled).toBe(5);
      expect((await db.repo.pool.query('SELECT count(*)::int AS n FROM locks')).rows[0].n).toBe(0);
    });
  });
});

describe('drift (nightly run against the training baseline)', () => {
  let store: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    await db.repo.pool.query('TRUNCATE customers, training_members, runs, locks');
    store = await withTempDir('drift');
    return () => store.remove();
  });

  async function nightlyAfter(newCustomers: Customer[]) {
    const local: DatabaseDeps = { repo: db.repo, store: new FileModelStore(store.path), clock: () => new Date(), log: () => undefined };
    await db.repo.upsertCustomers(customers(1000, 41));
    await trainFromTable(local, { k: 5, exclude: ['gender'], autoPromote: true, report: false });
    await db.repo.upsertCustomers(newCustomers);
    return await assignPending(local);
  }

  it('recommends retraining when new customers are 15 years older than the training population', async () => {
    const older = [...generateCustomers({ rows: 400, seed: 42, firstId: 100_000, ageShift: 15 })].map(({ planted: _p, ...c }) => c);
    const outcome = await nightlyAfter(older);
    expect(outcome.drift).toMatchObject({ assigned: 400, created: 1000, retrainRecommended: true });
    expect(outcome.drift!.psi.age).toBeGreaterThan(0.2);
    expect(outcome.drift!.reasons[0]).toMatch(/^age has shifted: PSI/);
    const { rows } = await db.repo.pool.query(
      "SELECT drift->>'retrainRecommended' AS r FROM runs WHERE kind = 'assign' ORDER BY id DESC LIMIT 1",
    );
    expect(rows[0].r).toBe('true');
  });

  it('does not when new customers come from the training distribution', async () => {
    const outcome = await nightlyAfter(customers(400, 43, 100_000));
    expect(outcome.drift).toMatchObject({ assigned: 400, retrainRecommended: false, reasons: [] });
    expect(Math.max(...Object.values(outcome.drift!.psi))).toBeLessThan(0.2);
  });
});

describe('concurrency (real PostgreSQL locks)', () => {
  let store: { path: string; remove(): Promise<void> };
  let local: DatabaseDeps;
  beforeEach(async () => {
    await db.repo.pool.query('TRUNCATE customers, training_members, runs, locks');
    store = await withTempDir('concurrency');
    local = { repo: db.repo, store: new FileModelStore(store.path), clock: () => new Date(), log: () => undefined };
    return () => store.remove();
  });

  it('lets only one of two simultaneous nightly runs label, and loses nothing', async () => {
    await db.repo.upsertCustomers(customers(300, 61));
    const model = trainModel(
      { source: 'f', customers: customers(300, 62), rowsRead: 300, rowsRejected: 0, duplicates: 0 },
      { k: 3, maxK: 3 },
      new Date(),
    );
    await local.store.putModel(model);
    await promoteModel(local.store, model.modelVersion, new Date());
    const outcomes = await Promise.all([assignPending(local, { batchSize: 50 }), assignPending(local, { batchSize: 50 })]);
    // the other run found the lease taken, or (on a loaded machine, where the first may finish
    // before the second starts) nothing left to do: either way one run labeled every customer once
    const [first, second] = [...outcomes].sort((a, b) => b.labeled - a.labeled);
    expect(first).toMatchObject({ status: 'labeled', labeled: 300 });
    expect(['locked', 'no-new-customers']).toContain(second!.status);
    expect(second!.labeled).toBe(0);
    expect(await db.repo.countPending(model)).toEqual({ pending: 0, incomplete: 0 });
  });

  it('trains from the table while a nightly run holds the lease: promoted, labeled by the next run', async () => {
    await db.repo.upsertCustomers(customers(120, 65));
    expect(await db.repo.acquireLease(NIGHTLY_LOCK, 'a-nightly-run', 60)).toBe(true);
    const outcome = await trainFromTable(local, { k: 2, autoPromote: true, report: false });
    expect(outcome).toMatchObject({ promoted: true, members: 120, assign: { status: 'locked', labeled: 0 } });
    await db.repo.releaseLease(NIGHTLY_LOCK, 'a-nightly-run');
    expect(await assignPending(local)).toMatchObject({ status: 'labeled', labeled: 120 });
    const { rows } = await db.repo.pool.query('SELECT DISTINCT segment_origin FROM customers');
    expect(rows).toEqual([{ segment_origin: 'created' }]);
  });

  it('never writes a label computed from values a concurrent upload has just changed', async () => {
    const rows = customers(50, 63);
    await db.repo.upsertCustomers(rows);
    const model = trainModel(
      { source: 'f', customers: customers(300, 64), rowsRead: 300, rowsRejected: 0, duplicates: 0 },
      { k: 4, maxK: 4 },
      new Date(),
    );
    await local.store.putModel(model);
    await promoteModel(local.store, model.modelVersion, new Date());
    const target = rows[10]!;
    const changed = { ...target, age: 90, annual_income_thousands: 200, spending_score: 2 };
    // an upload holds the row: new values and their label, not yet committed
    const upload = await db.repo.pool.connect();
    try {
      await upload.query('BEGIN');
      const [label] = assignCustomers([changed], model);
      await upload.query(
        `UPDATE customers SET age = $2, annual_income_thousands = $3, spending_score = $4, segment = $5, segment_name = 'x',
           segment_origin = 'assigned', model_version = $6, segment_distance = $7, is_outlier = false WHERE customer_id = $1`,
        [
          target.customerId,
          changed.age,
          changed.annual_income_thousands,
          changed.spending_score,
          label!.segment,
          model.modelVersion,
          label!.distance,
        ],
      );
      const nightly = db.repo.labelNextBatch(model, '', 1000);
      // commit only once the nightly statement is waiting for the row lock
      for (;;) {
        const { rows: waiting } = await db.repo.pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (waiting[0].n > 0) break;
      }
      await upload.query('COMMIT');
      const batch = await nightly;
      expect(batch).toMatchObject({ labeled: 49 });
      const { rows: after } = await db.repo.pool.query('SELECT age, segment, segment_distance FROM customers WHERE customer_id = $1', [
        target.customerId,
      ]);
      expect(after[0]).toMatchObject({ age: 90, segment: label!.segment });
      expect(after[0].segment_distance).toBeCloseTo(label!.distance, 9);
    } finally {
      upload.release();
    }
  });
});
