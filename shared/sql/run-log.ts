// RunLog over SqlClient: one row per finished run of train, ingest or assign (the `runs` table).

import type { RunLog, RunRecord, SqlClient } from '../ports.ts';

export class SqlRunLog implements RunLog {
  constructor(private readonly sql: SqlClient) {}

  /**
   * `runKey` is the idempotency key (a new one per call by default): a statement retried after an
   * error that left it unclear whether the first attempt ran (the Data API's
   * InternalServerErrorException) inserts nothing the second time.
   */
  async recordRun(run: RunRecord, startedAt: Date, runKey: string = globalThis.crypto.randomUUID()): Promise<void> {
    await this.sql.query(
      `INSERT INTO runs (run_key, kind, started_at, finished_at, model_version, rows_read, rows_accepted, rows_rejected, labeled, outliers, status, error, drift)
       VALUES (CAST(:run_key AS text), CAST(:kind AS text), CAST(:started_at AS timestamptz), now(), CAST(:model_version AS text),
         CAST(:rows_read AS integer), CAST(:rows_accepted AS integer), CAST(:rows_rejected AS integer), CAST(:labeled AS integer),
         CAST(:outliers AS integer), CAST(:status AS text), CAST(:error AS text), CAST(:drift AS jsonb))
       ON CONFLICT (run_key) DO NOTHING`,
      {
        run_key: runKey,
        kind: run.kind,
        started_at: startedAt.toISOString(),
        model_version: run.modelVersion,
        rows_read: run.rowsRead ?? null,
        rows_accepted: run.rowsAccepted ?? null,
        rows_rejected: run.rowsRejected ?? null,
        labeled: run.labeled ?? null,
        outliers: run.outliers ?? null,
        status: run.status,
        error: run.error ?? null,
        drift: run.drift === undefined ? null : JSON.stringify(run.drift),
      },
    );
  }
}
