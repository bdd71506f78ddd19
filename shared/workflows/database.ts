// Workflows against the customers table: load a CSV, and the nightly assignment of pending
// customers in bounded in-database batches (training from the table is in train-table.ts).

import { randomUUID } from 'node:crypto';
import type { CustomerCsv } from '../csv/read-customers.ts';
import { LockHeldError, ModelError, SegmentationError, userMessage } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import { assessDrift, type Drift } from '../model/drift.ts';
import type {
  ColumnCheck,
  CustomerRepository,
  LeaseLock,
  ModelStore,
  RunLog,
  TableStatusReader,
  TableTraining,
  TrainingMembers,
  UpsertCounts,
} from '../ports.ts';

/** What the nightly assignment needs: the customers, the lease and the run log. */
export interface AssignDeps {
  readonly repo: CustomerRepository & LeaseLock & RunLog;
  readonly store: ModelStore;
  readonly clock: () => Date;
  /** Progress and notices for a person (stderr in the CLI, the logger in Lambda). */
  readonly log: (message: string) => void;
}

/** What training from the table needs besides: the statements that train in the table, its training members, and the status for the report. */
export interface DatabaseDeps extends AssignDeps {
  readonly repo: AssignDeps['repo'] & TableTraining & TrainingMembers & TableStatusReader;
}

export const NIGHTLY_LOCK = 'nightly-assign';
const DEFAULT_BATCH_SIZE = 50_000;
/**
 * Labeling statements run at once (labelAll's lanes). Measured on 10^6 wholesale customers, pg on 2
 * cores shared with other work: one lane 21.8-23.0 s, two lanes 14.4-17.1 s (wall).
 */
const LANES = 2;
const DEFAULT_LEASE_SECONDS = 600;
export const TABLE_SOURCE = 'table customers';

/** Upserts a file's accepted customers; rejected rows are the caller's to report. */
export async function loadCustomers(csv: CustomerCsv, repo: CustomerRepository): Promise<UpsertCounts> {
  return await repo.upsertCustomers(csv.accepted.map((r) => r.customer));
}

export interface AssignOutcome {
  readonly status: 'labeled' | 'no-new-customers' | 'no-active-model' | 'locked';
  readonly modelVersion: string | null;
  /** Customers the run could label: never labeled, or labeled by another model. */
  readonly pending: number;
  /**
   * Customers waiting too, but with a NULL in a column the model uses (stored before the column
   * was added): not labelable until their values are uploaded again. Logged, never silently left.
   */
  readonly incomplete: number;
  readonly labeled: number;
  readonly outliers: number;
  readonly batches: number;
  /** How the customers the active model serves compare with its training population. */
  readonly drift: Drift | null;
}

export interface AssignOptions {
  readonly batchSize?: number;
  readonly leaseSeconds?: number;
  readonly owner?: string;
}

/**
 * The nightly job: take the lease, check that the table still has the columns the active model
 * uses, count pending customers (never labeled, or labeled by a model other than the active one;
 * those with a NULL in a column it uses apart), label them in the database batch by batch, record
 * the run. Interrupted halfway, it loses nothing: labeled rows are no longer pending, the rest wait.
 */
export async function assignPending(deps: AssignDeps, options: AssignOptions = {}): Promise<AssignOutcome> {
  const { repo, store, log } = deps;
  const owner = options.owner ?? randomUUID();
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const startedAt = deps.clock();
  // one record per run: a retried insert, or the failure record after an ok record whose call
  // failed in transit, finds the key taken
  const runKey = `assign:${owner}`;
  if (!(await repo.acquireLease(NIGHTLY_LOCK, owner, leaseSeconds))) {
    log('another assignment run holds the lock; nothing to do');
    return { status: 'locked', modelVersion: null, pending: 0, incomplete: 0, labeled: 0, outliers: 0, batches: 0, drift: null };
  }
  try {
    const active = await store.getActive();
    if (active === null) {
      log('no active model: nothing to assign with');
      await repo.recordRun({ kind: 'assign', modelVersion: null, status: 'skipped', error: 'no active model' }, startedAt, runKey);
      return {
        status: 'no-active-model',
        modelVersion: null,
        ...(await repo.countPending(null)),
        labeled: 0,
        outliers: 0,
        batches: 0,
        drift: null,
      };
    }
    const model = await store.getModel(active.modelVersion);
    const gone = await columnsGone(deps, model);
    const { pending, incomplete } = await repo.countPending(model);
    if (incomplete > 0) {
      log(
        `${incomplete} customer${incomplete === 1 ? ' is' : 's are'} not labeled: a NULL in a column model ${model.modelVersion} uses ` +
          `(stored before the column was added); upload ${incomplete === 1 ? 'its row' : 'their rows'} again to label ${incomplete === 1 ? 'it' : 'them'}`,
      );
    }
    if (pending === 0) {
      log('no new customers');
      const drift = await checkDrift(deps, model, gone);
      await repo.recordRun(
        { kind: 'assign', modelVersion: model.modelVersion, status: 'ok', labeled: 0, outliers: 0, drift },
        startedAt,
        runKey,
      );
      return {
        status: 'no-new-customers',
        modelVersion: model.modelVersion,
        pending,
        incomplete,
        labeled: 0,
        outliers: 0,
        batches: 0,
        drift,
      };
    }
    log(`${pending} pending customer${pending === 1 ? '' : 's'}; labeling with model ${model.modelVersion}`);
    const totals = await labelAll(deps, model, owner, leaseSeconds, batchSize, pending);
    const drift = await checkDrift(deps, model, gone);
    await repo.recordRun({ kind: 'assign', modelVersion: model.modelVersion, status: 'ok', ...totals, drift }, startedAt, runKey);
    return { status: 'labeled', modelVersion: model.modelVersion, pending, incomplete, ...totals, drift };
  } catch (error) {
    await repo
      .recordRun({ kind: 'assign', modelVersion: null, status: 'failed', error: runError(error) }, startedAt, runKey)
      .catch(() => undefined);
    throw error;
  } finally {
    await repo.releaseLease(NIGHTLY_LOCK, owner).catch(() => undefined);
  }
}

/**
 * What the runs table says of a failed run (`runs.error`): the message of the project's own errors
 * written for a person, else only the error's name and where the details are. A raw message (a
 * driver's, the SDK's) or a stack never goes into the table, which analysts read.
 */
function runError(error: unknown): string {
  if (error instanceof SegmentationError && error.userFacing) return userMessage(error);
  return `unexpected error: ${error instanceof Error ? error.name : typeof error} (details in the log)`;
}

/** `a`, `a and b`, `a, b and c`. */
const listed = (names: readonly string[]): string =>
  names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;

/**
 * Checks the table's columns against what the model reads (information_schema, one statement). A
 * feature column of the model that is gone (dropped or renamed since it was trained) or holds
 * another kind of values ends the run: a ModelError in one line saying to retrain. The other
 * columns of its drift baseline that are gone are returned: its drift leaves them out.
 */
async function columnsGone(deps: AssignDeps, model: Model): Promise<ReadonlySet<string>> {
  const used = new Map<string, ColumnCheck>(model.features.map((f) => [f.name, { name: f.name, kind: f.kind }]));
  const checks = [...used.values()];
  for (const name of Object.keys(model.baseline.bins)) if (!used.has(name)) checks.push({ name, kind: 'numeric' });
  for (const name of Object.keys(model.baseline.categories ?? {})) if (!used.has(name)) checks.push({ name, kind: 'categorical' });
  const { missing, retyped } = await deps.repo.checkColumns(checks);
  const missingUsed = missing.filter((name) => used.has(name));
  const retypedUsed = retyped.filter((name) => used.has(name));
  if (missingUsed.length > 0 || retypedUsed.length > 0) {
    const plural = (names: readonly string[], one: string, many: string) =>
      `column${names.length > 1 ? 's' : ''} ${listed(names)} ${names.length > 1 ? many : one}`;
    const problems = [
      ...(missingUsed.length > 0
        ? [plural(missingUsed, 'is', 'are') + ' no longer in the table (dropped or renamed since it was trained)']
        : []),
      ...(retypedUsed.length > 0 ? [plural(retypedUsed, 'holds', 'hold') + ' another kind of values than it was trained on'] : []),
    ];
    throw new ModelError(
      `the active model ${model.modelVersion} cannot label the customers table: ${problems.join('; ')}; retrain on the table's current columns (or promote a model trained on them)`,
    );
  }
  const gone = new Set([...missing, ...retyped]);
  if (gone.size > 0) deps.log(`drift leaves out ${listed([...gone])}: no longer a column of the customers table as the model knew it`);
  return gone;
}

/** Drift of the active model's population against its training baseline (but the fields in `omit`); says when to retrain. */
async function checkDrift(deps: AssignDeps, model: Model, omit: ReadonlySet<string>): Promise<Drift> {
  const drift = assessDrift(model.baseline, await deps.repo.observePopulation(model, omit));
  if (drift.retrainRecommended) deps.log(`retrain recommended: ${drift.reasons.join('; ')}`);
  return drift;
}

/**
 * Labels every pending customer in lanes: the pending customers' key range cut at their quantiles
 * (LANES parts when there are at least LANES batches' worth), each lane labeling its part batch by
 * batch while the others label theirs, so that the database works on several statements at once
 * (PostgreSQL runs each on one core). A lane renews the lease after each batch; when one fails (or
 * the lease is lost), the others stop after their statement, and the error is thrown once all have.
 */
async function labelAll(
  deps: AssignDeps,
  model: Model,
  owner: string,
  leaseSeconds: number,
  batchSize: number,
  pending: number,
): Promise<{ labeled: number; outliers: number; batches: number }> {
  const lanes = pending >= LANES * batchSize ? LANES : 1;
  const cuts: string[] = [];
  for (let l = 1; l < lanes; l++) {
    const key = await deps.repo.pendingKeyAt(model, Math.floor((pending * l) / lanes) - 1);
    if (key !== null) cuts.push(key);
  }
  let labeled = 0;
  let outliers = 0;
  let batches = 0;
  let stopped = false;
  const lane = async (from: string, until: string | undefined): Promise<void> => {
    let after = from;
    while (!stopped) {
      const batch = await deps.repo.labelNextBatch(model, after, batchSize, until);
      if (batch === null) return;
      labeled += batch.labeled;
      outliers += batch.outliers;
      batches++;
      after = batch.lastKey;
      deps.log(`labeled ${labeled} customers`);
      if (!(await deps.repo.acquireLease(NIGHTLY_LOCK, owner, leaseSeconds))) {
        throw new LockHeldError('the assignment lease was lost to another run; stopping (labeled rows are kept)');
      }
    }
  };
  const starts = ['', ...cuts];
  const outcomes = await Promise.allSettled(
    starts.map((from, l) =>
      lane(from, cuts[l]).catch((error: unknown) => {
        stopped = true;
        throw error;
      }),
    ),
  );
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return { labeled, outliers, batches };
}
