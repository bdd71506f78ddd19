// `segments db load` against a real PostgreSQL: the ingest function's pipeline on the local
// database — the duplicate rule settled before a row is stored, rows upserted in several batches
// at once, rejects reported in line order, counts that add up.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CliConfig } from '../../../../functions/cli/config.ts';
import { UPLOAD_BATCH_ROWS } from '../../../../shared/ports.ts';
import { generateCsv } from '../../../../shared/sample/generate.ts';
import { runSegments } from '../../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/database.ts';
import { withTempDir } from '../../../support/temp.ts';

let db: TestDatabase;
let config: CliConfig;
let dir: { path: string; remove(): Promise<void> };

beforeEach(async () => {
  db = await createTestDatabase('cli-db');
  config = { databaseUrl: db.url, debug: false };
  dir = await withTempDir('cli-db');
  return async () => {
    await dir.remove();
    await db.drop();
  };
});

const cli = (...argv: string[]) => runSegments([...argv, '--store', join(dir.path, 'store')], config);

describe('segments db load', () => {
  it('stores every winning row once over many batches, and reports rejects in line order', async () => {
    const rows = 4 * UPLOAD_BATCH_ROWS + 321;
    const body = [...generateCsv({ rows, seed: 4 })].join('');
    // line 2 + i is customer i + 1: a bad row at the end, and customer 7 again (superseding line 8)
    const csv = join(dir.path, 'load.csv');
    await writeFile(csv, `${body}0009999,Robot,30,40,50\n0000007,Female,33,44,55\n`);
    const load = await cli('db', 'load', csv);
    expect(load.code).toBe(0);
    expect(load.out).toEqual([
      `${rows + 2} rows read: ${rows} accepted (${rows} new, 0 changed, 0 unchanged), 2 rejected`,
      `  line 8: duplicate customer_id, superseded by line ${rows + 3}`,
      `  line ${rows + 2}: gender "Robot" is not Female/Male (or F/M)`,
    ]);
    const { rows: table } = await db.repo.pool.query(
      "SELECT count(*)::int AS n, count(DISTINCT customer_id)::int AS ids, min(age) FILTER (WHERE customer_id = '0000007') AS age FROM customers",
    );
    expect(table[0]).toEqual({ n: rows, ids: rows, age: 33 });
    // the same file again: nothing new, nothing changed
    expect((await cli('db', 'load', csv)).out[0]).toBe(
      `${rows + 2} rows read: ${rows} accepted (0 new, 0 changed, ${rows} unchanged), 2 rejected`,
    );
  });
});
