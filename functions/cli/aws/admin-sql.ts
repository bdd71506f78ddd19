// Statements `segments smoke` runs on the deployed database through the RDS Data API with the
// admin secret (its cleanup). Every parameter is text, cast in the SQL; no comments in the SQL.

import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { DATA_API_RETRY } from '../../adapters/data-api-sql-client.ts';
import { isTransientDataApiError, withRetry } from '../../adapters/retry.ts';
import { callAws } from './errors.ts';

export interface DataApiTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

export interface StatementResult {
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  readonly updated: number;
}

const EXECUTE = {
  name: 'RDS Data API ExecuteStatement',
  permission: "rds-data:ExecuteStatement on the cluster and secretsmanager:GetSecretValue on the stack's AdminSecretArn",
};

/**
 * Runs one statement; `:name` parameters are bound as strings (write them `CAST(:name AS text)`).
 * A cluster resuming from auto-pause is waited for (the SDK does not retry it); statements sent
 * here are idempotent (deletes and counts), so a retry cannot do anything twice.
 */
export async function execute(
  client: RDSDataClient,
  target: DataApiTarget,
  sql: string,
  params: Record<string, string> = {},
): Promise<StatementResult> {
  const out = await callAws(EXECUTE, () =>
    withRetry(
      () =>
        client.send(
          new ExecuteStatementCommand({
            ...target,
            sql,
            parameters: Object.entries(params).map(([name, value]) => ({ name, value: { stringValue: value } })),
            formatRecordsAs: 'JSON',
          }),
        ),
      { ...DATA_API_RETRY, retryable: isTransientDataApiError },
    ),
  );
  return {
    rows: out.formattedRecords ? (JSON.parse(out.formattedRecords) as Array<Record<string, unknown>>) : [],
    updated: out.numberOfRecordsUpdated ?? 0,
  };
}
