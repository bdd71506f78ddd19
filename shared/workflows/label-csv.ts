// Labeling a customers CSV with a model: nearest centroid for every accepted row, then
// labeled.csv, rejects.csv and summary.json through a ResultWriter. Rows read = accepted + rejected.

import { csvField, csvRecord } from '../csv/write.ts';
import type { HeaderMap } from '../csv/contract.ts';
import type { AcceptedRow, CustomerCsv, RejectedRow } from '../csv/read-customers.ts';
import type { Model } from '../model/artifact.ts';
import { assignCustomers, unassignableReason, type Assignment } from '../model/assign.ts';
import type { ResultWriter } from '../ports.ts';
import type { LabelSummary } from './summary.ts';

export const LABEL_COLUMNS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'] as const;
const DISTANCE_DECIMALS = 6;
const ROWS_PER_CHUNK = 10_000;
export const NO_ACTIVE_MODEL_WARNING = 'no active model: customers were validated but not labeled; train and promote a model';

/** Accepted rows with their labels (null when there is no model), and every rejected row. */
export interface LabeledRows {
  readonly model: Model | null;
  readonly labeled: ReadonlyArray<{ readonly row: AcceptedRow; readonly assignment: Assignment | null }>;
  readonly rejected: readonly RejectedRow[];
  readonly segments: Readonly<Record<string, number>>;
  readonly outliers: number;
}

/** Labels the accepted rows; a row the model cannot take (an unseen category) becomes a reject. */
export function labelRows(csv: CustomerCsv, model: Model | null): LabeledRows {
  if (model === null) {
    return { model, labeled: csv.accepted.map((row) => ({ row, assignment: null })), rejected: csv.rejected, segments: {}, outliers: 0 };
  }
  const rejected: RejectedRow[] = [...csv.rejected];
  const assignable = csv.accepted.filter((row) => {
    const reason = unassignableReason(row.customer, model);
    if (reason !== undefined) rejected.push({ line: row.line, customerId: row.customer.customerId, reason, fields: row.fields });
    return reason === undefined;
  });
  rejected.sort((a, b) => a.line - b.line);
  const assignments = assignCustomers(
    assignable.map((r) => r.customer),
    model,
  );
  const segments: Record<string, number> = {};
  let outliers = 0;
  const labeled = assignable.map((row, i) => {
    const assignment = assignments[i]!;
    segments[assignment.segment] = (segments[assignment.segment] ?? 0) + 1;
    if (assignment.isOutlier) outliers++;
    return { row, assignment };
  });
  return { model, labeled, rejected, segments, outliers };
}

/** A header line, then the rows as lines in chunks of ROWS_PER_CHUNK. */
async function* textChunks<T>(headerLine: string, rows: readonly T[], toLine: (row: T) => string): AsyncGenerator<string> {
  yield headerLine;
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    let text = '';
    for (const row of rows.slice(start, start + ROWS_PER_CHUNK)) text += `${toLine(row)}\n`;
    yield text;
  }
}

export interface LabelOutputInput {
  readonly csv: CustomerCsv;
  readonly result: LabeledRows;
  readonly source: string;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly warnings?: readonly string[];
  /** Origin of each label (the origin rule); 'assigned' unless the caller knows training membership. */
  readonly originOf?: (customerId: string) => 'created' | 'assigned';
}

/** Header of labeled.csv: the input's columns (less old label columns), then the label columns. */
export function labeledHeader(header: HeaderMap): string[] {
  return [...header.passThrough.map((i) => header.columns[i]!), ...LABEL_COLUMNS];
}

/** labeled.csv's header line, line end included. */
export function labeledHeaderLine(header: HeaderMap): string {
  return `${csvRecord(labeledHeader(header))}\n`;
}

/**
 * labeled.csv lines for one file and model: the input's pass-through fields, then the label
 * columns. The label columns other than the distance depend only on the segment, the outlier flag
 * and the origin, so they are quoted once per model rather than once per row.
 */
export class LabeledLines {
  private readonly suffixes: Array<readonly [string, string] | undefined> = [];

  constructor(
    private readonly header: HeaderMap,
    private readonly model: Model,
  ) {}

  /** One labeled.csv line (no line end). */
  line(fields: readonly string[], assignment: Assignment, origin: 'created' | 'assigned'): string {
    const { passThrough } = this.header;
    let line = '';
    for (let i = 0; i < passThrough.length; i++) line += `${csvField(fields[passThrough[i]!] ?? '')},`;
    const [beforeDistance, afterDistance] = this.suffix(assignment, origin);
    return `${line}${beforeDistance}${assignment.distance.toFixed(DISTANCE_DECIMALS)}${afterDistance}`;
  }

  private suffix(assignment: Assignment, origin: 'created' | 'assigned'): readonly [string, string] {
    const key = assignment.index * 4 + (origin === 'created' ? 2 : 0) + (assignment.isOutlier ? 1 : 0);
    let suffix = this.suffixes[key];
    if (suffix === undefined) {
      const segment = this.model.segments[assignment.index]!;
      suffix = [
        `${csvRecord([String(segment.id), segment.name, origin])},`,
        `,${csvRecord([String(assignment.isOutlier), this.model.modelVersion])}`,
      ];
      this.suffixes[key] = suffix;
    }
    return suffix;
  }
}

/** Writes rejects.csv: line, customer_id, reason, then the original fields, in line order. */
export async function writeRejects(writer: ResultWriter, header: HeaderMap, rejected: readonly RejectedRow[]): Promise<void> {
  await writer.write(
    'rejects.csv',
    textChunks(`${csvRecord(['line', 'customer_id', 'reason', ...header.columns])}\n`, rejected, (r) =>
      csvRecord([String(r.line), r.customerId, r.reason, ...r.fields]),
    ),
  );
}

/** Writes summary.json (last of the three, so a summary means the run finished). */
export async function writeSummary(writer: ResultWriter, summary: LabelSummary): Promise<LabelSummary> {
  await writer.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Writes labeled.csv, rejects.csv, then summary.json (last, so a summary means the run finished). */
export async function writeLabelOutputs(input: LabelOutputInput, writer: ResultWriter): Promise<LabelSummary> {
  const { csv, result } = input;
  const { model } = result;
  const header = csv.header;
  const noLabel = LABEL_COLUMNS.map(() => '');
  const lines = model === null ? null : new LabeledLines(header, model);
  await writer.write(
    'labeled.csv',
    textChunks(labeledHeaderLine(header), result.labeled, ({ row, assignment }) =>
      lines === null || assignment === null
        ? csvRecord([...header.passThrough.map((i) => row.fields[i] ?? ''), ...noLabel])
        : lines.line(row.fields, assignment, input.originOf?.(row.customer.customerId) ?? 'assigned'),
    ),
  );
  await writeRejects(writer, header, result.rejected);
  const summary: LabelSummary = {
    status: 'ok',
    error: null,
    warnings: [...(model === null ? [NO_ACTIVE_MODEL_WARNING] : []), ...(input.warnings ?? [])],
    source: input.source,
    modelVersion: model?.modelVersion ?? null,
    rowsRead: csv.rowsRead,
    rowsAccepted: result.labeled.length,
    rowsRejected: result.rejected.length,
    duplicates: csv.duplicates,
    segments: result.segments,
    outliers: result.outliers,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.clock().toISOString(),
  };
  return await writeSummary(writer, summary);
}
