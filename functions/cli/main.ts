// The `segments` command line: the same workflows as the Lambda functions, on local files and a
// local PostgreSQL. `runCli` returns the exit code; errors reach the user here and only here.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readCustomerColumns, readCustomerCsv } from '../../shared/csv/read-customers.ts';
import { InvalidOptionError, ModelError, NotFoundError, SegmentationError, userMessage } from '../../shared/errors.ts';
import type { ResultName } from '../../shared/ports.ts';
import { generateCsv } from '../../shared/sample/generate.ts';
import { loadCustomers, assignPending, TABLE_SOURCE } from '../../shared/workflows/database.ts';
import { trainFromTable } from '../../shared/workflows/train-table.ts';
import { labelFile } from '../../shared/workflows/label-file.ts';
import { activeModel, listModels, promoteModel, publishModel, rollbackModel } from '../../shared/workflows/promote.ts';
import { exportSegment, findSegment } from '../../shared/workflows/export.ts';
import { trainModel, trainingDataFromCsv, type TrainOptions } from '../../shared/workflows/train.ts';
import { writeFileAtomic } from '../adapters/atomic-file.ts';
import { FileResultWriter } from '../adapters/file-result-writer.ts';
import { databaseDeps, modelStore, openDatabase, processOutput, type Output } from './context.ts';
import { runDemo } from './demo.ts';
import type { Drift } from '../../shared/model/drift.ts';
import { openInput } from './io.ts';
import { labelFileInParallel, PARALLEL_MIN_BYTES } from './parallel-assign.ts';
import { renderTable, segmentTable } from './table.ts';

/** Most worker threads `assign` starts by default, and when asked. */
const MAX_WORKERS = 4;
const MAX_EXPLICIT_WORKERS = 16;

const USAGE = `usage: segments <command> [options]

  train <csv>     train a model from a customers CSV
                  [--k <n>|auto] [--max-k <n>] [--seed <n>] [--restarts <n>]
                  [--features a,b] [--exclude a,b] [--weight name=w,...] [--no-promote]
                  [--no-report] [--json]
  assign <csv>    label customers in a CSV with the active (or --model) model
                  [--model <version>] [--out <labeled.csv>] [--json]
                  [--workers <n>] (default: one per core, up to ${MAX_WORKERS}, for files of 8 MB and more)
  generate        write synthetic mall customers as CSV
                  --rows <n> [--seed <n>] [--first-id <n>] [--age-shift <years>] [--out <file>]
  db migrate      apply database migrations
  db load <csv>   upsert the customers of a CSV into the table
  db train        train from the table (customers become 'created'); train options as above
  db assign       the nightly job: label pending customers with the active model
  db status       customers, labels and recent runs
  report          print the path of a model's report.html (rendered again with the table's
                  created / assigned shares for a model trained from the table)
                  [--model <version>] [--open]
  models list     the stored models, the active one and the previous one
  models promote <version> | models rollback
                  change the active model (the nightly run relabels)
  export          a segment's customers as a CSV for a mailing tool (from the table)
                  --segment <id|name> [--model <version>] [--out <file>] [--json]
  demo            the whole story end to end on the embedded database (npm start)
  preflight       before cdk deploy: read-only AWS checks of what would make it fail
                  [--region <region>] [--stack <name>] [--toolkit-stack-name <name>]
                  [--assign-reserved-concurrency <n>] [--json]
  smoke           after cdk deploy: run each deployed function on tiny inputs, then remove
                  what it added [--region <region>] [--stack <name>] [--json]

common options: --store <dir> (default ./.segments); db commands use DATABASE_URL when set,
otherwise an embedded PostgreSQL kept under the store.`;

/** A mistake in how the command was called: usage is shown, exit code 2. */
class UsageError extends SegmentationError {}

const TRAIN_OPTIONS = {
  k: { type: 'string' },
  'max-k': { type: 'string' },
  seed: { type: 'string' },
  restarts: { type: 'string' },
  features: { type: 'string' },
  exclude: { type: 'string' },
  weight: { type: 'string' },
  promote: { type: 'boolean' },
  'no-promote': { type: 'boolean' },
  'no-report': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const COMMON_OPTIONS = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends ParseArgsConfig['options']>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

function integer(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidOptionError(`--${name} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

function trainOptions(values: Record<string, string | boolean | undefined>, onSweep: TrainOptions['onSweep']): TrainOptions {
  const k = values.k as string | undefined;
  const weights: Record<string, number> = {};
  for (const pair of list(values.weight as string | undefined) ?? []) {
    const [name, weight] = pair.split('=');
    if (!name || weight === undefined || weight.trim() === '' || !Number.isFinite(Number(weight))) {
      throw new InvalidOptionError(`--weight takes name=number pairs, e.g. gender=0.5 (got "${pair}")`);
    }
    weights[name.trim()] = Number(weight);
  }
  return {
    k: k === undefined || k === 'auto' ? 'auto' : integer(k, 'k', 1),
    maxK: integer(values['max-k'] as string | undefined, 'max-k', 1),
    seed: integer(values.seed as string | undefined, 'seed', 0),
    restarts: integer(values.restarts as string | undefined, 'restarts', 1),
    features: list(values.features as string | undefined),
    exclude: list(values.exclude as string | undefined),
    weights,
    onSweep,
  };
}

function requestedPromotion(values: Record<string, unknown>): boolean | undefined {
  if (values['no-promote']) return false;
  if (values.promote) return true;
  return undefined;
}

const sweepProgress =
  (io: Output): TrainOptions['onSweep'] =>
  (e) =>
    io.err(`k = ${e.k}: inertia ${e.inertia.toFixed(2)}${e.silhouette === null ? '' : `, silhouette ${e.silhouette.toFixed(3)}`}`);

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0]!;
}

async function train(args: string[], io: Output): Promise<void> {
  const { values, positionals } = parse(args, TRAIN_OPTIONS);
  const file = one(positionals, 'CSV file');
  const options = trainOptions(values, sweepProgress(io));
  const store = modelStore(values.store);
  const csv = await readCustomerColumns(await openInput(file), { onProgress: (n) => io.err(`read ${n} rows`) });
  io.err(`${csv.rowsRead} rows read: ${csv.columns.length} accepted, ${csv.rejected.length} rejected`);
  const trainingData = trainingDataFromCsv(csv, basename(file));
  const model = trainModel(trainingData, options, new Date(), await activeModel(store));
  const { modelUri, promoted } = await publishModel(store, model, {
    promote: requestedPromotion(values),
    autoPromote: true,
    now: () => new Date(),
  });
  const reportUri = values['no-report']
    ? null
    : await (await import('../../shared/workflows/report.ts')).writeReport(store, model, trainingData.customers);
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
}

function outputPaths(file: string, out: string | undefined, storeRoot: string): Record<ResultName, string> {
  if (out !== undefined) {
    const stem = join(dirname(resolve(out)), basename(out, extname(out)));
    return { 'labeled.csv': resolve(out), 'rejects.csv': `${stem}.rejects.csv`, 'summary.json': `${stem}.summary.json` };
  }
  const dir = join(storeRoot, 'results', 'customers', basename(file, extname(file)));
  return { 'labeled.csv': join(dir, 'labeled.csv'), 'rejects.csv': join(dir, 'rejects.csv'), 'summary.json': join(dir, 'summary.json') };
}

async function assign(args: string[], io: Output): Promise<void> {
  const { values, positionals } = parse(args, { model: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' } });
  const file = one(positionals, 'CSV file');
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
  const input = await openInput(file); // fails early, with one line, when the file is missing
  const paths = outputPaths(file, values.out, store.root);
  // an earlier run's outputs must not survive beside a failed one (summary first: it says "ok")
  const writer = new FileResultWriter(paths);
  for (const name of ['summary.json', 'rejects.csv', 'labeled.csv'] as const) await writer.remove(name);
  let opened = 0;
  const onProgress = (n: number): void => io.err(`read ${n} rows`);
  const startedAt = new Date();
  const clock = (): Date => new Date();
  const { size } = await stat(file);
  const parallel = workers ?? (size >= PARALLEL_MIN_BYTES ? Math.min(availableParallelism(), MAX_WORKERS) : 1);
  const onParts = (parts: number): void => io.err(`labeling in ${parts} parts on worker threads`);
  const inParallel = await labelFileInParallel({
    path: file,
    model,
    workers: parallel,
    paths,
    writer,
    startedAt,
    clock,
    onProgress,
    onParts,
  });
  if (inParallel !== null) input.destroy();
  const summary =
    inParallel ??
    (await labelFile(
      { open: () => (opened++ === 0 ? input : createReadStream(file)), source: file, model, startedAt, clock, onProgress },
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
}

async function generate(args: string[], io: Output): Promise<void> {
  const { values } = parse(args, {
    rows: { type: 'string' },
    seed: { type: 'string' },
    'first-id': { type: 'string' },
    'age-shift': { type: 'string' },
    out: { type: 'string' },
  });
  const rows = integer(values.rows, 'rows', 0);
  if (rows === undefined) throw new UsageError('--rows is required');
  const ageShift = values['age-shift'] === undefined ? 0 : Number(values['age-shift']);
  if (!Number.isFinite(ageShift)) throw new InvalidOptionError('--age-shift must be a number of years');
  const chunks = generateCsv({
    rows,
    seed: integer(values.seed, 'seed', 0) ?? 1,
    firstId: integer(values['first-id'], 'first-id', 0) ?? 1,
    ageShift,
  });
  if (values.out === undefined) {
    for (const chunk of chunks) if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
    return;
  }
  await writeFileAtomic(values.out, chunks);
  io.err(`${rows} customers written to ${values.out}`);
}

async function db(args: string[], io: Output): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { ...TRAIN_OPTIONS, 'batch-size': { type: 'string' } });
  const store = modelStore(values.store);
  const database = await openDatabase(values.store, process.env.DATABASE_URL);
  try {
    const deps = databaseDeps(database.repo, store, io.err);
    switch (sub) {
      case 'migrate': {
        const applied = await database.repo.migrate();
        io.out(applied.length === 0 ? 'database is up to date' : `applied ${applied.join(', ')}`);
        return;
      }
      case 'load': {
        const file = one(positionals, 'CSV file');
        const csv = await readCustomerCsv(await openInput(file), { keepFields: false, onProgress: (n) => io.err(`read ${n} rows`) });
        const counts = await loadCustomers(csv, database.repo);
        io.out(
          `${csv.rowsRead} rows read: ${csv.accepted.length} accepted (${counts.inserted} new, ${counts.updated} changed, ${counts.unchanged} unchanged), ${csv.rejected.length} rejected`,
        );
        for (const r of csv.rejected.slice(0, 10)) io.out(`  line ${r.line}: ${r.reason}`);
        if (csv.rejected.length > 10) io.out(`  … and ${csv.rejected.length - 10} more`);
        return;
      }
      case 'train': {
        const outcome = await trainFromTable(deps, {
          ...trainOptions(values, sweepProgress(io)),
          promote: requestedPromotion(values),
          autoPromote: true,
          report: !values['no-report'],
        });
        if (values.json) {
          io.out(
            JSON.stringify({
              modelVersion: outcome.model.modelVersion,
              k: outcome.model.k,
              promoted: outcome.promoted,
              members: outcome.members,
              assign: outcome.assign,
            }),
          );
          return;
        }
        io.out(`model ${outcome.model.modelVersion}: k = ${outcome.model.k} (${outcome.model.metrics.sweep.rule})`);
        io.out(segmentTable(outcome.model));
        for (const warning of outcome.model.warnings) io.out(`warning: ${warning}`);
        io.out(`model: ${outcome.modelUri}${outcome.promoted ? ` (active; ${outcome.assign?.labeled ?? 0} customers labeled)` : ''}`);
        return;
      }
      case 'assign': {
        const outcome = await assignPending(deps, { batchSize: integer(values['batch-size'] as string | undefined, 'batch-size', 1) });
        if (values.json) io.out(JSON.stringify(outcome));
        else {
          if (outcome.status === 'labeled')
            io.out(`labeled ${outcome.labeled} customers with model ${outcome.modelVersion} (${outcome.outliers} outliers)`);
          if (outcome.drift?.retrainRecommended) io.out(`retrain recommended: ${outcome.drift.reasons.join('; ')}`);
        }
        return;
      }
      case 'status': {
        const status = await database.repo.status();
        const active = await store.getActive();
        if (values.json) {
          io.out(JSON.stringify({ activeModel: active?.modelVersion ?? null, ...status }));
          return;
        }
        io.out(`active model: ${active?.modelVersion ?? 'none'}`);
        io.out(
          `customers: ${status.customers} (${status.pending} never labeled); by origin: ${
            Object.entries(status.byOrigin)
              .map(([o, n]) => `${o} ${n}`)
              .join(', ') || 'none'
          }`,
        );
        io.out(
          renderTable(
            ['model', 'segment', 'name', 'customers', 'outliers'],
            status.bySegment.map((s) => [s.modelVersion, String(s.segment), s.name, String(s.customers), String(s.outliers)]),
          ),
        );
        const drift = status.lastDrift as Drift | null;
        if (drift) {
          const share = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
          io.out(
            `drift (latest nightly run): ${drift.assigned} assigned / ${drift.created} created (${share(drift.assignedShare)} assigned); outlier rate ${share(drift.outlierRate)} (training ${share(drift.trainingOutlierRate)}); PSI ${Object.entries(
              drift.psi,
            )
              .map(([f, v]) => `${f} ${v.toFixed(2)}`)
              .join(', ')}`,
          );
          io.out(drift.retrainRecommended ? `retrain recommended: ${drift.reasons.join('; ')}` : 'no retraining needed');
        }
        io.out('recent runs:');
        io.out(
          renderTable(
            ['started', 'kind', 'status', 'model', 'labeled', 'error'],
            status.lastRuns.map((r) => [
              r.startedAt,
              r.kind,
              r.status,
              r.modelVersion ?? '',
              r.labeled === null ? '' : String(r.labeled),
              r.error ?? '',
            ]),
          ),
        );
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'db needs a subcommand' : `unknown db subcommand "${sub}"`);
    }
  } finally {
    await database.close();
  }
}

async function exportCommand(args: string[], io: Output): Promise<void> {
  const { values } = parse(args, { segment: { type: 'string' }, model: { type: 'string' }, out: { type: 'string' } });
  if (values.segment === undefined) throw new UsageError('--segment <id|name> is required');
  const store = modelStore(values.store);
  const model = values.model === undefined ? await activeModel(store) : await store.getModel(values.model);
  if (model === null) throw new InvalidOptionError(`no active model in ${store.root}; train one first`);
  const segment = findSegment(model, values.segment);
  const path = resolve(values.out ?? join(store.root, 'results', 'exports', `segment-${segment.id}`, 'customers.csv'));
  const database = await openDatabase(values.store, process.env.DATABASE_URL);
  try {
    const outcome = await exportSegment(database.repo, model, values.segment, async (content) => {
      await writeFileAtomic(path, content);
      return path;
    });
    io.out(
      values.json
        ? JSON.stringify(outcome)
        : `${outcome.rows} customers of segment ${outcome.segment} ("${outcome.name}") written to ${outcome.uri}`,
    );
  } finally {
    await database.close();
  }
}

async function models(args: string[], io: Output): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {});
  const store = modelStore(values.store);
  switch (sub) {
    case 'list': {
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
      return;
    }
    case 'promote': {
      const pointer = await promoteModel(store, one(positionals, 'model version'), new Date());
      io.out(
        values.json
          ? JSON.stringify(pointer)
          : `active model: ${pointer.modelVersion} (previous: ${pointer.previous ?? 'none'}); the next nightly run relabels customers labeled by another model`,
      );
      return;
    }
    case 'rollback': {
      const pointer = await rollbackModel(store, new Date());
      io.out(
        values.json
          ? JSON.stringify(pointer)
          : `active model: ${pointer.modelVersion} (rolled back from ${pointer.previous}); the next nightly run relabels customers labeled by another model`,
      );
      return;
    }
    default:
      throw new UsageError(
        sub === undefined ? 'models needs a subcommand: list, promote <version> or rollback' : `unknown models subcommand "${sub}"`,
      );
  }
}

async function report(args: string[], io: Output): Promise<void> {
  const { values } = parse(args, { model: { type: 'string' }, open: { type: 'boolean' } });
  const store = modelStore(values.store);
  const version = values.model ?? (await store.getActive())?.modelVersion;
  if (version === undefined) throw new InvalidOptionError(`no active model in ${store.root}; train one first or name one with --model`);
  const model = await store.getModel(version);
  let path = store.reportPath(version);
  if (model.training.source === TABLE_SOURCE) {
    // trained from the table: render again with today's created / assigned shares
    const database = await openDatabase(values.store, process.env.DATABASE_URL);
    try {
      const customers = [];
      for await (const page of database.repo.readTrainingMembers(version)) customers.push(...page);
      const { tableStatsOf, writeReport } = await import('../../shared/workflows/report.ts');
      path = await writeReport(store, model, customers, tableStatsOf(await database.repo.status()));
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      io.err(`the table no longer holds every training customer of ${version}; showing the report written at training`);
    } finally {
      await database.close();
    }
  }
  if (!existsSync(path)) throw new NotFoundError(`model ${version} has no report (${path})`);
  io.out(path);
  if (values.open)
    spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [path], { detached: true, stdio: 'ignore' })
      .on('error', () => io.err(`open ${path} in a browser`))
      .unref();
}

const COMMANDS: Record<string, (args: string[], io: Output) => Promise<void>> = {
  train,
  report,
  models,
  export: exportCommand,
  assign,
  generate,
  db,
  demo: async (args, io) => {
    const { values } = parse(args, {});
    await runDemo(values.store, io);
  },
  preflight: async (args, io) => {
    const { PREFLIGHT_OPTIONS, preflight } = await import('./preflight.ts');
    const { values, positionals } = parse(args, PREFLIGHT_OPTIONS);
    if (positionals.length > 0) throw new UsageError('preflight takes no arguments');
    await preflight(values, io);
  },
  smoke: async (args, io) => {
    const { SMOKE_OPTIONS, smoke } = await import('./smoke.ts');
    const { values, positionals } = parse(args, SMOKE_OPTIONS);
    if (positionals.length > 0) throw new UsageError('smoke takes no arguments');
    await smoke(values, io);
  },
};

/** Runs one command line; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: Output = processOutput): Promise<number> {
  const [command, ...args] = argv;
  if (
    command === undefined ||
    command === 'help' ||
    command === '--help' ||
    command === '-h' ||
    args.includes('--help') ||
    args.includes('-h')
  ) {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"`);
    await run(args, io);
    return 0;
  } catch (error) {
    const known = error instanceof SegmentationError && error.userFacing;
    const firstLine = String((error as Error)?.message ?? error).split('\n')[0];
    io.err(`segments: ${known ? userMessage(error) : `unexpected error: ${firstLine}`}`);
    if (error instanceof UsageError) {
      io.err(`run "segments help" for usage`);
      return 2;
    }
    if (!known && process.env.SEGMENTS_DEBUG) io.err(String((error as Error)?.stack ?? error));
    return 1;
  }
}
