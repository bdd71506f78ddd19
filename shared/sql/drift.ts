// The statement that describes the population a model serves, for the nightly drift check:
// counts of created and assigned customers, outliers and distances, and per numeric field the
// bin counts of the assigned customers in the model's training bins — one statement, one row
// per (field, bin), bins computed in PostgreSQL with the edges as parameters.

import type { Model } from '../model/artifact.ts';
import type { SqlParams, SqlValue } from '../ports.ts';
import { sqlIdentifier } from './scoring.ts';

/** SQL and parameters; rows: field ('' for the totals row), bin, n, plus the totals' columns. */
export function populationStatement(model: Model): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = { model_version: model.modelVersion };
  const parts = Object.entries(model.baseline.bins).map(([field, { edges }], f) => {
    const column = sqlIdentifier(field);
    params[`field_${f}`] = field;
    const cases = edges.map((edge, e) => {
      params[`edge_${f}_${e}`] = edge;
      return `WHEN CAST(${column} AS double precision) < CAST(:edge_${f}_${e} AS double precision) THEN ${e}`;
    });
    const bin = cases.length === 0 ? '0' : `CASE ${cases.join(' ')} ELSE ${edges.length} END`;
    return `SELECT CAST(:field_${f} AS text) AS field, ${bin} AS bin, CAST(count(*) AS integer) AS n,
      0 AS assigned, 0 AS created, 0 AS outliers, 0.0 AS distance_sum
    FROM customers WHERE model_version = CAST(:model_version AS text) AND segment_origin = 'assigned' GROUP BY 2`;
  });
  const totals = `SELECT CAST('' AS text) AS field, 0 AS bin, 0 AS n,
      CAST(count(*) FILTER (WHERE segment_origin = 'assigned') AS integer) AS assigned,
      CAST(count(*) FILTER (WHERE segment_origin = 'created') AS integer) AS created,
      CAST(count(*) FILTER (WHERE segment_origin = 'assigned' AND is_outlier) AS integer) AS outliers,
      COALESCE(sum(segment_distance) FILTER (WHERE segment_origin = 'assigned'), 0) AS distance_sum
    FROM customers WHERE model_version = CAST(:model_version AS text)`;
  return { sql: [totals, ...parts].join('\nUNION ALL\n'), params };
}
