// `segments report`: the path of a model's report.html. A model trained from the table is rendered
// again first, with the table's current created / assigned shares and its "who moved where" section.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { InvalidOptionError, NotFoundError } from '../../../shared/errors.ts';
import { TABLE_SOURCE } from '../../../shared/workflows/database.ts';
import { defineCommand, STORE_OPTION } from '../command.ts';
import { modelStore } from '../context.ts';
import { withDatabase } from './db.ts';

export const report = defineCommand({
  name: 'report',
  args: [],
  summary: "print the path of a model's report.html (one trained from the table: rendered again first)",
  options: {
    model: { type: 'string', value: '<version>', help: 'this model instead of the active one' },
    open: { type: 'boolean', help: 'open it in the default browser' },
    store: STORE_OPTION,
  },
  async run({ values }, { io, config }) {
    const store = modelStore(values.store);
    const version = values.model ?? (await store.getActive())?.modelVersion;
    if (version === undefined) throw new InvalidOptionError(`no active model in ${store.root}; train one first or name one with --model`);
    const model = await store.getModel(version);
    let path = store.reportPath(version);
    if (model.training.source === TABLE_SOURCE) {
      // loaded on demand: the charting library is large, and only reports need it
      const { rewriteTableReport } = await import('../../../shared/workflows/report.ts');
      const outcome = await withDatabase(values.store, config, (repo) => rewriteTableReport(store, repo, model));
      if (outcome.written) path = outcome.uri;
      else io.err(`${outcome.reason}; showing the report written at training`);
    }
    if (!existsSync(path)) throw new NotFoundError(`model ${version} has no report (${path})`);
    io.out(path);
    if (values.open)
      spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [path], { detached: true, stdio: 'ignore' })
        .on('error', () => io.err(`open ${path} in a browser`))
        .unref();
  },
});
