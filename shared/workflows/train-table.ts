// Training from the customers table: the model records its training members; when it is promoted
// the same run labels the table (members become `created`, everyone else `assigned`), and the
// report shows the table's shares and who moved where from the previously active model.

import { LockHeldError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import { assignPending, TABLE_SOURCE, type AssignOutcome, type DatabaseDeps } from './database.ts';
import { activeModel, publishModel } from './promote.ts';
import { trainModel, type TrainOptions } from './train.ts';

export interface TableTrainOptions extends TrainOptions {
  /** Promote explicitly (true/false); undefined follows `autoPromote`. */
  readonly promote?: boolean;
  readonly autoPromote: boolean;
  /** Render report.html beside the model (default true). */
  readonly report?: boolean;
}

export interface TableTrainOutcome {
  readonly model: Model;
  readonly modelUri: string;
  readonly reportUri: string | null;
  readonly promoted: boolean;
  readonly members: number;
  readonly assign: AssignOutcome | null;
}

/** A nightly run holding the lease (or taking it midway) is not a failure of training: it labels later. */
function lostLease(error: unknown, model: Model): AssignOutcome {
  if (!(error instanceof LockHeldError)) throw error;
  return { status: 'locked', modelVersion: model.modelVersion, pending: 0, labeled: 0, outliers: 0, batches: 0, drift: null };
}

/**
 * Trains from the customers table. The model records its training members; when it is promoted,
 * the same run labels the table — members become `created`, everyone else `assigned`.
 */
export async function trainFromTable(deps: DatabaseDeps, options: TableTrainOptions): Promise<TableTrainOutcome> {
  const { repo, store, log } = deps;
  const customers = [];
  for await (const page of repo.readCustomers()) {
    customers.push(...page);
    log(`read ${customers.length} customers from the table`);
  }
  const previous = await activeModel(store);
  const model = trainModel(
    { source: TABLE_SOURCE, customers, rowsRead: customers.length, rowsRejected: 0, duplicates: 0 },
    options,
    deps.clock(),
    previous,
  );
  // membership first, exactly the customers read: once the model is promoted, the origin rule needs it
  const members = await repo.recordTrainingMembers(
    model.modelVersion,
    customers.map((c) => c.customerId),
  );
  const { modelUri, promoted } = await publishModel(store, model, {
    promote: options.promote,
    autoPromote: options.autoPromote,
    now: deps.clock,
  });
  // when the nightly run holds the lease, it labels nothing now: the next nightly run will (the new
  // model is active); the outcome says 'locked' rather than failing, so a retry does not train again
  const assign = promoted ? await assignPending(deps).catch((error: unknown) => lostLease(error, model)) : null;
  // the report goes last, so its created / assigned shares describe the table after labeling
  let reportUri: string | null = null;
  if (options.report !== false) {
    // loaded on demand: the charting library is large, and only reports need it
    const { movementOf, tableStatsOf, writeReport } = await import('./report.ts');
    const movement = previous === null ? null : movementOf(previous, model, customers);
    reportUri = await writeReport(store, model, customers, tableStatsOf(await repo.status()), movement);
  }
  await repo.recordRun(
    {
      kind: 'train',
      modelVersion: model.modelVersion,
      status: 'ok',
      rowsRead: customers.length,
      rowsAccepted: customers.length,
      rowsRejected: 0,
    },
    deps.clock(),
  );
  return { model, modelUri, reportUri, promoted, members, assign };
}
