// Specification of the test suite's RDS Data API emulator, driven through the unmodified
// @aws-sdk/client-rds-data against the suite's real PostgreSQL.

import { randomBytes } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type ExecuteStatementCommandInput,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDataApiEmulator, type DataApiEmulator } from './data-api-emulator.ts';

const RESOURCE_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:emulated';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:emulated';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const MIB = 1024 * 1024;
const RESPONSE_LIMIT_BYTES = MIB;
const REQUEST_LIMIT_BYTES = 4 * MIB;
const ROW_LIMIT_BYTES = 64 * 1024;

let databaseName: string;
let emulator: DataApiEmulator;
let client: RDSDataClient;

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: inject('databaseUrl') });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

function newClient(options: { maxAttempts?: number; endpoint?: string } = {}): RDSDataClient {
  return new RDSDataClient({
    region: REGION,
    credentials: CREDENTIALS,
    endpoint: 'endpoint' in options ? options.endpoint : emulator.endpoint,
    maxAttempts: options.maxAttempts,
  });
}

function execute(sql: string, parameters?: SqlParameter[], extra: Partial<ExecuteStatementCommandInput> = {}) {
  return client.send(
    new ExecuteStatementCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, database: databaseName, sql, parameters, ...extra }),
  );
}

/** The rejection of `promise`, so a test can check its name and message. */
async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  databaseName = `t_dataapi_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`));
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${databaseName}`;
  emulator = await startDataApiEmulator({ databaseUrl: url.toString(), resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN });
  client = newClient({ maxAttempts: 1 });
  await execute(`CREATE TABLE sample (
    id bigint PRIMARY KEY, score double precision, label text, active boolean, note text,
    amount numeric(10, 2), seen_at timestamp, seen_tz timestamptz, payload jsonb, day date, uid uuid, count integer)`);
});

afterEach(async () => {
  emulator.faults.clear();
  await execute('DELETE FROM sample');
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`));
});

const INSERT_SAMPLE = `INSERT INTO sample (id, score, label, active, note, amount, seen_at, seen_tz, payload, day, uid)
  VALUES (:id, :score, :label, :active, :note, :amount, :seenAt, :seenTz, :payload, :day, :uid)`;

function sampleParameters(id: number): SqlParameter[] {
  return [
    { name: 'id', value: { longValue: id } },
    { name: 'score', value: { doubleValue: 2.5 } },
    { name: 'label', value: { stringValue: "it's" } },
    { name: 'active', value: { booleanValue: true } },
    { name: 'note', value: { isNull: true } },
    { name: 'amount', value: { stringValue: '12.5' }, typeHint: 'DECIMAL' },
    { name: 'seenAt', value: { stringValue: '2024-01-02 03:04:05.678' }, typeHint: 'TIMESTAMP' },
    { name: 'seenTz', value: { stringValue: '2024-01-02 03:04:05' }, typeHint: 'TIMESTAMP' },
    { name: 'payload', value: { stringValue: '{"k": [1, 2]}' }, typeHint: 'JSON' },
    { name: 'day', value: { stringValue: '2024-02-29' }, typeHint: 'DATE' },
    { name: 'uid', value: { stringValue: '6f1c2a4e-0000-4000-8000-000000000001' }, typeHint: 'UUID' },
  ];
}

const SELECT_SAMPLE = 'SELECT id, score, label, active, note, amount, seen_at, seen_tz, payload, day, uid FROM sample ORDER BY id';

describe('the Data API emulator', () => {
  describe('ExecuteStatement', () => {
    it('binds typed parameters and returns each type as the real service does', async () => {
      const inserted = await execute(INSERT_SAMPLE, sampleParameters(1));
      expect(inserted.numberOfRecordsUpdated).toBe(1);
      expect(inserted.records).toBeUndefined();

      const selected = await execute(SELECT_SAMPLE);
      expect(selected.numberOfRecordsUpdated).toBe(0);
      expect(selected.records).toEqual([
        [
          { longValue: 1 },
          { doubleValue: 2.5 },
          { stringValue: "it's" },
          { booleanValue: true },
          { isNull: true },
          { stringValue: '12.50' },
          { stringValue: '2024-01-02 03:04:05.678' },
          { stringValue: '2024-01-02 03:04:05' },
          { stringValue: '{"k": [1, 2]}' },
          { stringValue: '2024-02-29' },
          { stringValue: '6f1c2a4e-0000-4000-8000-000000000001' },
        ],
      ]);
    });

    it('returns numeric as a string by default and as a number with decimalReturnType DOUBLE_OR_LONG', async () => {
      const sql = 'SELECT 1.50::numeric AS fraction, 7::numeric AS whole';
      expect((await execute(sql)).records).toEqual([[{ stringValue: '1.50' }, { stringValue: '7' }]]);
      const asNumbers = await execute(sql, undefined, { resultSetOptions: { decimalReturnType: 'DOUBLE_OR_LONG' } });
      expect(asNumbers.records).toEqual([[{ doubleValue: 1.5 }, { longValue: 7 }]]);
    });

    it('binds a string without typeHint as text, so PostgreSQL refuses it for a typed column', async () => {
      const error = await failure(execute('UPDATE sample SET count = :n', [{ name: 'n', value: { stringValue: '3' } }]));
      expect(error.name).toBe('DatabaseErrorException');
      expect(error.message).toMatch(/column "count" is of type integer but expression is of type text/);
    });

    it('rejects a TIMESTAMP typeHint value that is not in YYYY-MM-DD HH:MM:SS[.FFF] form', async () => {
      const parameters = [{ name: 't', value: { stringValue: '2024-01-02T03:04:05.000Z' }, typeHint: 'TIMESTAMP' as const }];
      const error = await failure(execute('SELECT :t AS t', parameters));
      expect(error.name).toBe('BadRequestException');
    });

    it('formats records as a JSON string with formatRecordsAs JSON', async () => {
      await execute(INSERT_SAMPLE, sampleParameters(2));
      const result = await execute(SELECT_SAMPLE, undefined, { formatRecordsAs: 'JSON' });
      expect(result.records).toBeUndefined();
      expect(JSON.parse(result.formattedRecords ?? 'null')).toEqual([
        {
          id: 2,
          score: 2.5,
          label: "it's",
          active: true,
          note: null,
          amount: '12.50',
          seen_at: '2024-01-02 03:04:05.678',
          seen_tz: '2024-01-02 03:04:05',
          payload: '{"k": [1, 2]}',
          day: '2024-02-29',
          uid: '6f1c2a4e-0000-4000-8000-000000000001',
        },
      ]);
    });

    it('returns column metadata only when includeResultMetadata is set', async () => {
      const sql = 'SELECT 1::int4 AS n, 2.5::numeric(4, 1) AS d, now() AS at';
      expect((await execute(sql)).columnMetadata).toBeUndefined();
      const result = await execute(sql, undefined, { includeResultMetadata: true });
      expect(result.columnMetadata?.map((c) => [c.name, c.typeName])).toEqual([
        ['n', 'int4'],
        ['d', 'numeric'],
        ['at', 'timestamptz'],
      ]);
      expect(result.columnMetadata?.[1]).toMatchObject({ precision: 4, scale: 1 });
    });

    it('returns arrays as arrayValue', async () => {
      const result = await execute(`SELECT ARRAY[1, 2]::int8[] AS ids, ARRAY['a', NULL] AS names`);
      expect(result.records).toEqual([[{ arrayValue: { longValues: [1, 2] } }, { arrayValue: { stringValues: ['a', null] } }]]);
    });

    it('fails a SQL error with DatabaseErrorException carrying the message and SQLState', async () => {
      const error = await failure(execute('SELECT * FROM missing_table'));
      expect(error.name).toBe('DatabaseErrorException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(error.message).toMatch(/^ERROR: relation "missing_table" does not exist\n {2}Position: \d+; SQLState: 42P01$/);
    });

    it('rejects more than one statement per call, but accepts semicolons inside literals, bodies and at the end', async () => {
      const error = await failure(execute('SELECT 1; SELECT 2'));
      expect(error.name).toBe('BadRequestException');
      const accepted = await execute(`SELECT ';' AS a, $$x;y$$ AS b, E'\\';' AS c /* ; */; -- trailing; comment`);
      expect(accepted.records).toEqual([[{ stringValue: ';' }, { stringValue: 'x;y' }, { stringValue: "';" }]]);
      expect((await failure(execute(`SELECT E'\\'' AS c; SELECT 2`))).name).toBe('BadRequestException');
      await execute(`DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$;`);
    });

    it('rejects array parameters', async () => {
      const parameters = [{ name: 'ids', value: { arrayValue: { longValues: [1, 2] } } }];
      const error = await failure(execute('SELECT :ids AS ids', parameters));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/Array parameters are not supported/);
    });

    it('rejects a placeholder without a parameter', async () => {
      const error = await failure(execute('SELECT :missing::int AS n'));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/missing/);
    });

    it('keeps no session between calls', async () => {
      await execute(`SELECT set_config('emulator.marker', 'set', false)`);
      await execute('CREATE TEMPORARY TABLE scratch (n int)');
      const marker = await execute(`SELECT coalesce(current_setting('emulator.marker', true), '') AS marker`);
      expect(marker.records).toEqual([[{ stringValue: '' }]]);
      expect((await failure(execute('SELECT * FROM scratch'))).name).toBe('DatabaseErrorException');
    });

    it('is reachable through AWS_ENDPOINT_URL_RDS_DATA', async () => {
      const previous = process.env.AWS_ENDPOINT_URL_RDS_DATA;
      process.env.AWS_ENDPOINT_URL_RDS_DATA = emulator.endpoint;
      const fromEnvironment = newClient({ maxAttempts: 1, endpoint: undefined });
      try {
        const result = await fromEnvironment.send(
          new ExecuteStatementCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, sql: 'SELECT 1 AS one' }),
        );
        expect(result.records).toEqual([[{ longValue: 1 }]]);
      } finally {
        fromEnvironment.destroy();
        if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_RDS_DATA;
        else process.env.AWS_ENDPOINT_URL_RDS_DATA = previous;
      }
    });

    it('runs in the database of databaseUrl whatever database the request names', async () => {
      const result = await execute('SELECT current_database() AS name', undefined, { database: 'postgres' });
      expect(result.records).toEqual([[{ stringValue: databaseName }]]);
    });

    it('rejects another cluster ARN', async () => {
      const error = await failure(execute('SELECT 1', undefined, { resourceArn: `${RESOURCE_ARN}-other` }));
      expect(error.name).toBe('BadRequestException');
    });
  });

  describe('BatchExecuteStatement', () => {
    it('runs the statement once per parameter set', async () => {
      const result = await client.send(
        new BatchExecuteStatementCommand({
          resourceArn: RESOURCE_ARN,
          secretArn: SECRET_ARN,
          database: databaseName,
          sql: 'INSERT INTO sample (id, label) VALUES (:id, :label)',
          parameterSets: [1, 2, 3].map((id) => [
            { name: 'id', value: { longValue: id } },
            { name: 'label', value: { stringValue: `row ${id}` } },
          ]),
        }),
      );
      expect(result.updateResults).toHaveLength(3);
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 3 }]]);
    });
  });

  describe('transactions', () => {
    const arns = { resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN };

    async function begin(): Promise<string> {
      const { transactionId } = await client.send(new BeginTransactionCommand({ ...arns, database: databaseName }));
      expect(transactionId).toBeTruthy();
      return transactionId!;
    }

    it('makes a committed insert visible', async () => {
      const transactionId = await begin();
      await execute(INSERT_SAMPLE, sampleParameters(10), { transactionId });
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 0 }]]);
      const committed = await client.send(new CommitTransactionCommand({ ...arns, transactionId }));
      expect(committed.transactionStatus).toBe('Transaction Committed');
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 1 }]]);
    });

    it('makes a rolled-back insert invisible', async () => {
      const transactionId = await begin();
      await execute(INSERT_SAMPLE, sampleParameters(11), { transactionId });
      const rolledBack = await client.send(new RollbackTransactionCommand({ ...arns, transactionId }));
      expect(rolledBack.transactionStatus).toBe('Rollback Complete');
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 0 }]]);
    });

    it('refuses to commit a transaction that a SQL error aborted, and rolls it back', async () => {
      const transactionId = await begin();
      await execute(INSERT_SAMPLE, sampleParameters(12), { transactionId });
      expect((await failure(execute('SELECT * FROM missing_table', undefined, { transactionId }))).name).toBe('DatabaseErrorException');
      const commit = await failure(client.send(new CommitTransactionCommand({ ...arns, transactionId })));
      expect(commit.name).toBe('DatabaseErrorException');
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 0 }]]);
    });

    it('fails an unknown or finished transaction with NotFoundException', async () => {
      const unknown = await failure(execute('SELECT 1', undefined, { transactionId: 'no-such-transaction' }));
      expect(unknown.name).toBe('NotFoundException');
      expect(unknown.$metadata?.httpStatusCode).toBe(404);
      const transactionId = await begin();
      await client.send(new CommitTransactionCommand({ ...arns, transactionId }));
      expect((await failure(client.send(new CommitTransactionCommand({ ...arns, transactionId })))).name).toBe('NotFoundException');
    });
  });

  describe('limits', () => {
    it('rejects a response over 1 MiB', async () => {
      const error = await failure(execute(`SELECT repeat('x', ${2 * RESPONSE_LIMIT_BYTES}) AS big`));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toBe('Database returned more than the allowed response size limit');
      expect(emulator.stats.maxResponseBytes).toBeGreaterThan(RESPONSE_LIMIT_BYTES);
    });

    it('rejects a row over 64 KB even when the response is small enough', async () => {
      const error = await failure(execute(`SELECT repeat('x', ${ROW_LIMIT_BYTES + 1}) AS wide`));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/row size/);
    });

    it('rejects a request over 4 MiB', async () => {
      const parameters = [{ name: 'blob', value: { stringValue: 'y'.repeat(REQUEST_LIMIT_BYTES + MIB) } }];
      const error = await failure(execute('SELECT length(:blob) AS n', parameters));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toBe('Request size exceeded');
      expect(emulator.stats.maxRequestBytes).toBeGreaterThan(REQUEST_LIMIT_BYTES);
    });
  });

  describe('fault injection', () => {
    it('fails the next call with the injected error, then recovers', async () => {
      emulator.faults.failNext('DatabaseResumingException');
      const error = await failure(execute('SELECT 1'));
      expect(error.name).toBe('DatabaseResumingException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect((await execute('SELECT 1 AS one')).records).toEqual([[{ longValue: 1 }]]);
    });

    it.each([
      ['DatabaseResumingException', 400],
      ['StatementTimeoutException', 400],
      ['ThrottlingException', 429],
      ['ServiceUnavailableError', 503],
    ])('gives %s its HTTP status %i', async (errorName, status) => {
      emulator.faults.failNext(errorName);
      const error = await failure(execute('SELECT 1'));
      expect([error.name, error.$metadata?.httpStatusCode]).toEqual([errorName, status]);
    });

    it('fails as many calls as asked, of any operation', async () => {
      emulator.faults.failNext('DatabaseResumingException', 2);
      const begin = new BeginTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN });
      expect((await failure(client.send(begin))).name).toBe('DatabaseResumingException');
      expect((await failure(execute('SELECT 1'))).name).toBe('DatabaseResumingException');
      expect((await execute('SELECT 1 AS one')).records).toEqual([[{ longValue: 1 }]]);
    });

    it('fails the matching call after afterCalls successful ones, and only matching calls', async () => {
      emulator.faults.failWhen(/INSERT INTO sample/, { afterCalls: 2 });
      await execute(INSERT_SAMPLE, sampleParameters(20));
      await execute('SELECT 1');
      await execute(INSERT_SAMPLE, sampleParameters(21));
      const error = await failure(execute(INSERT_SAMPLE, sampleParameters(22)));
      expect(error.name).toBe('DatabaseErrorException');
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 2 }]]);
    });

    it('aborts the transaction when an injected database error hits a statement inside it', async () => {
      emulator.faults.failWhen(/UPDATE sample/);
      const { transactionId } = await client.send(
        new BeginTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, database: databaseName }),
      );
      expect((await failure(execute('UPDATE sample SET count = 1', undefined, { transactionId }))).name).toBe('DatabaseErrorException');
      const next = await failure(execute('SELECT 1', undefined, { transactionId }));
      expect(next.message).toMatch(/current transaction is aborted/);
      await client.send(new RollbackTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, transactionId }));
    });
  });

  describe('what the SDK retries on its own (default retry settings)', () => {
    it.each([
      ['ThrottlingException', 2],
      ['ServiceUnavailableError', 2],
      ['DatabaseResumingException', 1],
      ['StatementTimeoutException', 1],
      ['DatabaseErrorException', 1],
      ['InternalServerErrorException', 2],
      ['DatabaseUnavailableException', 2],
    ])('%s: %i call(s) to the service', async (errorName, expectedCalls) => {
      const retrying = newClient();
      try {
        emulator.faults.failNext(errorName);
        const before = emulator.stats.executeCalls;
        const outcome = await retrying
          .send(new ExecuteStatementCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, sql: 'SELECT 1 AS one' }))
          .then(
            () => 'succeeded',
            (error: Error) => error.name,
          );
        expect(emulator.stats.executeCalls - before).toBe(expectedCalls);
        expect(outcome).toBe(expectedCalls > 1 ? 'succeeded' : errorName);
      } finally {
        retrying.destroy();
      }
    });
  });
});
