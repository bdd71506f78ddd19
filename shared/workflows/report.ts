// Writing a model's report: rendered from the model and its training customers (plus the table's
// label counts when the caller has the table), stored beside model.json.

import type { Customers } from '../csv/columns.ts';
import type { Model } from '../model/artifact.ts';
import type { ModelStore } from '../ports.ts';
import { renderReport, type Movement, type TableStats } from '../report/index.ts';
import { assignCustomers } from '../model/assign.ts';
import type { TableStatus } from '../sql/customer-repository.ts';

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

/** Where customers went from the previous model's segments to the new model's. */
export function movementOf(previous: Model, next: Model, customers: Customers): Movement {
  const before = assignCustomers(customers, previous);
  const after = assignCustomers(customers, next);
  const counts = previous.segments.map(() => next.segments.map(() => 0));
  before.forEach((b, i) => counts[b.index]![after[i]!.index]!++);
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
