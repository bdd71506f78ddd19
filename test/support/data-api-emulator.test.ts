// Specification of the test suite's RDS Data API emulator, driven through the unmodified
// @aws-sdk/client-rds-data against the suite's real PostgreSQL.

import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
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
import {
  RULES,
  startDataApiEmulator,
  type DataApiEmulator,
  type DataApiEmulatorOptions,
  type SecretCredentials,
} from './data-api-emulator.ts';

const RESOURCE_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:emulated';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:emulated';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const MIB = 1024 * 1024;
const RESPONSE_LIMIT_BYTES = MIB;
const REQUEST_LIMIT_BYTES = 4 * MIB;
const ROW_LIMIT_BYTES = 64 * 1024;
// The timeout rules, shortened: a statement sleeps twice as long as a call may take.
const CALL_TIMEOUT_MS = 300;
const SLOW_STATEMENT_SECONDS = 0.6;
const TRANSACTION_IDLE_MS = 200;
const POLL_MS = 50;
const POLL_LIMIT_MS = 5_000;

let databaseName: string;
let databaseUrl: string;
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

function executeWith(target: RDSDataClient, sql: string, parameters?: SqlParameter[], extra: Partial<ExecuteStatementCommandInput> = {}) {
  return target.send(
    new ExecuteStatementCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, database: databaseName, sql, parameters, ...extra }),
  );
}

function execute(sql: string, parameters?: SqlParameter[], extra: Partial<ExecuteStatementCommandInput> = {}) {
  return executeWith(client, sql, parameters, extra);
}

/** Runs `work` against a second emulator over the same database, started with `options`. */
async function withEmulator<T>(options: Partial<DataApiEmulatorOptions>, work: (target: RDSDataClient) => Promise<T>): Promise<T> {
  const other = await startDataApiEmulator({ databaseUrl, resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, ...options });
  const otherClient = newClient({ maxAttempts: 1, endpoint: other.endpoint });
  try {
    return await work(otherClient);
  } finally {
    otherClient.destroy();
    await other.close();
  }
}

async function begin(target: RDSDataClient): Promise<string> {
  const { transactionId } = await target.send(new BeginTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN }));
  expect(transactionId).toBeTruthy();
  return transactionId!;
}

/** How many statements containing `marker` the server is running now (asked through the main emulator). */
async function runningStatements(marker: string): Promise<number> {
  const result = await execute(
    `SELECT CAST(count(*) AS integer) AS n FROM pg_stat_activity
     WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE CAST(:pattern AS text)`,
    [{ name: 'pattern', value: { stringValue: `%${marker}%` } }],
  );
  return result.records?.[0]?.[0]?.longValue ?? -1;
}

async function sampleRows(id: number): Promise<number> {
  const result = await execute('SELECT CAST(count(*) AS integer) AS n FROM sample WHERE id = CAST(:id AS bigint)', [
    { name: 'id', value: { longValue: id } },
  ]);
  return result.records?.[0]?.[0]?.longValue ?? -1;
}

/** Probes until `done` holds or the poll limit passes; returns the last value. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await delay(POLL_MS);
  }
}

/** A statement that sleeps past the call timeout, then inserts sample row `id` labelled `marker`. */
function slowInsert(id: number, marker: string): string {
  return `WITH pause AS (SELECT pg_sleep(${SLOW_STATEMENT_SECONDS})) INSERT INTO sample (id, label) SELECT ${id}, '${marker}' FROM pause`;
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
  databaseUrl = url.toString();
  emulator = await startDataApiEmulator({ databaseUrl, resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN });
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
  VALUES (CAST(:id AS bigint), CAST(:score AS double precision), CAST(:label AS text), CAST(:active AS boolean),
    CAST(:note AS text), CAST(:amount AS numeric(10, 2)), CAST(:seenAt AS timestamp), CAST(:seenTz AS timestamptz),
    CAST(:payload AS jsonb), CAST(:day AS date), CAST(:uid AS uuid))`;

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

// timestamptz is no documented result type: sessions run in UTC, so a cast to timestamp shows the UTC time.
const SELECT_SAMPLE =
  'SELECT id, score, label, active, note, amount, seen_at, CAST(seen_tz AS timestamp) AS seen_tz, payload, day, uid FROM sample ORDER BY id';

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

    it('binds a string without typeHint as text and a doubleValue as float8, which CAST converts differently', async () => {
      const sql = 'SELECT CAST(:n AS integer) AS n';
      expect((await execute(sql, [{ name: 'n', value: { doubleValue: 2.7 } }])).records).toEqual([[{ longValue: 3 }]]);
      const error = await failure(execute(sql, [{ name: 'n', value: { stringValue: '2.7' } }]));
      expect(error.name).toBe('DatabaseErrorException');
      expect(error.message).toMatch(/invalid input syntax for type integer: "2.7"/);
    });

    it('rejects a TIMESTAMP typeHint value that is not in YYYY-MM-DD HH:MM:SS[.FFF] form', async () => {
      const parameters = [{ name: 't', value: { stringValue: '2024-01-02T03:04:05.000Z' }, typeHint: 'TIMESTAMP' as const }];
      const error = await failure(execute('SELECT CAST(:t AS timestamp) AS t', parameters));
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
      const sql = 'SELECT 1::int4 AS n, 2.5::numeric(4, 1) AS d, CAST(now() AS timestamp) AS at';
      expect((await execute(sql)).columnMetadata).toBeUndefined();
      const result = await execute(sql, undefined, { includeResultMetadata: true });
      expect(result.columnMetadata?.map((c) => [c.name, c.typeName])).toEqual([
        ['n', 'int4'],
        ['d', 'numeric'],
        ['at', 'timestamp'],
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

    it('rejects more than one statement per call with ValidationException, but accepts semicolons inside literals, bodies and at the end', async () => {
      const error = await failure(execute('SELECT 1; SELECT 2'));
      expect([error.name, error.message, error.$metadata?.httpStatusCode]).toEqual([
        'ValidationException',
        "Multistatements aren't supported.",
        400,
      ]);
      const accepted = await execute(`SELECT ';' AS a, $$x;y$$ AS b, E'\\';' AS c ;`);
      expect(accepted.records).toEqual([[{ stringValue: ';' }, { stringValue: 'x;y' }, { stringValue: "';" }]]);
      expect((await failure(execute(`SELECT E'\\'' AS c; SELECT 2`))).name).toBe('ValidationException');
      await execute(`DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$;`);
    });

    it('rejects array parameters', async () => {
      const parameters = [{ name: 'ids', value: { arrayValue: { longValues: [1, 2] } } }];
      const error = await failure(execute('SELECT CAST(:ids AS int8[]) AS ids', parameters));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/Array parameters are not supported/);
    });

    it('rejects a placeholder without a parameter', async () => {
      const error = await failure(execute('SELECT CAST(:missing AS integer) AS n'));
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
      const result = await execute('SELECT CAST(current_database() AS text) AS name', undefined, { database: 'postgres' });
      expect(result.records).toEqual([[{ stringValue: databaseName }]]);
    });

    it('rejects another cluster ARN', async () => {
      const error = await failure(execute('SELECT 1', undefined, { resourceArn: `${RESOURCE_ARN}-other` }));
      expect(error.name).toBe('BadRequestException');
    });

    it('rejects another secret ARN when the secretArn option is set', async () => {
      const error = await failure(execute('SELECT 1', undefined, { secretArn: `${SECRET_ARN}-other` }));
      expect(error.name).toBe('BadRequestException');
    });

    it('rejects the schema parameter with ValidationException', async () => {
      const error = await failure(execute('SELECT 1 AS one', undefined, { schema: 'public' }));
      expect([error.name, error.message]).toEqual(['ValidationException', "The schema parameter isn't supported"]);
    });
  });

  describe('BatchExecuteStatement', () => {
    it('runs the statement once per parameter set', async () => {
      const result = await client.send(
        new BatchExecuteStatementCommand({
          resourceArn: RESOURCE_ARN,
          secretArn: SECRET_ARN,
          database: databaseName,
          sql: 'INSERT INTO sample (id, label) VALUES (CAST(:id AS bigint), CAST(:label AS text))',
          parameterSets: [1, 2, 3].map((id) => [
            { name: 'id', value: { longValue: id } },
            { name: 'label', value: { stringValue: `row ${id}` } },
          ]),
        }),
      );
      expect(result.updateResults).toHaveLength(3);
      expect((await execute('SELECT count(*) AS n FROM sample')).records).toEqual([[{ longValue: 3 }]]);
    });

    it('returns empty generatedFields even for a statement with RETURNING, as on Aurora PostgreSQL', async () => {
      const result = await client.send(
        new BatchExecuteStatementCommand({
          resourceArn: RESOURCE_ARN,
          secretArn: SECRET_ARN,
          sql: 'INSERT INTO sample (id) VALUES (CAST(:id AS bigint)) RETURNING id',
          parameterSets: [[{ name: 'id', value: { longValue: 4 } }], [{ name: 'id', value: { longValue: 5 } }]],
        }),
      );
      expect(result.updateResults).toEqual([{ generatedFields: [] }, { generatedFields: [] }]);
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
      const error = await failure(execute('SELECT length(CAST(:blob AS text)) AS n', parameters));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toBe('Request size exceeded');
      expect(emulator.stats.maxRequestBytes).toBeGreaterThan(REQUEST_LIMIT_BYTES);
    });
  });

  describe('benchmark knobs', () => {
    it('adds the configured latency to every call and totals the bytes each way', async () => {
      const latencyMs = 120;
      await withEmulator({ latencyMs }, async (target) => {
        const started = performance.now();
        const result = await executeWith(target, "SELECT repeat('z', 1000) AS text", [], { formatRecordsAs: 'JSON' });
        expect(performance.now() - started).toBeGreaterThanOrEqual(latencyMs);
        expect(result.formattedRecords).toContain('z'.repeat(1000));
        const failed = await failure(executeWith(target, 'SELECT * FROM no_such_table'));
        expect(failed.name).toBe('DatabaseErrorException');
      });
    });

    it('counts request and response bytes and the slowest call', async () => {
      const before = { ...emulator.stats };
      await execute("SELECT repeat('q', 5000) AS text, pg_sleep(0.05) IS NULL AS slept", [], { formatRecordsAs: 'JSON' });
      expect(emulator.stats.responseBytes - before.responseBytes).toBeGreaterThan(5000);
      expect(emulator.stats.requestBytes - before.requestBytes).toBeGreaterThan(50);
      expect(emulator.stats.slowestCallMs).toBeGreaterThanOrEqual(50);
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
  describe('SQL the emulator refuses (undocumented service behaviour the product avoids)', () => {
    it.each([
      ['a -- comment', 'SELECT 1 AS one -- why'],
      ['a /* */ comment', '/* why */ SELECT 1 AS one'],
      ['a comment holding an apostrophe before a parameter', "SELECT 1 AS one -- the batch's\n, CAST(:x AS integer) AS x"],
    ])('refuses SQL with %s, saying why', async (_, sql) => {
      const error = await failure(execute(sql, [{ name: 'x', value: { longValue: 1 } }]));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/^SQL comments are not accepted: how the Data API's :name scanner treats comments is undocumented/);
    });

    it('accepts comment marks inside string literals, quoted identifiers and dollar quotes', async () => {
      const result = await execute(`SELECT '-- no' AS a, $$/* nor */$$ AS b, 1 AS "--c"`);
      expect(result.records).toEqual([[{ stringValue: '-- no' }, { stringValue: '/* nor */' }, { longValue: 1 }]]);
    });

    it.each([
      ['a comparison', 'SELECT 1 AS n WHERE 1 = :x'],
      ['a :: cast', 'SELECT :x::int AS n'],
      ['LIMIT', 'SELECT 1 AS n LIMIT :x'],
      ['VALUES', 'SELECT * FROM (VALUES (:x)) AS v (n)'],
      ['a function argument', 'SELECT abs(:x) AS n'],
      ['an expression inside CAST', 'SELECT CAST(:x + 1 AS integer) AS n'],
    ])('refuses an untyped parameter in %s, naming it and the fix', async (_, sql) => {
      const error = await failure(execute(sql, [{ name: 'x', value: { longValue: 1 } }]));
      expect(error.name).toBe('BadRequestException');
      expect(error.message).toMatch(/^parameter :x has no explicit type: write CAST\(:x AS <type>\)/);
    });

    it('accepts CAST(:name AS <type>) in any case and spacing, and leaves :name inside literals and :: casts alone', async () => {
      const result = await execute(
        `SELECT CAST(:x AS integer) AS a, cast( :x  as  double precision ) AS b, CAST(:x AS numeric(10, 2)) AS c,
           1::int AS d, ':y' AS e`,
        [{ name: 'x', value: { longValue: 1 } }],
      );
      expect(result.records).toEqual([
        [{ longValue: 1 }, { doubleValue: 1 }, { stringValue: '1.00' }, { longValue: 1 }, { stringValue: ':y' }],
      ]);
    });
  });

  describe('result types', () => {
    it.each([
      ['void', 'SELECT pg_advisory_xact_lock(1) AS locked'],
      ['name', "SELECT CAST('x' AS name) AS n"],
      ['regtype', "SELECT CAST('integer' AS regtype) AS t"],
      ['char', `SELECT CAST('a' AS "char") AS c`],
      ['oid', 'SELECT CAST(1 AS oid) AS o'],
      ['timestamptz', 'SELECT now() AS at'],
      ['interval', "SELECT interval '1 day' AS span"],
      ['_bytea', "SELECT ARRAY[CAST('x' AS bytea)] AS blobs"],
      ['_jsonb', "SELECT ARRAY[CAST('{}' AS jsonb)] AS docs"],
    ])('fails a column of type %s with UnsupportedResultException', async (typeName, sql) => {
      const error = await failure(execute(sql));
      expect([error.name, error.$metadata?.httpStatusCode, error.message]).toEqual([
        'UnsupportedResultException',
        400,
        `The result contains the unsupported data type ${typeName}.`,
      ]);
    });

    it('returns the documented types: an enum, cidr, inet, json, real, char(n), varchar, time and their documented arrays', async () => {
      await execute(`CREATE TYPE mood AS ENUM ('calm', 'busy')`);
      try {
        const result = await execute(
          `SELECT CAST('calm' AS mood) AS m, CAST('10.0.0.0/8' AS cidr) AS c, CAST('10.0.0.1' AS inet) AS i,
             CAST('{"a":1}' AS json) AS j, CAST(1.5 AS real) AS r, CAST('ab' AS char(3)) AS ch, CAST('v' AS varchar) AS v,
             CAST('12:34:56' AS time) AS t, ARRAY[CAST('12:00:00' AS time)] AS ts, ARRAY[CAST('{}' AS json)] AS js`,
        );
        expect(result.records).toEqual([
          [
            { stringValue: 'calm' },
            { stringValue: '10.0.0.0/8' },
            { stringValue: '10.0.0.1' },
            { stringValue: '{"a":1}' },
            { doubleValue: 1.5 },
            { stringValue: 'ab ' },
            { stringValue: 'v' },
            { stringValue: '12:34:56' },
            { arrayValue: { stringValues: ['12:00:00'] } },
            { arrayValue: { stringValues: ['{}'] } },
          ],
        ]);
      } finally {
        await execute('DROP TYPE mood');
      }
    });

    it('fails a multidimensional array with UnsupportedResultException', async () => {
      const error = await failure(execute('SELECT ARRAY[[1, 2], [3, 4]] AS grid'));
      expect(error.name).toBe('UnsupportedResultException');
      expect(error.message).toMatch(/multidimensional array/);
    });
  });

  describe('call timeout (callTimeoutMs, 45 s by default)', () => {
    it('fails a call past the timeout with StatementTimeoutException and cancels its statement', async () => {
      await withEmulator({ callTimeoutMs: CALL_TIMEOUT_MS }, async (short) => {
        const error = await failure(executeWith(short, slowInsert(31, 'timeout-cancel')));
        expect([error.name, error.$metadata?.httpStatusCode]).toEqual(['StatementTimeoutException', 400]);
        expect((error as { dbConnectionId?: number }).dbConnectionId).toEqual(expect.any(Number));
        expect(await runningStatements('timeout-cancel')).toBe(0);
        expect(await sampleRows(31)).toBe(0);
      });
    });

    it('lets the statement run to completion with continueAfterTimeout, though the call fails', async () => {
      await withEmulator({ callTimeoutMs: CALL_TIMEOUT_MS }, async (short) => {
        const error = await failure(executeWith(short, slowInsert(32, 'timeout-continue'), undefined, { continueAfterTimeout: true }));
        expect(error.name).toBe('StatementTimeoutException');
        expect(await runningStatements('timeout-continue')).toBe(1);
        expect(
          await eventually(
            () => sampleRows(32),
            (n) => n === 1,
          ),
        ).toBe(1);
      });
    });

    it('aborts the transaction whose statement it cancelled, as PostgreSQL does', async () => {
      await withEmulator({ callTimeoutMs: CALL_TIMEOUT_MS }, async (short) => {
        const transactionId = await begin(short);
        const sleep = `SELECT 1 AS n FROM (SELECT pg_sleep(${SLOW_STATEMENT_SECONDS})) AS pause`;
        expect((await failure(executeWith(short, sleep, undefined, { transactionId }))).name).toBe('StatementTimeoutException');
        const next = await failure(executeWith(short, 'SELECT 1 AS one', undefined, { transactionId }));
        expect(next.name).toBe('DatabaseErrorException');
        expect(next.message).toMatch(/current transaction is aborted/);
        const rolledBack = await short.send(
          new RollbackTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, transactionId }),
        );
        expect(rolledBack.transactionStatus).toBe('Rollback Complete');
      });
    });

    it('refuses a call on a transaction still running a statement with DatabaseErrorException', async () => {
      await withEmulator({ callTimeoutMs: CALL_TIMEOUT_MS }, async (short) => {
        const transactionId = await begin(short);
        const slow = await failure(
          executeWith(short, slowInsert(34, 'timeout-busy'), undefined, { transactionId, continueAfterTimeout: true }),
        );
        expect(slow.name).toBe('StatementTimeoutException');
        const busy = await failure(executeWith(short, 'SELECT 1 AS one', undefined, { transactionId }));
        expect([busy.name, busy.message]).toEqual(['DatabaseErrorException', 'Transaction is still running a query']);
        const next = () =>
          executeWith(short, 'SELECT 1 AS one', undefined, { transactionId }).then(
            () => 'answered',
            (error: Error) => error.message,
          );
        expect(await eventually(next, (outcome) => outcome === 'answered')).toBe('answered');
        await short.send(new CommitTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, transactionId }));
        expect(await sampleRows(34)).toBe(1);
      });
    });
  });

  describe('transaction idle timeout (transactionIdleTimeoutMs, 3 minutes by default)', () => {
    it('rolls back a transaction that sees no call for the timeout, then answers NotFoundException', async () => {
      await withEmulator({ transactionIdleTimeoutMs: TRANSACTION_IDLE_MS, callTimeoutMs: POLL_LIMIT_MS }, async (idle) => {
        const transactionId = await begin(idle);
        await executeWith(idle, INSERT_SAMPLE, sampleParameters(33), { transactionId });
        await delay(TRANSACTION_IDLE_MS * 3); // the rule itself: the transaction sees no call
        const error = await failure(executeWith(idle, 'SELECT 1 AS one', undefined, { transactionId }));
        expect([error.name, error.$metadata?.httpStatusCode, error.message]).toEqual([
          'NotFoundException',
          404,
          `Transaction ${transactionId} is not found`,
        ]);
        // rolled back: the key it inserted is free at once (a live transaction would hold it until the call timed out)
        await executeWith(idle, INSERT_SAMPLE, sampleParameters(33));
        expect(await sampleRows(33)).toBe(1);
      });
    });

    it('keeps a transaction alive while calls keep coming, each restarting the clock', async () => {
      const idleMs = 400;
      const gapMs = 100;
      await withEmulator({ transactionIdleTimeoutMs: idleMs }, async (idle) => {
        const transactionId = await begin(idle);
        for (let elapsed = 0; elapsed < idleMs * 1.5; elapsed += gapMs) {
          await delay(gapMs);
          await executeWith(idle, 'SELECT 1 AS one', undefined, { transactionId });
        }
        const committed = await idle.send(
          new CommitTransactionCommand({ resourceArn: RESOURCE_ARN, secretArn: SECRET_ARN, transactionId }),
        );
        expect(committed.transactionStatus).toBe('Transaction Committed');
      });
    });
  });

  describe('credentials per secret (resolveSecret)', () => {
    const suffix = randomBytes(3).toString('hex');
    const reader: SecretCredentials = { username: `emu_reader_${suffix}`, password: 'reader-password' };
    const writer: SecretCredentials = { username: `emu_writer_${suffix}`, password: 'writer-password' };
    const secrets = new Map<string, SecretCredentials>();
    const resolveSecret = async (secretArn: string) => secrets.get(secretArn);
    const currentUser = async (target: RDSDataClient, secretArn: string) =>
      (await executeWith(target, 'SELECT CAST(current_user AS text) AS u', undefined, { secretArn })).records?.[0]?.[0]?.stringValue;

    beforeAll(() =>
      admin(async (c) => {
        for (const { username, password } of [reader, writer]) {
          await c.query(`CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
        }
      }),
    );

    afterEach(() => secrets.clear());

    afterAll(() =>
      admin(async (c) => {
        for (const { username } of [reader, writer]) await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(username)}`);
      }),
    );

    it("connects as the user of the request's secret", async () => {
      secrets.set(`${SECRET_ARN}-reader`, reader).set(`${SECRET_ARN}-writer`, writer);
      await withEmulator({ resolveSecret }, async (target) => {
        expect(await currentUser(target, `${SECRET_ARN}-reader`)).toBe(reader.username);
        expect(await currentUser(target, `${SECRET_ARN}-writer`)).toBe(writer.username);
      });
    });

    it('fails a secret the resolver does not know with BadRequestException', async () => {
      await withEmulator({ resolveSecret }, async (target) => {
        const error = await failure(currentUser(target, `${SECRET_ARN}-unknown`));
        expect([error.name, error.message]).toEqual([
          'BadRequestException',
          `Error fetching secret ${SECRET_ARN}-unknown : Secrets Manager can't find the specified secret.`,
        ]);
      });
    });

    it("fails a refused login with BadRequestException carrying PostgreSQL's message", async () => {
      secrets.set(`${SECRET_ARN}-stale`, { username: reader.username, password: 'not-the-password' });
      await withEmulator({ resolveSecret }, async (target) => {
        const error = await failure(currentUser(target, `${SECRET_ARN}-stale`));
        expect(error.name).toBe('BadRequestException');
        expect(error.message).toBe(`FATAL: password authentication failed for user "${reader.username}"; SQLState: 28P01`);
      });
    });

    it("connects with the resolver's new answer when a secret changes", async () => {
      const arn = `${SECRET_ARN}-rotating`;
      await withEmulator({ resolveSecret }, async (target) => {
        secrets.set(arn, reader);
        expect(await currentUser(target, arn)).toBe(reader.username);
        secrets.set(arn, writer);
        expect(await currentUser(target, arn)).toBe(writer.username);
      });
    });
  });

  describe('RULES', () => {
    it('lists each enforced rule with an AWS page or the reason it has none, frozen', () => {
      expect(RULES.length).toBeGreaterThan(0);
      for (const { rule, source } of RULES) {
        expect(rule).not.toBe('');
        expect(source).toMatch(/https:\/\/docs\.aws\.amazon\.com\/|^undocumented/);
      }
      expect(Object.isFrozen(RULES) && RULES.every((rule) => Object.isFrozen(rule))).toBe(true);
    });
  });
});
