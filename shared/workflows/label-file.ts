// Labeling a customers file as a stream (CLI `segments assign`): rows are parsed, validated,
// labeled and written batch by batch, so memory does not grow with the rows' content. The
// duplicate rule (the later row wins) is settled at the end of the pass; only a file that has
// duplicates is read a second time, to write labeled.csv without the superseded rows. A pass can
// also run over a part of a file (the CLI labels a large local file in parallel parts).

import type { HeaderMap } from '../csv/contract.ts';
import { DuplicateFinder } from '../csv/duplicates.ts';
import { parseCustomerRecords, type RejectedRow } from '../csv/read-customers.ts';
import type { Model } from '../model/artifact.ts';
import { Assigner, unassignableReason } from '../model/assign.ts';
import type { ResultWriter } from '../ports.ts';
import { LabeledLines, labeledHeaderLine, writeRejects, writeSummary } from './label-csv.ts';
import type { LabelSummary } from './summary.ts';

export interface LabelFileInput {
  /** Opens the file from the start (called once, or twice when it has duplicate customer_ids). */
  readonly open: () => AsyncIterable<Uint8Array | string>;
  readonly source: string;
  readonly model: Model;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly onProgress?: (rowsRead: number) => void;
}

/** What one pass learns: counts and rejects; the first pass also records every customer_id. */
export interface PassState {
  header: HeaderMap | undefined;
  rowsRead: number;
  labeled: number;
  outliers: number;
  segments: Record<string, number>;
  rejected: RejectedRow[];
}

export interface PassOptions {
  readonly model: Model;
  /** line of a superseded row → line of the row that superseded it; null in the first pass */
  readonly known: ReadonlyMap<number, number> | null;
  /** the first pass records every customer_id here (for the duplicate rule) */
  readonly ids: DuplicateFinder | null;
  /** Write the labeled header line first (not for the later parts of a file labeled in parts). */
  readonly withHeader: boolean;
  /** Physical line of the source's header line (a part of a file is read after the file's header). */
  readonly firstLine?: number;
  readonly onProgress?: (rowsRead: number) => void;
}

const PROGRESS_EVERY = 100_000;

export function freshState(): PassState {
  return { header: undefined, rowsRead: 0, labeled: 0, outliers: 0, segments: {}, rejected: [] };
}

/**
 * One pass over a customers file, or over its header and a later part of it: labeled.csv's lines
 * in chunks, with counts and rejects accumulated in `state` as the chunks are consumed.
 */
export async function* labeledChunks(
  source: AsyncIterable<Uint8Array | string>,
  state: PassState,
  options: PassOptions,
): AsyncGenerator<string> {
  const { model, known, ids } = options;
  const assigner = new Assigner(model);
  // labeled rows per centroid index in the current batch, added to state.segments after it
  const counts = new Int32Array(model.segments.length);
  let lines: LabeledLines | undefined;
  let nextProgress = PROGRESS_EVERY;
  for await (const batch of parseCustomerRecords(source, options.firstLine)) {
    if (!Array.isArray(batch)) {
      state.header = batch;
      lines = new LabeledLines(batch, model);
      if (options.withHeader) yield labeledHeaderLine(batch);
      continue;
    }
    let text = '';
    for (const item of batch) {
      state.rowsRead++;
      const { row } = item;
      const customerId = item.kind === 'accepted' ? item.row.customer.customerId : item.row.customerId;
      if (item.kind === 'rejected') {
        if (customerId.trim() !== '') ids?.add(customerId, row.line, false);
        state.rejected.push(item.row);
        continue;
      }
      const supersededBy = known?.get(row.line);
      if (supersededBy !== undefined) {
        state.rejected.push({
          line: row.line,
          customerId,
          reason: `duplicate customer_id, superseded by line ${supersededBy}`,
          fields: row.fields,
        });
        continue;
      }
      const reason = unassignableReason(item.row.customer, model);
      ids?.add(customerId, row.line, reason === undefined);
      if (reason !== undefined) {
        state.rejected.push({ line: row.line, customerId, reason, fields: row.fields });
        continue;
      }
      const assignment = assigner.assign(item.row.customer);
      state.labeled++;
      counts[assignment.index]!++;
      if (assignment.isOutlier) state.outliers++;
      text += `${lines!.line(row.fields, assignment, 'assigned')}\n`;
    }
    // one string per chunk, built by concatenation: the write flattens it once (measured faster
    // than joining an array of lines, which flattens every line on its own)
    counts.forEach((count, index) => {
      if (count === 0) return;
      const id = model.segments[index]!.id;
      state.segments[id] = (state.segments[id] ?? 0) + count;
    });
    counts.fill(0);
    if (text.length > 0) yield text;
    if (state.rowsRead >= nextProgress) {
      options.onProgress?.(state.rowsRead);
      nextProgress += PROGRESS_EVERY;
    }
  }
}

/** Writes rejects.csv and summary.json for a labeled file, from its last pass's state. */
export async function finishLabelFile(
  writer: ResultWriter,
  input: Pick<LabelFileInput, 'source' | 'model' | 'startedAt' | 'clock'>,
  state: PassState,
  duplicates: number,
): Promise<LabelSummary> {
  state.rejected.sort((a, b) => a.line - b.line);
  await writeRejects(writer, state.header!, state.rejected);
  const summary: LabelSummary = {
    status: 'ok',
    error: null,
    warnings: [],
    source: input.source,
    modelVersion: input.model.modelVersion,
    rowsRead: state.rowsRead,
    rowsAccepted: state.labeled,
    rowsRejected: state.rejected.length,
    duplicates,
    segments: state.segments,
    outliers: state.outliers,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.clock().toISOString(),
  };
  return await writeSummary(writer, summary);
}

/** Labels a customers file with `model` and writes labeled.csv, rejects.csv and summary.json. */
export async function labelFile(input: LabelFileInput, writer: ResultWriter): Promise<LabelSummary> {
  const { model, onProgress } = input;
  let state = freshState();
  const ids = new DuplicateFinder();
  await writer.write('labeled.csv', labeledChunks(input.open(), state, { model, known: null, ids, withHeader: true, onProgress }));
  const known = ids.superseded();
  if (known.size > 0) {
    // the first pass wrote rows that later rows superseded: write labeled.csv again without them
    state = freshState();
    await writer.write('labeled.csv', labeledChunks(input.open(), state, { model, known, ids: null, withHeader: true, onProgress }));
  }
  return await finishLabelFile(writer, input, state, known.size);
}
