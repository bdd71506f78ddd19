// `npm start`: the original project's story end to end on the embedded database — generate
// customers, load them, train from the table (they become `created`), add new customers, run
// the nightly assignment (they become `assigned`), and show where everything is.

import { join } from 'node:path';
import { readCustomerCsv } from '../../../shared/csv/read-customers.ts';
import { assignPending, loadCustomers } from '../../../shared/workflows/database.ts';
import { trainFromTable } from '../../../shared/workflows/train-table.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { writeFileAtomic } from '../../adapters/atomic-file.ts';
import { defineCommand, STORE_OPTION } from '../command.ts';
import type { CliConfig } from '../config.ts';
import { databaseDeps, modelStore, openDatabase, type Output } from '../context.ts';
import { openInput } from '../io.ts';
import { renderTable, segmentTable } from '../table.ts';

const DEMO_DATABASE = 'segments_demo';
const MEMBERS = 1000;
const NEW_MEMBERS = 150;
const SEED = 7;

async function runDemo(storeOption: string | undefined, io: Output, config: CliConfig): Promise<void> {
  const store = modelStore(storeOption);
  const samples = join(store.root, 'samples');
  const membersCsv = join(samples, 'members.csv');
  const newCsv = join(samples, 'new-members.csv');
  await writeFileAtomic(membersCsv, generateCsv({ rows: MEMBERS, seed: SEED }));
  await writeFileAtomic(newCsv, generateCsv({ rows: NEW_MEMBERS, seed: SEED + 1, firstId: MEMBERS + 1 }));
  io.out(`1. generated ${MEMBERS} member customers and ${NEW_MEMBERS} new ones under ${samples}`);

  // the embedded database of the demo starts empty every time; a DATABASE_URL is never emptied
  const database = await openDatabase(storeOption, config.databaseUrl, DEMO_DATABASE, config.databaseUrl === undefined);
  try {
    const deps = databaseDeps(database.repo, store, () => undefined);
    const members = await readCustomerCsv(await openInput(membersCsv));
    const loaded = await loadCustomers(members, database.repo);
    io.out(`2. loaded ${loaded.inserted} customers into the embedded PostgreSQL table "customers"`);

    const trained = await trainFromTable(deps, { k: 'auto', exclude: ['gender'], autoPromote: true });
    const { model } = trained;
    io.out(`3. trained from the table on age, income and spending (gender excluded: with it every segment is one gender)`);
    io.out(`   k = ${model.k}: ${model.metrics.sweep.rule}`);
    io.out(`   ${trained.assign?.labeled ?? 0} customers labeled 'created' by model ${model.modelVersion}`);

    const batch = await readCustomerCsv(await openInput(newCsv));
    const added = await loadCustomers(batch, database.repo);
    io.out(`4. ${added.inserted} new customers arrived (segment empty)`);

    const nightly = await assignPending(deps);
    io.out(`5. nightly assignment: ${nightly.labeled} customers labeled 'assigned' (${nightly.outliers} outliers)`);
    const again = await assignPending(deps);
    io.out(`   a second run finds ${again.status === 'no-new-customers' ? 'no new customers' : `${again.labeled} customers`}`);

    const status = await database.repo.status();
    io.out('');
    io.out(segmentTable(model));
    io.out('');
    io.out(
      renderTable(
        ['origin', 'customers'],
        Object.entries(status.byOrigin).map(([origin, n]) => [origin, String(n)]),
      ),
    );
    for (const warning of model.warnings) io.out(`warning: ${warning}`);
    io.out('');
    io.out(`database: embedded PostgreSQL under ${join(store.root, 'postgres')} (database ${DEMO_DATABASE})`);
    io.out(`active:   ${join(store.root, 'models', 'active.json')}`);
    io.out(`model:    ${trained.modelUri}`);
    // last: the report is what to open next
    io.out(`report:   ${trained.reportUri}`);
  } finally {
    await database.close();
  }
}

export const demo = defineCommand({
  name: 'demo',
  args: [],
  summary: 'the whole story end to end on the embedded database (npm start)',
  options: { store: STORE_OPTION },
  async run({ values }, { io, config }) {
    await runDemo(values.store, io, config);
  },
});
