// `segments train <csv>`: a model from a local CSV, stored and (by default) promoted, with its report.
// Also the training options and progress that `segments db train` shares.

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';
import type { TrainOptions } from '../../../shared/workflows/train.ts';
import { trainAndPublish } from '../../../shared/workflows/train-upload.ts';
import {
  defineCommand,
  integer,
  jsonOption,
  list,
  SCHEMA_OPTION,
  STORE_OPTION,
  type OptionDefinitions,
  type OptionValues,
} from '../command.ts';
import { modelStore, type Output } from '../context.ts';
import { openInput, readSchema } from '../io.ts';
import { segmentTable } from '../table.ts';

/** The options of a training, for `train` and `db train`. */
export const TRAIN_OPTIONS = {
  schema: SCHEMA_OPTION,
  k: { type: 'string', value: '<n>|auto', help: "number of segments; auto (default): the k sweep's suggestion" },
  'max-k': { type: 'string', value: '<n>', help: 'largest k the sweep tries (default 10)' },
  'no-sweep': { type: 'boolean', help: 'with --k, no k sweep (default: a quick one beside it)' },
  seed: { type: 'string', value: '<n>', help: 'random seed (default 42)' },
  restarts: { type: 'string', value: '<n>', help: 'k-means restarts (default: 300 for small data, 10 from 20,000 rows)' },
  features: { type: 'string', value: '<a,b>', help: "features to use (default: all of the schema's)" },
  exclude: { type: 'string', value: '<a,b>', help: 'features to leave out' },
  weight: { type: 'string', value: '<name=w,...>', help: 'feature weights, e.g. gender=0.5' },
  promote: { type: 'boolean', help: 'promote the new model (the default)' },
  'no-promote': { type: 'boolean', help: 'store the new model without promoting it' },
  'no-report': { type: 'boolean', help: 'do not write report.html' },
} as const satisfies OptionDefinitions;

type TrainValues = OptionValues<typeof TRAIN_OPTIONS>;

/** The workflow's options from the command line; sweep progress goes to stderr. */
export function trainOptions(values: TrainValues, io: Output): TrainOptions {
  const weights: Record<string, number> = {};
  for (const pair of list(values.weight) ?? []) {
    const [name, weight] = pair.split('=');
    if (!name || weight === undefined || weight.trim() === '' || !Number.isFinite(Number(weight))) {
      throw new InvalidOptionError(`--weight takes name=number pairs, e.g. gender=0.5 (got "${pair}")`);
    }
    weights[name.trim()] = Number(weight);
  }
  const k = values.k === undefined || values.k === 'auto' ? 'auto' : integer(values.k, 'k', 1);
  if (values['no-sweep'] && k === 'auto') throw new InvalidOptionError('--no-sweep needs --k: without a sweep nothing chooses k');
  return {
    k,
    sweep: values['no-sweep'] ? 'none' : undefined,
    maxK: integer(values['max-k'], 'max-k', 1),
    seed: integer(values.seed, 'seed', 0),
    restarts: integer(values.restarts, 'restarts', 1),
    features: list(values.features),
    exclude: list(values.exclude),
    weights,
    onSweep: (e) =>
      io.err(`k = ${e.k}: inertia ${e.inertia.toFixed(2)}${e.silhouette === null ? '' : `, silhouette ${e.silhouette.toFixed(3)}`}`),
  };
}

/** --no-promote wins over --promote; neither follows the auto-promote rule. */
export function requestedPromotion(values: TrainValues): boolean | undefined {
  if (values['no-promote']) return false;
  if (values.promote) return true;
  return undefined;
}

/**
 * V8 grows a thread's young generation whenever the objects that survived its collections since it
 * last grew add up to its size: over a long training (ml-kmeans's rows as arrays, restart after
 * restart) the main thread's grew from 8 to 32 MB, a sixth of the run's peak memory, and a worker's
 * can be capped but the main thread's only by a flag, which V8 reads as it grows it. A growth
 * factor of 1 keeps it the size it has: train big.csv --k 5, whole process, 4 runs, peak memory
 * 199-207 -> 151-191 MB, wall and CPU unchanged; the model the same.
 */
const YOUNG_GENERATION_GROWTH = '--semi-space-growth-factor=1';

export const train = defineCommand({
  name: 'train',
  args: [{ name: 'csv' }],
  summary: 'train a model from a customers CSV, store it and promote it',
  options: { ...TRAIN_OPTIONS, store: STORE_OPTION, json: jsonOption("the model's figures and paths") },
  async run({ values, args: [file] }, { io }) {
    setFlagsFromString(YOUNG_GENERATION_GROWTH);
    const options = trainOptions(values, io);
    const store = modelStore(values.store);
    const schema = values.schema === undefined ? undefined : await readSchema(values.schema);
    const input = await openInput(file!); // fails early, with one line, when the file is missing
    const { size: bytes } = await stat(file!);
    const csv = await readCustomerColumns(input, { onProgress: (n) => io.err(`read ${n} rows`), bytes, schema });
    io.err(`${csv.rowsRead} rows read: ${csv.columns.length} accepted, ${csv.rejected.length} rejected`);
    const { model, published } = await trainAndPublish(
      store,
      csv,
      basename(file!),
      { ...options, promote: requestedPromotion(values), autoPromote: true },
      () => new Date(),
    );
    const { modelUri, promoted } = published;
    // loaded on demand: the charting library is large, and only reports need it
    const reportUri = values['no-report']
      ? null
      : await (await import('../../../shared/workflows/report.ts')).writeReport(store, model, csv.columns);
    if (values.json) {
      io.out(
        JSON.stringify({
          modelVersion: model.modelVersion,
          k: model.k,
          inertia: model.metrics.inertia,
          silhouette: model.metrics.silhouette,
          sweep: model.metrics.sweep,
          segments: model.segments.map((s) => ({ id: s.id, name: s.name, size: s.size })),
          warnings: model.warnings,
          modelPath: modelUri,
          reportPath: reportUri,
          promoted,
        }),
      );
      return;
    }
    io.out(`model ${model.modelVersion}: k = ${model.k} (${model.metrics.sweep.rule})`);
    io.out(segmentTable(model));
    for (const warning of model.warnings) io.out(`warning: ${warning}`);
    io.out(`model:  ${modelUri}${promoted ? ' (active)' : ''}`);
    if (reportUri !== null) io.out(`report: ${reportUri}`);
  },
});
