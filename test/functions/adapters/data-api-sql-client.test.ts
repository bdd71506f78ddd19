// The Data API SqlClient's retries, against the suite's Data API emulator with the unmodified SDK:
// an error that arrives after the statement ran (an InternalServerErrorException in transit, which
// no real part produces on demand, so a client middleware injects it) never doubles a write.

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dataApiClient, DataApiSqlClient } from '../../../functions/adapters/data-api-sql-client.ts';
import { SqlRunLog } from '../../../shared/sql/run-log.ts';
import { SqlUploadLedger } from '../../../shared/sql/upload-ledger.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startDataApiEmulator, type DataApiEmulator } from '../../support/data-api-emulator.ts';

const CONFIG = {
  resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:t',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:t',
  database: 'segments',
};
const FAST = { baseDelayMs: 1, maxDelayMs: 2 };

let db: TestDatabase;
let dataApi: DataApiEmulator;
let client: RDSDataClient;

/** After the service answered a statement matching `pattern`, the caller sees an internal error instead (once). */
function failAfterRunning(pattern: RegExp): { readonly injected: () => number } {
  let injected = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const sql = (args.input as { sql?: string }).sql;
      if (injected === 0 && sql !== undefined && pattern.test(sql)) {
        injected++;
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalServerErrorException',
          $fault: 'server',
        });
      }
      return result;
    },
    { step: 'initialize', name: `failAfterRunning${pattern.source}` },
  );
  return { injected: () => injected };
}

const count = async (table: string): Promise<number> => Number((await db.repo.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

beforeAll(async () => {
  db = await createTestDatabase('data_api_client');
  dataApi = await startDataApiEmulator({ databaseUrl: db.url });
});
afterAll(async () => {
  await dataApi.close();
  await db.drop();
});
beforeEach(async () => {
  client?.destroy();
  client = dataApiClient({
    endpoint: dataApi.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await db.repo.pool.query('TRUNCATE runs, locks');
});

describe('DataApiSqlClient', () => {
  it('records a run once when the insert is retried after an error that hid its success', async () => {
    const fault = failAfterRunning(/INSERT INTO runs/);
    const runs = new SqlRunLog(new DataApiSqlClient(CONFIG, client, FAST));
    await runs.recordRun({ kind: 'assign', modelVersion: null, status: 'ok', labeled: 3 }, new Date());
    expect(fault.injected()).toBe(1);
    expect(await count('runs')).toBe(1);
  });

  it('claims an upload once even when the claim is retried after an error that hid its success', async () => {
    await db.repo.pool.query('TRUNCATE ingested_objects');
    const fault = failAfterRunning(/INSERT INTO ingested_objects/);
    const ledger = new SqlUploadLedger(new DataApiSqlClient(CONFIG, client, FAST));
    expect(await ledger.claimObject('b', 'uploads/customers/a.csv', 'e1', 360)).toEqual({ state: 'claimed' });
    expect(fault.injected()).toBe(1);
    // another delivery of the same object still finds it in progress
    expect(await ledger.claimObject('b', 'uploads/customers/a.csv', 'e1', 360)).toEqual({ state: 'in-progress' });
  });

  it('retries a transaction as a whole: the interrupted attempt is rolled back, no statement runs twice in one transaction', async () => {
    const fault = failAfterRunning(/INSERT INTO runs/);
    const sql = new DataApiSqlClient(CONFIG, client, FAST);
    let attempts = 0;
    await sql.transaction(async (tx) => {
      attempts++;
      await tx.query(`INSERT INTO locks (name, owner, expires_at) VALUES (CAST(:name AS text), CAST(:owner AS text), now())`, {
        name: 'l',
        owner: 'o',
      });
      await tx.query(`INSERT INTO runs (kind, status) VALUES (CAST(:kind AS text), CAST(:status AS text))`, {
        kind: 'train',
        status: 'ok',
      });
    });
    expect(fault.injected()).toBe(1);
    expect(attempts).toBe(2);
    expect(await count('locks')).toBe(1);
    expect(await count('runs')).toBe(1);
  });

  it('makes one attempt per SDK call: a statement inside a transaction that fails is not repeated by the SDK', async () => {
    dataApi.faults.failWhen(/INSERT INTO runs/, { errorName: 'InternalServerErrorException', message: 'internal' });
    try {
      const sql = new DataApiSqlClient(CONFIG, client, { ...FAST, attempts: 2 });
      const before = dataApi.stats.executeCalls;
      await expect(
        sql.transaction((tx) =>
          tx.query(`INSERT INTO runs (kind, status) VALUES (CAST(:kind AS text), CAST(:status AS text))`, { kind: 'train', status: 'ok' }),
        ),
      ).rejects.toMatchObject({ name: 'InternalServerErrorException' });
      // two whole transactions, one ExecuteStatement each
      expect(dataApi.stats.executeCalls - before).toBe(2);
      expect(await count('runs')).toBe(0);
    } finally {
      dataApi.faults.clear();
    }
  });

  it('refuses records that are not one object per row, rather than passing them on as rows', async () => {
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        Object.assign(result.output as object, { formattedRecords: '{"n": 1}' });
        return result;
      },
      { step: 'initialize', name: 'malformedRecords' },
    );
    const sql = new DataApiSqlClient(CONFIG, client, FAST);
    await expect(sql.query('SELECT CAST(1 AS integer) AS n')).rejects.toThrow(/expected array/);
  });
});
