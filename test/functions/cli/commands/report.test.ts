// `segments report` on models trained from the table, against a real PostgreSQL: rendered again
// with the table's shares and with the "who moved where" section training wrote.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CliConfig } from '../../../../functions/cli/config.ts';
import { runCli } from '../../../../functions/cli/main.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/database.ts';
import { withTempDir } from '../../../support/temp.ts';
import { runSegments } from '../../../support/cli.ts';

let db: TestDatabase;
let config: CliConfig;
let dir: { path: string; remove(): Promise<void> };
let store: string;

beforeEach(async () => {
  db = await createTestDatabase('cli-report');
  config = { databaseUrl: db.url, debug: false };
  dir = await withTempDir('cli-report');
  store = join(dir.path, 'store');
  return async () => {
    await dir.remove();
    await db.drop();
  };
});

const cli = (...argv: string[]) => runSegments([...argv, '--store', store], config);

/** Loads customers, trains from the table twice (the second model is matched to the first); returns both versions. */
async function retrained(): Promise<{ first: string; second: string }> {
  const csv = join(dir.path, 'customers.csv');
  expect(await runCli(['generate', '--rows', '300', '--seed', '12', '--out', csv], { out: () => {}, err: () => {} }, config)).toBe(0);
  expect((await cli('db', 'load', csv)).code).toBe(0);
  const train = async (k: string): Promise<string> =>
    JSON.parse((await cli('db', 'train', '--k', k, '--exclude', 'gender', '--json')).out[0]!).modelVersion;
  return { first: await train('3'), second: await train('4') };
}

describe('segments report', () => {
  it('renders a retrained model again with its "who moved where" section: the bytes training wrote, while the table is unchanged', async () => {
    const { first, second } = await retrained();
    const path = join(store, 'models', second, 'report.html');
    const written = await readFile(path, 'utf8');
    expect(written).toContain('<section id="movement">');
    expect(written).toContain(first);
    const r = await cli('report');
    expect(r).toMatchObject({ code: 0, out: [path], err: [] });
    expect(await readFile(path, 'utf8')).toBe(written);
  });

  it('keeps the report training wrote, and says why, when the model it was matched to is no longer stored', async () => {
    const { first, second } = await retrained();
    const path = join(store, 'models', second, 'report.html');
    const written = await readFile(path, 'utf8');
    await rm(join(store, 'models', first), { recursive: true });
    const r = await cli('report');
    expect(r).toMatchObject({
      code: 0,
      out: [path],
      err: [`${first}, the model ${second} was matched to, is no longer stored; showing the report written at training`],
    });
    expect(await readFile(path, 'utf8')).toBe(written);
  });

  it("reads the training customers with the model's own columns after the table gained one (every row NULL in it), and says why when one is gone", async () => {
    const { second } = await retrained();
    const path = join(store, 'models', second, 'report.html');
    const written = await readFile(path, 'utf8');
    const base = {
      version: 1,
      name: 'mall',
      id: { header: 'customer_id' },
      features: [
        { name: 'gender', header: 'gender', label: 'Gender', kind: 'categorical', categories: ['Female', 'Male'] },
        { name: 'age', header: 'age', label: 'Age', kind: 'numeric', integer: true, min: 0, max: 120 },
        { name: 'annual_income_thousands', header: 'annual_income_thousands', label: 'Income', kind: 'numeric', min: 0 },
        { name: 'spending_score', header: 'spending_score', label: 'Spending', kind: 'numeric', integer: true, min: 1, max: 100 },
      ],
    };
    const withVisits = join(dir.path, 'visits.json');
    await writeFile(
      withVisits,
      JSON.stringify({ ...base, features: [...base.features, { name: 'visits', header: 'visits', label: 'Visits', kind: 'numeric' }] }),
    );
    expect((await cli('db', 'migrate', '--schema', withVisits)).code).toBe(0);
    expect(await cli('report')).toMatchObject({ code: 0, out: [path], err: [] });
    expect(await readFile(path, 'utf8')).toBe(written);

    const withoutAge = join(dir.path, 'no-age.json');
    await writeFile(withoutAge, JSON.stringify({ ...base, features: base.features.filter((f) => f.name !== 'age') }));
    expect((await cli('db', 'migrate', '--schema', withoutAge, '--allow-drop')).code).toBe(0);
    expect(await cli('report')).toMatchObject({
      code: 0,
      out: [path],
      err: [`the customers table no longer has ${second}'s column age as it was trained on; showing the report written at training`],
    });
  });
});
