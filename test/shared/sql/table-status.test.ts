// The TableStatusReader contract, over every SqlClient (pg, and the Data API through the emulator):
// the table at a glance, the latest runs and the latest nightly drift.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Drift } from '../../../shared/model/drift.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { SqlCustomers } from '../../../shared/sql/customers.ts';
import { SqlRunLog } from '../../../shared/sql/run-log.ts';
import { SqlTableStatus } from '../../../shared/sql/table-status.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const DRIFT: Drift = {
  assigned: 400,
  created: 1000,
  assignedShare: 400 / 1400,
  outlierRate: 0.02,
  trainingOutlierRate: 0.01,
  meanDistance: 1.5,
  trainingMeanDistance: 1.25,
  psi: { age: 0.31, spending_score: 0.02 },
  retrainRecommended: true,
  reasons: ['age has shifted: PSI 0.31'],
};

const clients = useSqlClients('table_status', ['customers', 'runs']);

describe.each(SQL_CLIENTS)('SqlTableStatus over %s', (name) => {
  let reader: SqlTableStatus;
  let table: SqlCustomers;
  let runs: SqlRunLog;
  beforeEach(() => {
    const sql = clients.client(name);
    reader = new SqlTableStatus(sql);
    table = new SqlCustomers(sql);
    runs = new SqlRunLog(sql);
  });

  it("counts the customers never labeled apart from those waiting for the active model ('pending')", async () => {
    const rows = [...generateCustomers({ rows: 10, seed: 1 })].map(({ planted: _planted, ...c }) => c);
    await table.upsertCustomers(rows);
    const model = trainModel({ source: 'f', customers: rows, rowsRead: 10, rowsRejected: 0, duplicates: 0 }, { k: 2, maxK: 2 }, new Date());
    const b = model.modelVersion;
    // 1-4 labeled by model b (the active one), 5-6 by model a, 7-10 never
    await clients.db.repo.pool.query(
      `UPDATE customers SET segment = n % 2, segment_name = 'n' || (n % 2), segment_origin = CASE WHEN n <= 2 THEN 'created' ELSE 'assigned' END,
         model_version = CASE WHEN n <= 4 THEN $1 ELSE 'a' END, is_outlier = n = 3
       FROM (SELECT customer_id AS id, CAST(customer_id AS integer) AS n FROM customers) AS k
       WHERE k.id = customers.customer_id AND k.n <= 6`,
      [b],
    );
    const status = await reader.status();
    expect(status).toMatchObject({ customers: 10, unlabeled: 4, byOrigin: { created: 2, assigned: 4, unlabeled: 4 } });
    expect(await table.countPending(model)).toEqual({ pending: 6, incomplete: 0 });
    expect(status.bySegment).toEqual([
      { segment: 0, name: 'n0', modelVersion: b, customers: 2, outliers: 0 },
      { segment: 1, name: 'n1', modelVersion: b, customers: 2, outliers: 1 },
      { segment: 0, name: 'n0', modelVersion: 'a', customers: 1, outliers: 0 },
      { segment: 1, name: 'n1', modelVersion: 'a', customers: 1, outliers: 0 },
    ]);
  });

  it('lists the latest five runs, newest first, started at a UTC time to the second', async () => {
    for (let i = 0; i < 6; i++) {
      await runs.recordRun(
        { kind: 'ingest', modelVersion: i === 5 ? null : `m${i}`, status: 'ok', labeled: i },
        new Date(`2026-11-30T18:24:0${i}.987Z`),
      );
    }
    const { lastRuns } = await reader.status();
    expect(lastRuns.map((r) => r.labeled)).toEqual([5, 4, 3, 2, 1]);
    expect(lastRuns[0]).toEqual({
      kind: 'ingest',
      status: 'ok',
      startedAt: '2026-11-30T18:24:05Z',
      modelVersion: null,
      labeled: 5,
      error: null,
    });
  });

  it("gives the latest nightly run's drift figures, parsed; none before the first", async () => {
    expect((await reader.status()).lastDrift).toBeNull();
    await runs.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok', drift: { ...DRIFT, retrainRecommended: false } }, new Date());
    await runs.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok', drift: DRIFT }, new Date());
    await runs.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok' }, new Date());
    expect((await reader.status()).lastDrift).toEqual(DRIFT);
  });

  it('refuses drift figures that are not drift figures, rather than passing them on', async () => {
    await runs.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok', drift: { psi: 'high' } }, new Date());
    await expect(reader.status()).rejects.toThrow(/psi/);
  });
});
