// Campaign lists from the table, over every SqlClient (pg, and the Data API through the emulator):
// customer_id, the table schema's feature columns and the labels — the mall's columns as always,
// another schema's values exactly as they were uploaded.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customers } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { generateCsv, generateCustomers } from '../../../shared/sample/generate.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { SqlCustomerTable } from '../../../shared/sql/customer-table.ts';
import { SqlDatabase } from '../../../shared/sql/database.ts';
import { exportSegment } from '../../../shared/workflows/export.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, startSqlClients, type TestSqlClients } from '../../support/database.ts';

const WHOLESALE: CustomerSchema = parseCustomerSchema(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/schema/examples/wholesale.json'), 'utf8')),
  'wholesale.json',
);

const LABELS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'];

async function text(content: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of content) out += piece;
  return out;
}

/** Trains on `customers`, labels the table with the model in the database, and exports its segment 0 as CSV rows. */
async function exported(repo: SqlDatabase, customers: readonly Customer[], training: Customers) {
  const model = trainModel(
    { source: 'f', customers: training, rowsRead: customers.length, rowsRejected: 0, duplicates: 0 },
    { k: 3, maxK: 3, restarts: 1 },
    new Date(),
  );
  await repo.upsertCustomers(customers);
  expect((await repo.labelNextBatch(model, '', 50_000))?.labeled).toBe(customers.length);
  let csv = '';
  const outcome = await exportSegment(repo, model, 0, async (content) => {
    csv = await text(content);
    return 'memory:';
  });
  const rows = Papa.parse<string[]>(csv.trim()).data;
  expect(rows).toHaveLength(outcome.rows + 1);
  expect(outcome.rows).toBeGreaterThan(0);
  return { header: rows[0]!, body: rows.slice(1) };
}

describe.each(SQL_CLIENTS)('exportSegment over %s', (implementation) => {
  let clients: TestSqlClients;
  beforeAll(async () => {
    clients = await startSqlClients(`export_${implementation}`);
  });
  afterAll(() => clients.close());

  it("writes the mall's columns as always", async () => {
    const customers = [...generateCustomers({ rows: 300, seed: 3 })].map(({ planted: _planted, ...c }) => c);
    const { header, body } = await exported(new SqlDatabase(clients.client(implementation)), customers, customers);
    expect(header).toEqual(['customer_id', 'gender', 'age', 'annual_income_thousands', 'spending_score', ...LABELS]);
    const byId = new Map(customers.map((c) => [c.customerId, c]));
    for (const row of body) {
      const c = byId.get(row[0]!)!;
      expect(row.slice(0, 5)).toEqual([c.customerId, c.gender, String(c.age), String(c.annual_income_thousands), String(c.spending_score)]);
    }
  });

  it("writes another schema's features, in its order, with the values as they were uploaded", async () => {
    await clients.db.repo.pool.query('TRUNCATE customers');
    await new SqlCustomerTable(clients.client('PgSqlClient')).apply(WHOLESALE);
    const csv = [...generateCsv({ schema: WHOLESALE, rows: 300, seed: 4 })].join('');
    const read = await readCustomerColumns(
      (async function* () {
        yield csv;
      })(),
      { schema: WHOLESALE },
    );
    const customers = Array.from({ length: read.columns.length }, (_, i) => read.columns.at(i));
    const { header, body } = await exported(new SqlDatabase(clients.client(implementation), WHOLESALE), customers, read.columns);
    expect(header).toEqual(['customer_id', ...WHOLESALE.features.map((f) => f.name), ...LABELS]);
    // the uploaded file's fields (its columns are in the schema's order), by id
    const uploaded = new Map(
      Papa.parse<string[]>(csv.trim())
        .data.slice(1)
        .map((fields) => [fields[0]!, fields]),
    );
    for (const row of body) expect(row.slice(0, 1 + WHOLESALE.features.length)).toEqual(uploaded.get(row[0]!));
  });
});
