// A model of another business for the report's tests: generated data of the wholesale example
// schema (two categorical features, seven numeric, five of them log1p money columns) read as the
// CLI reads a file, trained, and read back from model.json.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustomerColumns } from '../../../shared/csv/columns.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { parseModel, serializeModel, type Model } from '../../../shared/model/artifact.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { trainModel, type TrainOptions } from '../../../shared/workflows/train.ts';

export const WHOLESALE: CustomerSchema = parseCustomerSchema(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/schema/examples/wholesale.json'), 'utf8')),
  'wholesale.json',
);

const TRAINED_AT = new Date('2026-11-26T15:30:00.000Z');

/** Generated wholesale customers read into columns, as `segments train --schema` reads a file. */
export async function wholesaleColumns(rows: number, seed: number): Promise<CustomerColumns> {
  async function* chunks() {
    yield* generateCsv({ schema: WHOLESALE, rows, seed });
  }
  const csv = await readCustomerColumns(chunks(), { schema: WHOLESALE });
  if (csv.rejected.length > 0) throw new Error(`generated wholesale rows rejected: ${csv.rejected[0]!.reason}`);
  return csv.columns;
}

/** A model trained on generated wholesale customers, as read back from model.json. */
export async function wholesaleModel(
  rows = 3000,
  seed = 11,
  options: TrainOptions = { maxK: 6, restarts: 2 },
): Promise<{ customers: CustomerColumns; model: Model }> {
  const customers = await wholesaleColumns(rows, seed);
  const trained = trainModel({ source: 'wholesale.csv', customers, rowsRead: rows, rowsRejected: 0, duplicates: 0 }, options, TRAINED_AT);
  return { customers, model: parseModel(serializeModel(trained), 'model.json') };
}
