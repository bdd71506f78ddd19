// The statement that describes the population a model serves, for the nightly drift check:
// counts of created and assigned customers, outliers and distances, per numeric feature the counts
// of the assigned customers in the model's training bins, and per categorical feature their counts
// per training value. One pass over the model's rows: each row's bin of every field is computed
// once (in a fenced subquery), then counted by FILTER aggregates into one result row — a plain
// aggregate, whatever the planner believes of the rows just labeled (a GROUP BY per field, planned
// on statistics taken before the labeling, sorted a million rows on disk once per field).

import type { Model } from '../model/artifact.ts';
import type { SqlParams, SqlValue } from '../ports.ts';
import { featureColumn } from './customer-table.ts';

/** Count columns per statement at most: PostgreSQL takes 1,664 entries in a select list. */
const MAX_COUNTS = 1000;

/** A field's bins in a statement: its name, its kind and its number of bins. */
export interface BinnedField {
  readonly field: string;
  readonly kind: 'numeric' | 'categorical';
  readonly bins: number;
}

/** One statement of the observation: the fields it counts, in the order of its count columns (`c<f>_<b>`). */
export interface PopulationStatement {
  readonly sql: string;
  readonly params: SqlParams;
  readonly fields: readonly BinnedField[];
}

/**
 * The statements (one in all but the widest schemas) that observe the population of `model`: the
 * first also answers the totals (assigned, created, outliers, distance_sum). A field of the baseline
 * in `omit` (its column no longer in the table) is left out. A numeric field's bin is the number of
 * its edges at or below the value (width_bucket; bin i is [edge i−1, edge i)); a categorical field's
 * the index of its value among the training values, or their count for a value not seen at training.
 * A NULL value (a row stored before the column existed) is in no bin.
 */
export function populationStatements(model: Model, omit: ReadonlySet<string> = new Set()): PopulationStatement[] {
  const fields: Array<BinnedField & { expression: (params: Record<string, SqlValue>, f: number) => string }> = [];
  for (const [field, { edges }] of Object.entries(model.baseline.bins)) {
    if (omit.has(field)) continue;
    fields.push({
      field,
      kind: 'numeric',
      bins: edges.length + 1,
      expression: (params, f) => {
        const column = featureColumn(field);
        if (edges.length === 0) return `CASE WHEN ${column} IS NULL THEN NULL ELSE 0 END`;
        const array = edges.map((edge, e) => {
          params[`edge_${f}_${e}`] = edge;
          return `CAST(:edge_${f}_${e} AS double precision)`;
        });
        return `width_bucket(CAST(${column} AS double precision), ARRAY[${array.join(', ')}])`;
      },
    });
  }
  for (const [field, { values }] of Object.entries(model.baseline.categories ?? {})) {
    if (omit.has(field)) continue;
    fields.push({
      field,
      kind: 'categorical',
      bins: values.length + 1,
      expression: (params, f) => {
        const column = featureColumn(field);
        const cases = values.map((value, v) => {
          params[`value_${f}_${v}`] = value;
          return `WHEN ${column} = CAST(:value_${f}_${v} AS text) THEN ${v}`;
        });
        return `CASE WHEN ${column} IS NULL THEN NULL ${cases.join(' ')} ELSE ${values.length} END`;
      },
    });
  }
  const groups: Array<typeof fields> = [[]];
  let counts = 0;
  for (const f of fields) {
    if (counts + f.bins > MAX_COUNTS && groups.at(-1)!.length > 0) {
      groups.push([]);
      counts = 0;
    }
    groups.at(-1)!.push(f);
    counts += f.bins;
  }
  return groups.map((group, g) => {
    const params: Record<string, SqlValue> = { model_version: model.modelVersion };
    const bins = group.map((f, i) => `CASE WHEN segment_origin = 'assigned' THEN ${f.expression(params, i)} END AS b${i}`);
    const countColumns = group.flatMap((f, i) =>
      Array.from({ length: f.bins }, (_, b) => `CAST(count(*) FILTER (WHERE b${i} = ${b}) AS integer) AS c${i}_${b}`),
    );
    const totals =
      g > 0
        ? []
        : [
            "CAST(count(*) FILTER (WHERE segment_origin = 'assigned') AS integer) AS assigned",
            "CAST(count(*) FILTER (WHERE segment_origin = 'created') AS integer) AS created",
            "CAST(count(*) FILTER (WHERE segment_origin = 'assigned' AND is_outlier) AS integer) AS outliers",
            "COALESCE(sum(segment_distance) FILTER (WHERE segment_origin = 'assigned'), 0) AS distance_sum",
          ];
    const sql = `SELECT ${[...totals, ...countColumns].join(', ')}
    FROM (
      SELECT segment_origin, is_outlier, segment_distance${bins.map((b) => `, ${b}`).join('')}
      FROM customers WHERE model_version = CAST(:model_version AS text) OFFSET 0
    ) AS binned`;
    return { sql, params, fields: group.map(({ field, kind, bins: n }) => ({ field, kind, bins: n })) };
  });
}
