// SqlClient over the RDS Data API: one ExecuteStatement per statement with typed named
// parameters and JSON-formatted records, transactions by id, and bounded retries for a cluster
// that is resuming from auto-pause (which the SDK does not retry) and for throttling.

import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type Field,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
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

  constructor(
    private readonly config: DataApiConfig,
    client?: RDSDataClient,
    retry: Partial<RetryOptions> = {},
  ) {
    this.client = client ?? new RDSDataClient({});
    this.retry = { ...DATA_API_RETRY, retryable: isTransientDataApiError, ...retry };
  }

  private async execute(sql: string, params: SqlParams = {}, transactionId?: string): Promise<SqlRow[]> {
    const output = await withRetry(
      () =>
        this.client.send(
          new ExecuteStatementCommand({
            resourceArn: this.config.resourceArn,
            secretArn: this.config.secretArn,
            database: this.config.database,
            sql,
            parameters: toParameters(params),
            transactionId,
            formatRecordsAs: 'JSON',
          }),
        ),
      this.retry,
    );
    return output.formattedRecords ? (JSON.parse(output.formattedRecords) as SqlRow[]) : [];
  }

  query(sql: string, params?: SqlParams): Promise<SqlRow[]> {
    return this.execute(sql, params);
  }

  async transaction<T>(work: (tx: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T> {
    const { resourceArn, secretArn, database } = this.config;
    const begun = await withRetry(() => this.client.send(new BeginTransactionCommand({ resourceArn, secretArn, database })), this.retry);
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
