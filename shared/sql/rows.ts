// What the SQL implementations of the ports share: bounded statements (batches of rows), keyset
// pages, the feature columns of a customer schema in SQL text, and reading counts and customers
// back from result rows.

import type { Customer, FeatureValue } from '../csv/contract.ts';
import { MAX_ID_LENGTH } from '../csv/contract.ts';
import { MALL_SCHEMA, MAX_VALUE_LENGTH, type CustomerSchema, type SchemaFeature } from '../schema/customer-schema.ts';
import type { SqlClient, SqlParams, SqlRow } from '../ports.ts';
import { featureColumn, quoteIdentifier } from './customer-table.ts';

/**
 * Rows per statement and per page, sized for the Data API: with customer_id at most 128 characters,
 * an upsert of 1,000 rows is under 0.5 MiB of request (limit 4 MiB), a page of 2,000 customers or
 * 1,000 labeled rows under 0.5 MiB of response (limit 1 MiB). The mall's sizes; a schema with more
 * or wider columns gets fewer rows per page (pageRows).
 */
export const UPSERT_BATCH_ROWS = 1000;
export const CUSTOMER_PAGE_ROWS = 2000;
export const LABELED_PAGE_ROWS = 1000;

/** Consecutive slices of at most UPSERT_BATCH_ROWS items: one bounded statement each. */
export function* batches<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let start = 0; start < items.length; start += UPSERT_BATCH_ROWS) yield items.slice(start, start + UPSERT_BATCH_ROWS);
}

/** A count or integer column (null: 0). */
export const int = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/**
 * Keyset pagination: runs `statement` (which filters `customer_id > :after` and ends in
 * `LIMIT :page_size`) page after page, each page starting after the last key of the one before.
 */
export async function* pagesByKey(sql: SqlClient, statement: string, params: SqlParams, pageSize: number): AsyncGenerator<SqlRow[]> {
  let after = '';
  for (;;) {
    const rows = await sql.query(statement, { ...params, after, page_size: pageSize });
    if (rows.length === 0) return;
    yield rows;
    after = String(rows[rows.length - 1]!.customer_id);
  }
}

/**
 * The select list of a schema's features as customerReader reads them, each under its own name: a
 * categorical feature as its text, a numeric one as double precision (a NUMERIC column would come
 * back from the Data API as a string; converted by PostgreSQL, it is the double of its decimal text,
 * as the CSV reader gives it).
 */
export function featureSelect(schema: CustomerSchema, alias?: string): string {
  return schema.features
    .map((f) => {
      const column = featureColumn(f.name, alias);
      return f.kind === 'categorical'
        ? `${column} AS ${quoteIdentifier(f.name)}`
        : `CAST(${column} AS double precision) AS ${quoteIdentifier(f.name)}`;
    })
    .join(', ');
}

/**
 * `a IS NOT NULL AND b IS NOT NULL …` over the named feature columns: a row stored with every one of
 * them. Written out column by column, not as num_nulls(…) = 0, which the planner cannot estimate (it
 * takes 0.5 % of the rows for a function's result, and then sorts the whole table for a batch that
 * an index scan in key order would read).
 */
export function complete(names: readonly string[], alias?: string): string {
  return names.length === 0 ? 'TRUE' : `(${names.map((name) => `${featureColumn(name, alias)} IS NOT NULL`).join(' AND ')})`;
}

/**
 * Reads a row of customer_id and the schema's features (featureSelect's) as a customer: categorical
 * as text, numeric as a number. A NULL feature is an error: statements that read customers select
 * complete rows only (see complete()).
 */
export function customerReader(schema: CustomerSchema): (row: SqlRow) => Customer {
  const features = schema.features.map((f) => ({ name: f.name, categorical: f.kind === 'categorical' }));
  return (row) => {
    const customer: Record<string, FeatureValue> = { customerId: String(row.customer_id) };
    for (const { name, categorical } of features) {
      const value = row[name];
      if (value === null || value === undefined) throw new RangeError(`customer ${String(row.customer_id)} has no ${name}`);
      customer[name] = categorical ? String(value) : Number(value);
    }
    return customer as Customer;
  };
}

/** JSON bytes of one character of a category value at worst: `\u0001`. */
const JSON_CHAR_BYTES = 6;
/** JSON bytes of a number at worst (`-1.2345678901234567e-100`). */
const MAX_NUMBER_BYTES = 24;
/** A row's bytes besides its features: the id as the page sizes above assume it (printable ASCII), keys, braces, commas. */
const ROW_BASE_BYTES = MAX_ID_LENGTH + 100;

/** The most JSON bytes one value of a feature takes in a response row: its key, quotes and the value. */
function valueJsonBytes(feature: SchemaFeature): number {
  const key = feature.name.length + 4;
  if (feature.kind === 'numeric') return key + MAX_NUMBER_BYTES;
  const longest = feature.categories === 'learned' ? MAX_VALUE_LENGTH : Math.max(...feature.categories.map((c) => c.length));
  return key + 2 + longest * JSON_CHAR_BYTES;
}

const rowJsonBytes = (schema: CustomerSchema): number => schema.features.reduce((sum, f) => sum + valueJsonBytes(f), ROW_BASE_BYTES);

/**
 * Rows per page for customers of `schema`: `mallRows` (one of the sizes above) for the mall, fewer
 * in proportion for a schema whose rows take more bytes at worst (more features, longer values).
 */
export function pageRows(schema: CustomerSchema, mallRows: number): number {
  return Math.max(1, Math.min(mallRows, Math.floor((mallRows * rowJsonBytes(MALL_SCHEMA)) / rowJsonBytes(schema))));
}
