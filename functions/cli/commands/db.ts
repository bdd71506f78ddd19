// `segments db …`: the customers table, on DATABASE_URL or the embedded server under the store —
// migrate, load a CSV, train from the table, the nightly assignment, and the table's status.

import { createReadStream } from 'node:fs';
import type { RejectedRow } from '../../../shared/csv/read-customers.ts';
import type { Drift } from '../../../shared/model/drift.ts';
import { uploadBatchRows, type Database } from '../../../shared/ports.ts';
import { assignPending } from '../../../shared/workflows/database.ts';
import { storeFile, type LabeledRowSink } from '../../../shared/workflows/label-file.ts';
import { trainFromTable } from '../../../shared/workflows/train-table.ts';
import { defineCommand, integer, jsonOption, SCHEMA_OPTION, STORE_OPTION } from '../command.ts';
import type { CliConfig } from '../config.ts';
import { databaseDeps, modelStore, openDatabase, type Output, type SchemaChoice } from '../context.ts';
import { openInput, readSchema } from '../io.ts';
import { renderTable, segmentTable } from '../table.ts';
import { requestedPromotion, TRAIN_OPTIONS, trainOptions } from './train.ts';

/** How many of a load's rejected rows are printed. */
const SHOWN_REJECTS = 10;
/**
 * Batches upserted at once: the local pool's connections (PgCustomerRepository opens 4), so that
 * the server works on several while the file is read.
 */
const LOAD_IN_FLIGHT = 4;

/**
 * Runs `work` on the database (DATABASE_URL, or the embedded server under the store), then closes
 * it; with a schema file, the customers table is brought to that schema first (see openDatabase).
 */
export async function withDatabase<T>(
  store: string | undefined,
  config: CliConfig,
  work: (repo: Database) => Promise<T>,
  choice: Omit<SchemaChoice, 'schema'> & { readonly schemaFile?: string } = {},
): Promise<T> {
  const schema = choice.schemaFile === undefined ? undefined : await readSchema(choice.schemaFile);
  const database = await openDatabase(store, config.databaseUrl, undefined, false, { ...choice, schema });
  try {
    return await work(database.repo);
  } finally {
    await database.close();
  }
}

export const dbMigrate = defineCommand({
  name: 'db migrate',
  args: [],
  summary: 'apply database migrations, and bring the customers table to a customer schema',
  options: {
    schema: SCHEMA_OPTION,
    'allow-drop': { type: 'boolean', help: 'let the schema change drop a column that holds values (they are lost)' },
    store: STORE_OPTION,
  },
  async run({ values }, { io, config }) {
    const changes: string[] = [];
    let applied: readonly string[] = [];
    // opening the database migrates it and brings the table to the schema: nothing is left to do then
    await withDatabase(values.store, config, async () => undefined, {
      schemaFile: values.schema,
      allowDrop: values['allow-drop'],
      onMigrated: (versions) => (applied = versions),
      onChange: (change) => changes.push(`customers table: ${change}`),
    });
    io.out(applied.length === 0 ? 'database is up to date' : `applied ${applied.join(', ')}`);
    for (const change of changes) io.out(change);
  },
});

export const dbLoad = defineCommand({
  name: 'db load',
  args: [{ name: 'csv' }],
  summary: 'upsert the customers of a CSV into the table (a changed customer loses its label)',
  options: { schema: SCHEMA_OPTION, store: STORE_OPTION },
  async run({ values, args: [file] }, { io, config }) {
    const input = await openInput(file!); // fails early, with one line, when the file is missing
    await withDatabase(
      values.store,
      config,
      async (repo) => {
        // the ingest function's pipeline without its outputs: a pass that settles the duplicate rule,
        // then the winning rows upserted in batches, several at once, as the file is read again
        const counts = { inserted: 0, updated: 0, unchanged: 0 };
        const sink: LabeledRowSink = {
          batchRows: uploadBatchRows(repo.schema),
          inFlight: LOAD_IN_FLIGHT,
          store: async (rows) => {
            const stored = await repo.upsertCustomers(rows.map((r) => r.customer));
            counts.inserted += stored.inserted;
            counts.updated += stored.updated;
            counts.unchanged += stored.unchanged;
            return new Set<string>();
          },
        };
        const shown: RejectedRow[] = [];
        let rejected = 0;
        let opened = 0;
        const { state } = await storeFile({
          open: () => (opened++ === 0 ? input : createReadStream(file!)),
          model: null,
          schema: repo.schema,
          sink,
          onReject: (row) => {
            if (rejected++ < SHOWN_REJECTS) shown.push(row);
          },
          onProgress: (n) => io.err(`read ${n} rows`),
        });
        io.out(
          `${state.rowsRead} rows read: ${state.labeled} accepted (${counts.inserted} new, ${counts.updated} changed, ${counts.unchanged} unchanged), ${rejected} rejected`,
        );
        for (const r of shown) io.out(`  line ${r.line}: ${r.reason}`);
        if (rejected > SHOWN_REJECTS) io.out(`  … and ${rejected - SHOWN_REJECTS} more`);
      },
      { schemaFile: values.schema, onChange: (change) => io.err(`customers table: ${change}`) },
    );
  },
});

export const dbTrain = defineCommand({
  name: 'db train',
  args: [],
  summary: "train from the table; when promoted, its customers become 'created', the others 'assigned'",
  options: { ...TRAIN_OPTIONS, store: STORE_OPTION, json: jsonOption('the model version, k, promotion and labeling') },
  async run({ values }, { io, config }) {
    const options = trainOptions(values, io);
    const outcome = await withDatabase(
      values.store,
      config,
      (repo) =>
        trainFromTable(databaseDeps(repo, modelStore(values.store), io.err), {
          ...options,
          promote: requestedPromotion(values),
          autoPromote: true,
          report: !values['no-report'],
        }),
      { schemaFile: values.schema, onChange: (change) => io.err(`customers table: ${change}`) },
    );
    if (values.json) {
      const { model, promoted, members, assign } = outcome;
      io.out(JSON.stringify({ modelVersion: model.modelVersion, k: model.k, promoted, members, assign }));
      return;
    }
    io.out(`model ${outcome.model.modelVersion}: k = ${outcome.model.k} (${outcome.model.metrics.sweep.rule})`);
    io.out(segmentTable(outcome.model));
    for (const warning of outcome.model.warnings) io.out(`warning: ${warning}`);
    io.out(`model: ${outcome.modelUri}${outcome.promoted ? ` (active; ${outcome.assign?.labeled ?? 0} customers labeled)` : ''}`);
  },
});

export const dbAssign = defineCommand({
  name: 'db assign',
  args: [],
  summary: 'the nightly job: label pending customers with the active model, and check drift',
  options: {
    'batch-size': { type: 'string', value: '<n>', help: 'customers labeled per statement (default 50,000)' },
    store: STORE_OPTION,
    json: jsonOption('the outcome'),
  },
  async run({ values }, { io, config }) {
    const batchSize = integer(values['batch-size'], 'batch-size', 1);
    const outcome = await withDatabase(values.store, config, (repo) =>
      assignPending(databaseDeps(repo, modelStore(values.store), io.err), { batchSize }),
    );
    if (values.json) {
      io.out(JSON.stringify(outcome));
      return;
    }
    if (outcome.status === 'labeled')
      io.out(`labeled ${outcome.labeled} customers with model ${outcome.modelVersion} (${outcome.outliers} outliers)`);
    if (outcome.drift?.retrainRecommended) io.out(`retrain recommended: ${outcome.drift.reasons.join('; ')}`);
  },
});

const share = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);

function driftLines(drift: Drift): string[] {
  const psi = Object.entries(drift.psi)
    .map(([f, v]) => `${f} ${v.toFixed(2)}`)
    .join(', ');
  return [
    `drift (latest nightly run): ${drift.assigned} assigned / ${drift.created} created (${share(drift.assignedShare)} assigned); outlier rate ${share(drift.outlierRate)} (training ${share(drift.trainingOutlierRate)}); PSI ${psi}`,
    drift.retrainRecommended ? `retrain recommended: ${drift.reasons.join('; ')}` : 'no retraining needed',
  ];
}

export const dbStatus = defineCommand({
  name: 'db status',
  args: [],
  summary: 'customers, labels, drift and recent runs',
  options: { store: STORE_OPTION, json: jsonOption('the status') },
  async run({ values }, { io, config }) {
    const status = await withDatabase(values.store, config, (repo) => repo.status());
    const active = await modelStore(values.store).getActive();
    if (values.json) {
      io.out(JSON.stringify({ activeModel: active?.modelVersion ?? null, ...status }));
      return;
    }
    const origins = Object.entries(status.byOrigin)
      .map(([o, n]) => `${o} ${n}`)
      .join(', ');
    io.out(`active model: ${active?.modelVersion ?? 'none'}`);
    io.out(`customers: ${status.customers} (${status.unlabeled} never labeled); by origin: ${origins || 'none'}`);
    io.out(
      renderTable(
        ['model', 'segment', 'name', 'customers', 'outliers'],
        status.bySegment.map((s) => [s.modelVersion, String(s.segment), s.name, String(s.customers), String(s.outliers)]),
      ),
    );
    if (status.lastDrift) for (const line of driftLines(status.lastDrift)) io.out(line);
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
  },
});
