// `segments assign <csv>`: labels a local CSV with the active (or a named) model, streaming, on worker
// threads for a large file; writes labeled, rejects and summary files (design.md, "CLI outputs").

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InvalidOptionError } from '../../../shared/errors.ts';
import type { ResultName } from '../../../shared/ports.ts';
import { labelFile } from '../../../shared/workflows/label-file.ts';
import { FileResultWriter } from '../../adapters/file-result-writer.ts';
import { defineCommand, integer, jsonOption, STORE_OPTION } from '../command.ts';
import { modelStore } from '../context.ts';
import { openInput } from '../io.ts';
import { labelFileInParallel, PARALLEL_MIN_BYTES } from '../parallel-assign.ts';
import { segmentTable } from '../table.ts';

/** Most threads `assign` labels on (the main thread and workers) by default, and when asked. */
const MAX_WORKERS = 4;
const MAX_EXPLICIT_WORKERS = 16;

/** `--out x.csv`: x.csv, x.rejects.csv, x.summary.json; otherwise results/customers/<name>/ in the store. */
function outputPaths(file: string, out: string | undefined, storeRoot: string): Record<ResultName, string> {
  if (out !== undefined) {
    const stem = join(dirname(resolve(out)), basename(out, extname(out)));
    return { 'labeled.csv': resolve(out), 'rejects.csv': `${stem}.rejects.csv`, 'summary.json': `${stem}.summary.json` };
  }
  const dir = join(storeRoot, 'results', 'customers', basename(file, extname(file)));
  return { 'labeled.csv': join(dir, 'labeled.csv'), 'rejects.csv': join(dir, 'rejects.csv'), 'summary.json': join(dir, 'summary.json') };
}

export const assign = defineCommand({
  name: 'assign',
  args: [{ name: 'csv' }],
  summary: 'label the customers of a CSV with the active model: labeled, rejects and summary files',
  options: {
    model: { type: 'string', value: '<version>', help: 'label with this model instead of the active one' },
    out: { type: 'string', value: '<file>', help: 'the labeled CSV; rejects and summary beside it (default: in the store)' },
    workers: {
      type: 'string',
      value: '<n>',
      help: `threads to label on, ≤ ${MAX_EXPLICIT_WORKERS} (default: one per core up to ${MAX_WORKERS} from ${PARALLEL_MIN_BYTES >> 20} MB)`,
    },
    store: STORE_OPTION,
    json: jsonOption('the summary'),
  },
  async run({ values, args: [file] }, { io }) {
    const workers = integer(values.workers, 'workers', 1);
    if (workers !== undefined && workers > MAX_EXPLICIT_WORKERS) {
      throw new InvalidOptionError(`--workers must be at most ${MAX_EXPLICIT_WORKERS} (got ${workers})`);
    }
    const store = modelStore(values.store);
    let version = values.model;
    if (version === undefined) {
      const active = await store.getActive();
      if (active === null) throw new InvalidOptionError(`no active model in ${store.root}; train one first (segments train <csv>)`);
      version = active.modelVersion;
    }
    const model = await store.getModel(version);
    const input = await openInput(file!); // fails early, with one line, when the file is missing
    const paths = outputPaths(file!, values.out, store.root);
    // an earlier run's outputs must not survive beside a failed one (summary first: it says "ok")
    const writer = new FileResultWriter(paths);
    for (const name of ['summary.json', 'rejects.csv', 'labeled.csv'] as const) await writer.remove(name);
    let opened = 0;
    const onProgress = (n: number): void => io.err(`read ${n} rows`);
    const startedAt = new Date();
    const clock = (): Date => new Date();
    const { size } = await stat(file!);
    const parallel = workers ?? (size >= PARALLEL_MIN_BYTES ? Math.min(availableParallelism(), MAX_WORKERS) : 1);
    const inParallel = await labelFileInParallel({
      path: file!,
      model,
      workers: parallel,
      paths,
      writer,
      startedAt,
      clock,
      onProgress,
      onThreads: (n) => io.err(`labeling on ${n} threads`),
    });
    if (inParallel !== null) input.destroy();
    const summary =
      inParallel ??
      (await labelFile(
        { open: () => (opened++ === 0 ? input : createReadStream(file!)), source: file!, model, startedAt, clock, onProgress },
        writer,
      ));
    if (values.json) {
      io.out(JSON.stringify(summary));
      return;
    }
    io.out(
      `${summary.rowsRead} rows read: ${summary.rowsAccepted} labeled, ${summary.rowsRejected} rejected (${summary.duplicates} duplicates), ${summary.outliers} outliers`,
    );
    io.out(segmentTable(model, summary.segments));
    io.out(`labeled: ${paths['labeled.csv']}\nrejects: ${paths['rejects.csv']}\nsummary: ${paths['summary.json']}`);
  },
});
