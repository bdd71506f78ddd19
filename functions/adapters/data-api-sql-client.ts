// SqlClient over the RDS Data API: one ExecuteStatement per statement with typed named
// parameters and JSON-formatted records, transactions by id, and bounded retries for a cluster
// that is resuming from auto-pause (which the SDK does not retry) and for throttling. Retries are
// this adapter's alone (the SDK client makes one attempt): a statement outside a transaction is
// retried by itself, a transaction only as a whole (begin → statements → commit).

import {
  type RDSDataClientConfig,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type Field,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import * as z from 'zod';
import type { SqlClient, SqlParams, SqlRow } from '../../shared/ports.ts';
import { isTransientDataApiError, withRetry, type RetryOptions } from './retry.ts';

export interface DataApiConfig {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

/**
 * Resuming from auto-pause takes about 15 s, longer after a long pause: twelve tries with backoff
 * from 250 ms capped at 10 s wait 37–75 s in all (jitter between half and all of each step).
 */
export const DATA_API_RETRY: Omit<RetryOptions, 'retryable'> = { attempts: 12, baseDelayMs: 250, maxDelayMs: 10_000 };

/**
 * An RDS Data API client that makes exactly one attempt per call. The SDK's own retries would
 * repeat a statement inside a transaction after an InternalServerErrorException, although the first
 * attempt may have run; `DataApiSqlClient` decides what may be retried. Give it to the adapter.
 */
export function dataApiClient(config: RDSDataClientConfig = {}): RDSDataClient {
  return new RDSDataClient({ ...config, maxAttempts: 1 });
}

/** `formattedRecords`: one JSON object per row, column names as keys. */
const FormattedRecordsSchema = z.array(z.record(z.string(), z.unknown()));

function toField(value: SqlParams[string]): Field {
  if (value === null) return { isNull: true };
  if (typeof value === 'boolean') return { booleanValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { longValue: value } : { doubleValue: value };
  return { stringValue: value };
}

function toParameters(params: SqlParams): SqlParameter[] {
  return Object.entries(params).map(([name, value]) => ({ name, value: toField(value) }));
}

export class DataApiSqlClient implements SqlClient {
  private readonly client: RDSDataClient;
  private readonly retry: RetryOptions;

  /** `client` should come from `dataApiClient()` (one attempt per call; the retries are here). */
  constructor(
    private readonly config: DataApiConfig,
    client?: RDSDataClient,
    retry: Partial<RetryOptions> = {},
  ) {
    this.client = client ?? dataApiClient();
    this.retry = { ...DATA_API_RETRY, retryable: isTransientDataApiError, ...retry };
  }

  private async execute(sql: string, params: SqlParams = {}, transactionId?: string): Promise<SqlRow[]> {
    const output = await this.client.send(
      new ExecuteStatementCommand({
        resourceArn: this.config.resourceArn,
        secretArn: this.config.secretArn,
        database: this.config.database,
        sql,
        parameters: toParameters(params),
        transactionId,
        formatRecordsAs: 'JSON',
      }),
    );
    return output.formattedRecords ? FormattedRecordsSchema.parse(JSON.parse(output.formattedRecords)) : [];
  }

  /** One statement in its own transaction, retried on transient errors (statements are written to be safe to repeat). */
  query(sql: string, params?: SqlParams): Promise<SqlRow[]> {
    return withRetry(() => this.execute(sql, params), this.retry);
  }

  /**
   * Runs `work` in one transaction. A transient failure anywhere (begin, a statement, commit) rolls
   * the transaction back and runs it again from the start; statements inside are never retried one
   * by one, so a statement that ran before its call failed cannot run twice in one transaction.
   * `work` may therefore run more than once, and a commit whose answer was lost may have committed:
   * it must be safe to run again (the migrations check their version first).
   */
  transaction<T>(work: (tx: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T> {
    return withRetry(() => this.transactionOnce(work), this.retry);
  }

  private async transactionOnce<T>(work: (tx: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T> {
    const { resourceArn, secretArn, database } = this.config;
    const begun = await this.client.send(new BeginTransactionCommand({ resourceArn, secretArn, database }));
    const transactionId = begun.transactionId!;
    try {
      const result = await work({ query: (sql, params) => this.execute(sql, params, transactionId) });
      await this.client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId }));
      return result;
    } catch (error) {
      await this.client.send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId })).catch(() => undefined);
      throw error;
    }
  }
}
