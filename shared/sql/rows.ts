// What the SQL implementations of the ports share: bounded statements (batches of rows), keyset
// pages, and reading counts and customers back from result rows.

import type { Customer } from '../csv/contract.ts';
import type { SqlClient, SqlParams, SqlRow } from '../ports.ts';

/**
 * Rows per statement and per page, sized for the Data API: with customer_id at most 128 characters,
 * an upsert of 1,000 rows is under 0.5 MiB of request (limit 4 MiB), a page of 2,000 customers or
 * 1,000 labeled rows under 0.5 MiB of response (limit 1 MiB).
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

/** A row of customer_id, gender, age, income (annual_income_thousands as double precision), spending_score. */
export function toCustomer(row: SqlRow): Customer {
  return {
    customerId: String(row.customer_id),
    gender: row.gender === 'Male' ? 'Male' : 'Female',
    age: int(row.age),
    annual_income_thousands: Number(row.income),
    spending_score: int(row.spending_score),
  };
}
