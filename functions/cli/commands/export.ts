// `segments export --segment <id|name>`: one segment's customers from the table, as a CSV for a
// mailing tool.

import { join, resolve } from 'node:path';
import { InvalidOptionError } from '../../../shared/errors.ts';
import { exportSegment, findSegment } from '../../../shared/workflows/export.ts';
import { activeModel } from '../../../shared/workflows/promote.ts';
import { writeFileAtomic } from '../../adapters/atomic-file.ts';
import { defineCommand, jsonOption, STORE_OPTION } from '../command.ts';
import { modelStore } from '../context.ts';
import { withDatabase } from './db.ts';

export const exportCommand = defineCommand({
  name: 'export',
  args: [],
  summary: "write a segment's customers (from the table) as CSV, for a mailing tool",
  options: {
    segment: { type: 'string', value: '<id|name>', help: 'the segment, by id or by name', required: true },
    model: { type: 'string', value: '<version>', help: "this model's segments instead of the active model's" },
    out: { type: 'string', value: '<file>', help: 'where to write (default: results/exports/segment-<id>/customers.csv)' },
    store: STORE_OPTION,
    json: jsonOption('the outcome'),
  },
  async run({ values }, { io, config }) {
    const store = modelStore(values.store);
    const model = values.model === undefined ? await activeModel(store) : await store.getModel(values.model);
    if (model === null) throw new InvalidOptionError(`no active model in ${store.root}; train one first`);
    const segment = findSegment(model, values.segment);
    const path = resolve(values.out ?? join(store.root, 'results', 'exports', `segment-${segment.id}`, 'customers.csv'));
    const outcome = await withDatabase(values.store, config, (repo) =>
      exportSegment(repo, model, values.segment, async (content) => {
        await writeFileAtomic(path, content);
        return path;
      }),
    );
    io.out(
      values.json
        ? JSON.stringify(outcome)
        : `${outcome.rows} customers of segment ${outcome.segment} ("${outcome.name}") written to ${outcome.uri}`,
    );
  },
});
