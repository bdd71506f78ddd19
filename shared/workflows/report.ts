// Writing a model's report: rendered from the model and its training customers (plus the table's
// label counts and who moved where when the model was trained from the table), stored beside
// model.json; and rendering a table-trained model's report again from the table as it is now.

import { columnsOf, type Customers } from '../csv/columns.ts';
import type { Customer } from '../csv/contract.ts';
import { NotFoundError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import type { ModelStore } from '../ports.ts';
import { renderReport, type Movement, type TableStats } from '../report/index.ts';
import { reportSchema } from '../report/schema-view.ts';
import { nearestCentroids, numericColumns } from '../model/assign.ts';
import { sampleOrder } from '../clustering/sample-order.ts';
import { REPORT_SAMPLE_ROWS } from './table-model.ts';
import type { ColumnCheck, TableStatus } from '../ports.ts';
import type { CustomerSchema } from '../schema/customer-schema.ts';

/** The report's table figures from the table status. */
export function tableStatsOf(status: TableStatus): TableStats {
  const outliers = status.bySegment.reduce((sum, s) => sum + s.outliers, 0);
  return {
    created: status.byOrigin.created ?? 0,
    assigned: status.byOrigin.assigned ?? 0,
    unlabeled: status.byOrigin.unlabeled ?? 0,
    outliers,
    total: status.customers,
  };
}

/**
 * Where customers went from the previous model's segments to the new model's. Customers held as
 * objects are read with the new model's customer schema.
 */
export function movementOf(previous: Model, next: Model, customers: Customers): Movement {
  const columns = columnsOf(customers, reportSchema(next, customers));
  const values = numericColumns(columns);
  const before = nearestCentroids(columns, previous, { values }).index;
  const after = nearestCentroids(columns, next, { values }).index;
  const counts = previous.segments.map(() => next.segments.map(() => 0));
  for (let i = 0; i < before.length; i++) counts[before[i]!]![after[i]!]!++;
  const brief = (m: Model) => m.segments.map((s) => ({ id: s.id, name: s.name }));
  return { previous: previous.modelVersion, from: brief(previous), to: brief(next), counts };
}

/** Renders and stores `report.html` for a model; returns where it went. */
export async function writeReport(
  store: ModelStore,
  model: Model,
  customers: Customers,
  tableStats: TableStats | null = null,
  movement: Movement | null = null,
): Promise<string> {
  return await store.putReport(model.modelVersion, await renderReport({ model, customers, tableStats, movement }));
}

/**
 * Renders and stores `report.html` for a model trained from the table, from its training's sample
 * (the first rows of the sample order the sweep and the restarts ran on): every customer when the
 * sample is all of them.
 */
export async function writeSampleReport(
  store: ModelStore,
  model: Model,
  sample: readonly Customer[],
  tableStats: TableStats | null,
  movement: Movement | null,
): Promise<string> {
  if (sample.length === model.training.rowsAccepted) return await writeReport(store, model, sample, tableStats, movement);
  return await store.putReport(
    model.modelVersion,
    await renderReport({ model, customers: sample, tableStats, movement, sampleOf: model.training.rowsAccepted }),
  );
}

/** What rendering a table-trained model's report again reads from the table. */
export interface TrainingTable {
  /** The current rows of the model's training customers, page by page, with the features of `schema`. */
  readTrainingMembers(modelVersion: string, schema: CustomerSchema): AsyncIterable<readonly Customer[]>;
  /** Which of these feature columns are gone from the table, or hold another kind of values. */
  checkColumns(features: readonly ColumnCheck[]): Promise<{ missing: string[]; retyped: string[] }>;
  status(): Promise<TableStatus>;
}

export type RewriteOutcome = { readonly written: true; readonly uri: string } | { readonly written: false; readonly reason: string };

/**
 * Renders a table-trained model's report again with the table's current created / assigned shares,
 * with the same "who moved where" section training wrote: from the model it was matched to
 * (`lineage.parent`, the active model at training) to this one. Drawn from the same sample as at
 * training (the first REPORT_SAMPLE_ROWS training customers of the sample order for the model's
 * seed), so an unchanged table gives the page training wrote. Leaves the stored report alone, and
 * says why, when the table no longer holds every training customer or the parent model is gone.
 */
export async function rewriteTableReport(store: ModelStore, table: TrainingTable, model: Model): Promise<RewriteOutcome> {
  // the rows as the model was trained on them: its schema's columns, which a schema change may have taken away
  const trainedWith = model.customerSchema;
  const { missing, retyped } = await table.checkColumns(trainedWith.features.map((f) => ({ name: f.name, kind: f.kind })));
  const changed = [...missing, ...retyped];
  if (changed.length > 0) {
    return {
      written: false,
      reason: `the customers table no longer has ${model.modelVersion}'s column${changed.length > 1 ? 's' : ''} ${changed.join(', ')} as it was trained on`,
    };
  }
  const customers: Customer[] = [];
  for await (const page of table.readTrainingMembers(model.modelVersion, trainedWith)) customers.push(...page);
  if (customers.length !== model.training.rowsAccepted) {
    return { written: false, reason: `the table no longer holds every training customer of ${model.modelVersion}` };
  }
  const parentVersion = model.lineage.parent;
  let parent: Model | null = null;
  if (parentVersion !== null) {
    try {
      parent = await store.getModel(parentVersion);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return { written: false, reason: `${parentVersion}, the model ${model.modelVersion} was matched to, is no longer stored` };
    }
  }
  // a parent trained before a schema change that dropped or retyped one of its features cannot label these rows
  const schema = reportSchema(model, customers);
  const readable = parent?.features.every((f) => schema.features.some((g) => g.name === f.name && g.kind === f.kind)) ?? false;
  const movement = parent === null || !readable ? null : movementOf(parent, model, customers);
  const order = sampleOrder(
    customers.map((c) => c.customerId),
    model.seed,
    Math.min(customers.length, REPORT_SAMPLE_ROWS),
  );
  const sample = Array.from(order, (row) => customers[row]!);
  return { written: true, uri: await writeSampleReport(store, model, sample, tableStatsOf(await table.status()), movement) };
}
