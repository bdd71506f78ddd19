// Training from the customers table: the model is trained inside the database (table-model.ts) and
// records its training members; when it is promoted the same run labels the table (members become
// `created`, everyone else `assigned`), and the report — drawn from the training's sample — shows the
// table's shares and who moved where from the previously active model.

import { randomUUID } from 'node:crypto';
import { LockHeldError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import type { Movement } from '../report/index.ts';
import { assignPending, type AssignOutcome, type DatabaseDeps } from './database.ts';
import { activeModel, publishModel } from './promote.ts';
import { trainInTable, type TableModel, type TableTrainingOptions } from './table-model.ts';

export interface TableTrainOptions extends TableTrainingOptions {
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
  return {
    status: 'locked',
    modelVersion: model.modelVersion,
    pending: 0,
    incomplete: 0,
    labeled: 0,
    outliers: 0,
    batches: 0,
    drift: null,
  };
}

/**
 * Trains from the customers table, inside the database (table-model.ts): the rows are copied once
 * for the run, and only the sample and aggregates reach this function. The model records its
 * training members — the copied rows still unchanged when training ends — and when it is promoted
 * the same run labels the table: members become `created`, everyone else `assigned`. The run's
 * copy is deleted once the members are recorded (and if the run fails).
 */
export async function trainFromTable(deps: DatabaseDeps, options: TableTrainOptions): Promise<TableTrainOutcome> {
  const { repo, store, log } = deps;
  // loaded while the database works (the charting library is large, and only reports need it)
  const reporting = options.report === false ? null : import('./report.ts');
  reporting?.catch(() => undefined);
  const previous = await activeModel(store);
  const runId = randomUUID();
  let trained: TableModel;
  let members: number;
  try {
    // the schema of the repository's table unless another is given
    trained = await trainInTable(repo, runId, { ...options, schema: options.schema ?? repo.schema }, deps.clock(), previous, log);
    // membership first, from the copy: once the model is promoted, the origin rule needs it
    members = await repo.recordMembers(trained.snapshot, trained.model.modelVersion);
    log(`recorded ${members} training members`);
  } finally {
    await repo.dropSnapshot(runId).catch(() => undefined);
  }
  const { model } = trained;
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
  if (reporting !== null) {
    const { writeSampleReport } = await reporting;
    const movement = previous === null || trained.movement === null ? null : movementFrom(previous, model, trained.movement);
    reportUri = await writeSampleReport(store, model, trained.sample, await repo.labelCounts(), movement);
  }
  await repo.recordRun(
    {
      kind: 'train',
      modelVersion: model.modelVersion,
      status: 'ok',
      rowsRead: model.training.rowsRead,
      rowsAccepted: model.training.rowsAccepted,
      rowsRejected: model.training.rowsRejected,
    },
    deps.clock(),
  );
  return { model, modelUri, reportUri, promoted, members, assign };
}

/** The report's "who moved where" from the counts the database gave (positions in each model's arrays). */
function movementFrom(previous: Model, next: Model, counts: number[][]): Movement {
  const brief = (m: Model) => m.segments.map((s) => ({ id: s.id, name: s.name }));
  return { previous: previous.modelVersion, from: brief(previous), to: brief(next), counts };
}
