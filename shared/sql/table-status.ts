// TableStatusReader over SqlClient: the customers table at a glance (counts by origin and segment),
// the latest runs and the latest drift figures, for `segments db status` and the report.

import { DriftSchema } from '../model/drift.ts';
import type { SqlClient, TableStatus, TableStatusReader } from '../ports.ts';
import { int } from './rows.ts';

/** How many of the latest runs the status lists. */
const LAST_RUNS = 5;

/**
 * `2026-11-30 18:24:34.123456` (a UTC timestamp as PostgreSQL writes it) → `2026-11-30T18:24:34Z`.
 * Formatted here rather than with to_char: its pattern would put colons in a string literal of the
 * statement, next to the Data API's `:name` parameters (the service's scanner is undocumented).
 */
function isoSeconds(utc: string): string {
  return `${utc.slice(0, 19).replace(' ', 'T')}Z`;
}

export class SqlTableStatus implements TableStatusReader {
  constructor(private readonly sql: SqlClient) {}

  async status(): Promise<TableStatus> {
    const [totals] = await this.sql.query(
      `SELECT CAST(count(*) AS integer) AS customers, CAST(count(*) FILTER (WHERE segment IS NULL) AS integer) AS unlabeled FROM customers`,
    );
    const origins = await this.sql.query(
      `SELECT COALESCE(segment_origin, 'unlabeled') AS origin, CAST(count(*) AS integer) AS n FROM customers GROUP BY 1 ORDER BY 1`,
    );
    const segments = await this.sql.query(
      `SELECT segment, segment_name, model_version, CAST(count(*) AS integer) AS n,
         CAST(count(*) FILTER (WHERE is_outlier) AS integer) AS outliers
       FROM customers WHERE segment IS NOT NULL GROUP BY 1, 2, 3 ORDER BY model_version, segment`,
    );
    const runs = await this.sql.query(
      `SELECT kind, status, CAST(started_at AT TIME ZONE 'UTC' AS text) AS started_at, model_version, labeled, error
       FROM runs ORDER BY id DESC LIMIT CAST(:last_runs AS integer)`,
      { last_runs: LAST_RUNS },
    );
    const [drift] = await this.sql.query(
      `SELECT CAST(drift AS text) AS drift FROM runs WHERE kind = 'assign' AND drift IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    return {
      customers: int(totals?.customers),
      unlabeled: int(totals?.unlabeled),
      byOrigin: Object.fromEntries(origins.map((r) => [String(r.origin), int(r.n)])),
      bySegment: segments.map((r) => ({
        segment: int(r.segment),
        name: String(r.segment_name),
        modelVersion: String(r.model_version),
        customers: int(r.n),
        outliers: int(r.outliers),
      })),
      lastRuns: runs.map((r) => ({
        kind: String(r.kind),
        status: String(r.status),
        startedAt: isoSeconds(String(r.started_at)),
        modelVersion: r.model_version === null ? null : String(r.model_version),
        labeled: r.labeled === null ? null : int(r.labeled),
        error: r.error === null ? null : String(r.error),
      })),
      lastDrift: drift === undefined ? null : DriftSchema.parse(JSON.parse(String(drift.drift))),
    };
  }
}
