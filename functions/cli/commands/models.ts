// `segments models …`: the stored models, and which one is active (promote, roll back).

import { listModels, promoteModel, rollbackModel } from '../../../shared/workflows/promote.ts';
import { defineCommand, jsonOption, STORE_OPTION } from '../command.ts';
import { modelStore } from '../context.ts';
import { renderTable } from '../table.ts';

/** What a change of the active model means for the table. */
const RELABEL_NOTE = 'the next nightly run relabels customers labeled by another model';

export const modelsList = defineCommand({
  name: 'models list',
  args: [],
  summary: 'the stored models, the active one and the previous one',
  options: { store: STORE_OPTION, json: jsonOption('the list') },
  async run({ values }, { io }) {
    const store = modelStore(values.store);
    const listing = await listModels(store);
    if (values.json) io.out(JSON.stringify(listing));
    else if (listing.length === 0) io.out(`no models in ${store.root}`);
    else {
      const rows = listing.map((m) => [
        m.active ? 'active' : m.previous ? 'previous' : '',
        m.modelVersion,
        String(m.k),
        String(m.rows),
        m.source,
      ]);
      io.out(renderTable(['', 'model', 'k', 'customers', 'trained on'], rows));
    }
  },
});

export const modelsPromote = defineCommand({
  name: 'models promote',
  args: [{ name: 'version' }],
  summary: 'make a stored model the active one (the nightly run relabels)',
  options: { store: STORE_OPTION, json: jsonOption('the new active pointer') },
  async run({ values, args: [version] }, { io }) {
    const pointer = await promoteModel(modelStore(values.store), version!, new Date());
    io.out(
      values.json
        ? JSON.stringify(pointer)
        : `active model: ${pointer.modelVersion} (previous: ${pointer.previous ?? 'none'}); ${RELABEL_NOTE}`,
    );
  },
});

export const modelsRollback = defineCommand({
  name: 'models rollback',
  args: [],
  summary: 'make the previous model the active one again (the nightly run relabels)',
  options: { store: STORE_OPTION, json: jsonOption('the new active pointer') },
  async run({ values }, { io }) {
    const pointer = await rollbackModel(modelStore(values.store), new Date());
    io.out(
      values.json
        ? JSON.stringify(pointer)
        : `active model: ${pointer.modelVersion} (rolled back from ${pointer.previous}); ${RELABEL_NOTE}`,
    );
  },
});
