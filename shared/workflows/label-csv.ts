// Labeling a customers CSV with a model: read and validate → nearest centroid → labeled.csv,
// rejects.csv and summary.json through a ResultWriter. Rows read = accepted + rejected, always.

import { stringify } from 'csv-stringify/sync';
import type { AcceptedRow, CustomerCsv, RejectedRow } from '../csv/read-customers.ts';
import type { HeaderMap } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import { assignCustomers, unassignableReason, type Assignment } from '../model/assign.ts';
import type { ResultWriter } from '../ports.ts';
import type { LabelSummary } from './summary.ts';

export const LABEL_COLUMNS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'] as const;
const DISTANCE_DECIMALS = 6;
const ROWS_PER_CHUNK = 10_000;
export const NO_ACTIVE_MODEL_WARNING = 'no active model: customers were validated but not labeled; train and promote a model';

async function* csvChunks<T>(header: string[], rows: readonly T[], toFields: (row: T) => string[]): AsyncGenerator<string> {
  yield stringify([header]);
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    yield stringify(rows.slice(start, start + ROWS_PER_CHUNK).map(toFields));
  }
}

function passThroughHeader(header: HeaderMap): string[] {
  return header.passThrough.map((i) => header.columns[i]!);
}

export interface LabelCsvInput {
  readonly csv: CustomerCsv;
  readonly source: string;
  /** The model to label with; null when none is active (rows are validated, not labeled). */
  readonly model: Model | null;
  readonly startedAt: Date;
  readonly clock: () => Date;
}

/** Labels an already-read CSV and writes its three outputs; returns the summary written. */
export async function labelCsv(input: LabelCsvInput, writer: ResultWriter): Promise<LabelSummary> {
  const { csv, model } = input;
  const rejected: RejectedRow[] = [...csv.rejected];
  const labeled: { row: AcceptedRow; assignment: Assignment | null }[] = [];
  const segments: Record<string, number> = {};
  let outliers = 0;
  if (model !== null) {
    const assignable = csv.accepted.filter((row) => {
      const reason = unassignableReason(row.customer, model);
      if (reason !== undefined) rejected.push({ line: row.line, customerId: row.customer.customerId, reason, fields: row.fields });
      return reason === undefined;
    });
    const assignments = assignCustomers(assignable.map((r) => r.customer), model);
    assignable.forEach((row, i) => {
      const assignment = assignments[i]!;
      labeled.push({ row, assignment });
      segments[assignment.segment] = (segments[assignment.segment] ?? 0) + 1;
      if (assignment.isOutlier) outliers++;
    });
    rejected.sort((a, b) => a.line - b.line);
  } else {
    for (const row of csv.accepted) labeled.push({ row, assignment: null });
  }
  const passThrough = passThroughHeader(csv.header);
  await writer.write(
    'labeled.csv',
    csvChunks([...passThrough, ...LABEL_COLUMNS], labeled, ({ row, assignment }) => [
      ...csv.header.passThrough.map((i) => row.fields[i] ?? ''),
      ...(model === null || assignment === null
        ? ['', '', '', '', '', '']
        : [
            String(assignment.segment),
            model.segments[assignment.segment]!.name,
            'assigned',
            assignment.distance.toFixed(DISTANCE_DECIMALS),
            String(assignment.isOutlier),
            model.modelVersion,
          ]),
    ]),
  );
  await writer.write(
    'rejects.csv',
    csvChunks(['line', 'customer_id', 'reason', ...csv.header.columns], rejected, (r) => [
      String(r.line),
      r.customerId,
      r.reason,
      ...r.fields,
    ]),
  );
  const summary: LabelSummary = {
    status: 'ok',
    error: null,
    warnings: model === null ? [NO_ACTIVE_MODEL_WARNING] : [],
    source: input.source,
    modelVersion: model?.modelVersion ?? null,
    rowsRead: csv.rowsRead,
    rowsAccepted: csv.rowsRead - rejected.length,
    rowsRejected: rejected.length,
    duplicates: csv.duplicates,
    segments,
    outliers,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.clock().toISOString(),
  };
  await writer.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
