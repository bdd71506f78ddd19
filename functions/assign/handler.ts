// Assign function (the nightly EventBridge schedule, or {} by hand): labels pending customers
// with the active model inside Aurora, in bounded batches, under a lease; emits metrics.

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../shared/metrics.ts';
import { maxPsi } from '../../shared/model/drift.ts';
import { assignPending, type AssignOutcome } from '../../shared/workflows/database.ts';
import { AssignEventSchema } from '../events.ts';
import { observedHandler, type Handler } from '../invocation.ts';
import { handlerFromEnv, type Runtime } from '../runtime.ts';

/** What the assign function returns for one event. */
export type AssignResponse = (AssignOutcome & { durationMs: number }) | { status: 'failed'; error: string };

/** The handler over `runtime` (tests pass one on local services); takes (event, context). */
export function createAssignHandler(runtime: Runtime): Handler<unknown, AssignResponse> {
  return observedHandler(runtime, async (event: unknown): Promise<AssignResponse> => {
    if (!AssignEventSchema.safeParse(event ?? {}).success) {
      // a mistaken manual invocation: say so, and do not let Lambda retry it or raise the alarm
      const error = 'the assign function takes the scheduled event or {}';
      runtime.logger.error('assign request refused', { error });
      return { status: 'failed', error };
    }
    const started = runtime.clock().getTime();
    const outcome = await assignPending({
      repo: runtime.repo,
      store: runtime.store,
      clock: runtime.clock,
      log: (message) => runtime.logger.info(message),
    });
    const durationMs = runtime.clock().getTime() - started;
    runtime.metrics.addMetric(METRIC.pending, MetricUnit.Count, outcome.pending);
    runtime.metrics.addMetric(METRIC.labeled, MetricUnit.Count, outcome.labeled);
    runtime.metrics.addMetric(METRIC.outliers, MetricUnit.Count, outcome.outliers);
    runtime.metrics.addMetric(METRIC.durationMs, MetricUnit.Milliseconds, durationMs);
    // a run that found nothing to do (or no model yet) succeeded too; only a lost lease race did not run
    if (outcome.status !== 'locked') runtime.metrics.addMetric(METRIC.successfulRuns, MetricUnit.Count, 1);
    const { drift } = outcome;
    if (drift !== null) {
      runtime.metrics.addMetric(METRIC.maxPsi, MetricUnit.NoUnit, maxPsi(drift));
      if (drift.outlierRate !== null) runtime.metrics.addMetric(METRIC.assignedOutlierRate, MetricUnit.Percent, drift.outlierRate * 100);
      if (drift.assignedShare !== null) runtime.metrics.addMetric(METRIC.assignedShare, MetricUnit.Percent, drift.assignedShare * 100);
      runtime.metrics.addMetric(METRIC.retrainRecommended, MetricUnit.Count, drift.retrainRecommended ? 1 : 0);
    }
    runtime.logger.info('assign finished', { ...outcome, durationMs });
    return { ...outcome, durationMs };
  });
}

export const handler = handlerFromEnv(createAssignHandler);
