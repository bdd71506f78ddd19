// The statement that describes the population a model serves, for the nightly drift check:
// counts of created and assigned customers, outliers and distances, per numeric feature the bin
// counts of the assigned customers in the model's training bins, and per categorical feature their
// counts per training value — one statement, one row per (field, bin), bins computed in PostgreSQL
// with the edges and the category values as parameters.

import type { Model } from '../model/artifact.ts';
import type { SqlParams, SqlValue } from '../ports.ts';
import { featureColumn } from './rows.ts';

/**
 * The baseline's fields the statement covers: every one, but those in `omit` (columns the table no
 * longer has). A categorical field's bins are its training values in order, then the values not seen
 * at training; a NULL value (a row stored before the column existed) is in no bin.
 */
export function populationStatement(model: Model, omit: ReadonlySet<string> = new Set()): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = { model_version: model.modelVersion };
  let f = 0;
  const part = (field: string, bin: (column: string, f: number) => string): string => {
    const column = featureColumn(field);
    params[`field_${f}`] = field;
    const sql = `SELECT CAST(:field_${f} AS text) AS field, ${bin(column, f)} AS bin, CAST(count(*) AS integer) AS n,
      0 AS assigned, 0 AS created, 0 AS outliers, 0.0 AS distance_sum
    FROM customers WHERE model_version = CAST(:model_version AS text) AND segment_origin = 'assigned' AND ${column} IS NOT NULL GROUP BY 2`;
    f++;
    return sql;
  };
  const numeric = Object.entries(model.baseline.bins)
    .filter(([field]) => !omit.has(field))
    .map(([field, { edges }]) =>
      part(field, (column, at) => {
        const cases = edges.map((edge, e) => {
          params[`edge_${at}_${e}`] = edge;
          return `WHEN CAST(${column} AS double precision) < CAST(:edge_${at}_${e} AS double precision) THEN ${e}`;
        });
        return cases.length === 0 ? '0' : `CASE ${cases.join(' ')} ELSE ${edges.length} END`;
      }),
    );
  const categorical = Object.entries(model.baseline.categories ?? {})
    .filter(([field]) => !omit.has(field))
    .map(([field, { values }]) =>
      part(field, (column, at) => {
        const cases = values.map((value, v) => {
          params[`value_${at}_${v}`] = value;
          return `WHEN ${column} = CAST(:value_${at}_${v} AS text) THEN ${v}`;
        });
        return cases.length === 0 ? '0' : `CASE ${cases.join(' ')} ELSE ${values.length} END`;
      }),
    );
  const totals = `SELECT CAST('' AS text) AS field, 0 AS bin, 0 AS n,
      CAST(count(*) FILTER (WHERE segment_origin = 'assigned') AS integer) AS assigned,
      CAST(count(*) FILTER (WHERE segment_origin = 'created') AS integer) AS created,
      CAST(count(*) FILTER (WHERE segment_origin = 'assigned' AND is_outlier) AS integer) AS outliers,
      COALESCE(sum(segment_distance) FILTER (WHERE segment_origin = 'assigned'), 0) AS distance_sum
    FROM customers WHERE model_version = CAST(:model_version AS text)`;
  return { sql: [totals, ...numeric, ...categorical].join('\nUNION ALL\n'), params };
}
