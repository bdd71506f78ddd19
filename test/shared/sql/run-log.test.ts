// The RunLog contract, over every SqlClient (pg, and the Data API through the emulator): one row per
// finished run, once per run key.

import { beforeEach, describe, expect, it } from 'vitest';
import { SqlRunLog } from '../../../shared/sql/run-log.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const clients = useSqlClients('run_log', ['runs']);

const runs = async () =>
  (
    await clients.db.repo.pool.query(
      `SELECT kind, started_at, finished_at IS NOT NULL AS finished, model_version, rows_read, rows_accepted, rows_rejected,
         labeled, outliers, status, error, drift FROM runs ORDER BY id`,
    )
  ).rows;

describe.each(SQL_CLIENTS)('SqlRunLog over %s', (name) => {
  let log: SqlRunLog;
  beforeEach(() => {
    log = new SqlRunLog(clients.client(name));
  });

  it('records a finished run with its start, counts, status, error and drift', async () => {
    const startedAt = new Date('2026-11-30T00:00:00.123Z');
    await log.recordRun(
      {
        kind: 'assign',
        modelVersion: 'm1',
        status: 'failed',
        rowsRead: 5,
        rowsAccepted: 4,
        rowsRejected: 1,
        labeled: 3,
        outliers: 1,
        error: 'the assignment lease was lost',
        drift: { psi: { age: 0.25 } },
      },
      startedAt,
    );
    expect(await runs()).toEqual([
      {
        kind: 'assign',
        started_at: startedAt,
        finished: true,
        model_version: 'm1',
        rows_read: 5,
        rows_accepted: 4,
        rows_rejected: 1,
        labeled: 3,
        outliers: 1,
        status: 'failed',
        error: 'the assignment lease was lost',
        drift: { psi: { age: 0.25 } },
      },
    ]);
  });

  it('leaves what a run did not report empty', async () => {
    await log.recordRun({ kind: 'train', modelVersion: null, status: 'ok' }, new Date());
    expect(await runs()).toMatchObject([
      {
        model_version: null,
        rows_read: null,
        rows_accepted: null,
        rows_rejected: null,
        labeled: null,
        outliers: null,
        error: null,
        drift: null,
      },
    ]);
  });

  it('records a run once per run key: the first record stands', async () => {
    await log.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok', labeled: 3 }, new Date(), 'assign:owner');
    await log.recordRun({ kind: 'assign', modelVersion: null, status: 'failed', error: 'x' }, new Date(), 'assign:owner');
    await log.recordRun({ kind: 'assign', modelVersion: 'm1', status: 'ok', labeled: 0 }, new Date());
    expect((await runs()).map((r) => [r.status, r.labeled])).toEqual([
      ['ok', 3],
      ['ok', 0],
    ]);
  });
});
