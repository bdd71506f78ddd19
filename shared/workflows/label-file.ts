// The labeling pipeline of ingest and of `segments assign`: a customers file is parsed, validated,
// labeled and written batch by batch as labeled.csv, then rejects.csv and summary.json, so memory
// does not grow with the rows' content. The duplicate rule (the later row wins) is settled over a
// whole pass. Without a sink (the CLI) the first pass writes labeled.csv, and only a file that has
// duplicates is read again to write it without the superseded rows. With a sink (ingest: the
// customers table) a first pass only records the ids, so the sink sees the winning rows alone, with
// several batches stored at once, and rejects.csv streams beside labeled.csv. A pass can also run
// over a part of a file (the CLI labels a large local file in chunks, in parallel).

import { OUTPUT_COLUMNS, type Customer, type HeaderMap } from '../csv/contract.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../schema/customer-schema.ts';
import { DuplicateFinder, type DuplicateRecords } from '../csv/duplicates.ts';
import { parseCustomerRecords, type ParsedRecord, type ParsedRow, type RejectedRow } from '../csv/read-customers.ts';
import { CsvBytes, csvRecord, utf8 } from '../csv/write.ts';
import type { Model } from '../model/artifact.ts';
import { Assigner, knownValuesOf, type Assignment, type RowAssigner } from '../model/assign.ts';
import type { ResultWriter } from '../ports.ts';
import type { LabelSummary } from './summary.ts';

export const NO_ACTIVE_MODEL_WARNING = 'no active model: customers were validated but not labeled; train and promote a model';
const DISTANCE_DECIMALS = 6;
const PROGRESS_EVERY = 100_000;
const COMMA = 0x2c;
/** Rows per chunk of rejects.csv. */
const REJECTS_PER_CHUNK = 10_000;

/** An accepted row on its way to a sink: the customer and its label (null without a model). */
export interface LabeledRow {
  readonly customer: Customer;
  readonly assignment: Assignment | null;
}

/**
 * Where labeled rows go besides labeled.csv (ingest: the customers table): batches of at most
 * `batchRows` rows in file order, numbered from 0 (the same file and model give the same batches),
 * each stored before its lines are written. Up to `inFlight` batches are stored at once (default 1,
 * beside the parsing of the next); their lines are still written in file order. Answers which of
 * the batch's customer_ids get the origin 'created' (the origin rule); the others are 'assigned'.
 */
export interface LabeledRowSink {
  readonly batchRows: number;
  readonly inFlight?: number;
  store(rows: readonly LabeledRow[], batch: number): Promise<ReadonlySet<string>>;
}

export type FileSource = AsyncIterable<Uint8Array | string>;

export interface LabelFileInput {
  /** Opens the file from the start: once, or twice (duplicates without a sink; always with one). */
  readonly open: () => FileSource | Promise<FileSource>;
  readonly source: string;
  /** null: no active model; rows are validated and stored unlabeled, and the summary says so. */
  readonly model: Model | null;
  /** The schema the file is read with (see readingSchema). */
  readonly schema?: CustomerSchema;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly onProgress?: (rowsRead: number) => void;
  readonly sink?: LabeledRowSink;
}

/** What one pass learns: counts and rejects. */
export interface PassState {
  header: HeaderMap | undefined;
  rowsRead: number;
  labeled: number;
  outliers: number;
  segments: Record<string, number>;
  rejected: RejectedRow[];
}

export interface PassOptions {
  readonly model: Model | null;
  /** The schema the file is read with (see readingSchema). */
  readonly schema?: CustomerSchema;
  /** line of a superseded row → line of the row that superseded it; null in a first pass */
  readonly known: ReadonlyMap<number, number> | null;
  /** a first pass records every customer_id here (for the duplicate rule) */
  readonly ids: DuplicateFinder | null;
  /** Write the labeled header line first (not for the later parts of a file labeled in parts). */
  readonly withHeader: boolean;
  /** Physical line of the source's header line (a part of a file is read after the file's header). */
  readonly firstLine?: number;
  readonly onProgress?: (rowsRead: number) => void;
  /** Stores the labeled rows before their lines are written; only in a pass that knows the duplicates. */
  readonly sink?: LabeledRowSink;
  /** Takes each rejected row, in line order, instead of `state.rejected` (which then stays empty). */
  readonly onReject?: (row: RejectedRow) => void;
  /** false: no labeled.csv lines are made (the rows only go to the sink). Default true. */
  readonly lines?: boolean;
}

/** labeled.csv's header line, line end included: the input's columns (less old label columns), then the label columns. */
export function labeledHeaderLine(header: HeaderMap): string {
  return `${csvRecord([...header.passThrough.map((i) => header.columns[i]!), ...OUTPUT_COLUMNS])}\n`;
}

/**
 * labeled.csv lines for one file and model, written as bytes: the input's pass-through fields,
 * then the label columns. The label columns other than the distance depend only on the segment,
 * the outlier flag and the origin, so they are quoted and encoded once per model rather than once
 * per row. Without a model the label columns are empty.
 */
class LabeledLines {
  private readonly suffixes: Array<readonly [Uint8Array, Uint8Array] | undefined> = [];
  private readonly unlabeled = utf8(`${','.repeat(OUTPUT_COLUMNS.length - 1)}\n`);

  constructor(
    private readonly header: HeaderMap,
    private readonly model: Model | null,
    private readonly out: CsvBytes,
  ) {}

  /** One labeled.csv line, line end included. */
  line(fields: readonly string[], assignment: Assignment | null, origin: 'created' | 'assigned'): void {
    const { out } = this;
    const { passThrough } = this.header;
    for (let i = 0; i < passThrough.length; i++) {
      out.field(fields[passThrough[i]!] ?? '');
      out.byte(COMMA);
    }
    if (assignment === null) {
      out.raw(this.unlabeled);
      return;
    }
    const [beforeDistance, afterDistance] = this.suffix(assignment, origin);
    out.raw(beforeDistance);
    out.decimal(assignment.distance, DISTANCE_DECIMALS);
    out.raw(afterDistance);
  }

  private suffix(assignment: Assignment, origin: 'created' | 'assigned'): readonly [Uint8Array, Uint8Array] {
    const key = assignment.index * 4 + (origin === 'created' ? 2 : 0) + (assignment.isOutlier ? 1 : 0);
    let suffix = this.suffixes[key];
    if (suffix === undefined) {
      const model = this.model!;
      const segment = model.segments[assignment.index]!;
      suffix = [
        utf8(`${csvRecord([String(segment.id), segment.name, origin])},`),
        utf8(`,${csvRecord([String(assignment.isOutlier), model.modelVersion])}\n`),
      ];
      this.suffixes[key] = suffix;
    }
    return suffix;
  }
}

export function freshState(): PassState {
  return { header: undefined, rowsRead: 0, labeled: 0, outliers: 0, segments: {}, rejected: [] };
}

/**
 * Records a row for the duplicate rule: any row with a non-blank id can supersede an earlier one;
 * only a row that would be labeled (accepted, and placeable by the model) can be superseded — a
 * row rejected for its own reason keeps that reason.
 */
function recordId(ids: DuplicateFinder, item: ParsedRecord, unplaceable: string | undefined): void {
  if (item.kind === 'accepted') ids.add(item.row.customerId, item.row.line, unplaceable === undefined);
  else if (item.row.customerId.trim() !== '') ids.add(item.row.customerId, item.row.line, false);
}

/** Why the model cannot label this row (an unseen category), or undefined; never without a model. */
const unplaceableReason = (row: ParsedRow, labeler: RowAssigner | null): string | undefined =>
  labeler === null ? undefined : labeler.unassignable(row.values, row.at);

/**
 * The schema a file is read with: the one given (the table's, when rows are stored: every column
 * of the table, of which the model's features are some), else the model's own (`assign` takes
 * everything from the model), else the mall's.
 */
export const readingSchema = (options: { readonly schema?: CustomerSchema; readonly model: Model | null }): CustomerSchema =>
  options.schema ?? options.model?.customerSchema ?? MALL_SCHEMA;

/** A first pass that only records every row's id; the file's own problems (InvalidFileError) surface here. */
async function recordIds(source: FileSource, model: Model | null, schema: CustomerSchema): Promise<DuplicateFinder> {
  const ids = new DuplicateFinder();
  const assigner = model === null ? null : new Assigner(model);
  let labeler: RowAssigner | null = null;
  for await (const batch of parseCustomerRecords(source, 1, schema, knownValuesOf(model))) {
    if (!Array.isArray(batch)) {
      labeler = assigner?.forHeader(batch) ?? null;
      continue;
    }
    for (const item of batch) recordId(ids, item, item.kind === 'accepted' ? unplaceableReason(item.row, labeler) : undefined);
  }
  return ids;
}

/** Rows waiting for the sink, with the fields their lines are made of. */
interface Pending {
  readonly rows: LabeledRow[];
  readonly fields: Array<readonly string[]>;
}

/** A batch handed to the sink whose lines wait for its answer. */
interface Storing extends Pending {
  readonly stored: Promise<ReadonlySet<string>>;
}

/**
 * The sink's batches in flight, oldest first: a new batch waits for room, and the lines of a batch
 * are written once it and every batch before it are stored (file order).
 */
class StoringQueue {
  private readonly queue: Storing[] = [];
  private next = 0;
  private readonly room: number;

  constructor(
    private readonly sink: LabeledRowSink,
    private readonly lines: LabeledLines | undefined,
  ) {
    this.room = Math.max(1, sink.inFlight ?? 1);
  }

  get size(): number {
    return this.queue.length;
  }

  /** Hands the pending rows to the sink, once fewer than `inFlight` batches are being stored. */
  async start(pending: Pending): Promise<void> {
    while (this.queue.length >= this.room) await this.finishOldest();
    const rows = pending.rows.splice(0);
    const fields = pending.fields.splice(0);
    const stored = this.sink.store(rows, this.next++);
    // awaited in turn (finishOldest); until then a failure must not count as unhandled
    stored.catch(() => undefined);
    this.queue.push({ rows, fields, stored });
  }

  /** Waits for the oldest batch, then writes its lines with the origins the sink gave. */
  async finishOldest(): Promise<void> {
    const { rows, fields, stored } = this.queue.shift()!;
    const created = await stored;
    if (this.lines === undefined) return;
    for (let i = 0; i < rows.length; i++) {
      const { customer, assignment } = rows[i]!;
      this.lines.line(fields[i]!, assignment, created.has(customer.customerId) ? 'created' : 'assigned');
    }
  }

  /** Waits until no batch is being stored (a failed pass leaves no statement running behind it). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.queue.splice(0).map((b) => b.stored));
  }
}

/**
 * One pass over a customers file, or over its header and a later part of it: labeled.csv's lines
 * written into `out` as bytes, with counts and rejects accumulated in `state`. Yields after the
 * header and after each batch of rows, when the caller may take what `out` holds.
 */
export async function* labelPass(source: FileSource, state: PassState, options: PassOptions, out: CsvBytes): AsyncGenerator<void> {
  const { model, known, ids, sink } = options;
  const reject = options.onReject ?? ((row: RejectedRow) => void state.rejected.push(row));
  const withLines = options.lines ?? true;
  const assigner = model === null ? null : new Assigner(model);
  let labeler: RowAssigner | null = null;
  // labeled rows per centroid index in the current batch, added to state.segments after it
  const counts = new Int32Array(model?.segments.length ?? 0);
  const pending: Pending = { rows: [], fields: [] };
  let lines: LabeledLines | undefined;
  let storing: StoringQueue | undefined;
  let nextProgress = PROGRESS_EVERY;
  try {
    for await (const batch of parseCustomerRecords(source, options.firstLine, readingSchema(options), knownValuesOf(model))) {
      if (!Array.isArray(batch)) {
        state.header = batch;
        labeler = assigner?.forHeader(batch) ?? null;
        if (withLines) {
          lines = new LabeledLines(batch, model, out);
          if (options.withHeader) out.text(labeledHeaderLine(batch));
        }
        if (sink !== undefined) storing = new StoringQueue(sink, lines);
        yield;
        continue;
      }
      for (const item of batch) {
        state.rowsRead++;
        if (item.kind === 'rejected') {
          if (ids !== null) recordId(ids, item, undefined);
          reject(item.row);
          continue;
        }
        const { row } = item;
        const { customerId } = row;
        const supersededBy = known === null ? undefined : known.get(row.line);
        if (supersededBy !== undefined) {
          reject({
            line: row.line,
            customerId,
            reason: `duplicate customer_id, superseded by line ${supersededBy}`,
            fields: row.fields,
          });
          continue;
        }
        const reason = unplaceableReason(row, labeler);
        if (ids !== null) recordId(ids, item, reason);
        if (reason !== undefined) {
          reject({ line: row.line, customerId, reason, fields: row.fields });
          continue;
        }
        const assignment = labeler === null ? null : labeler.assign(row.values, row.at);
        state.labeled++;
        if (assignment !== null) {
          counts[assignment.index]!++;
          if (assignment.isOutlier) state.outliers++;
        }
        if (sink === undefined) {
          lines?.line(row.fields, assignment, 'assigned');
          continue;
        }
        pending.rows.push({ customer: row.customer, assignment });
        pending.fields.push(row.fields);
        if (pending.rows.length >= sink.batchRows) await storing!.start(pending);
      }
      counts.forEach((count, index) => {
        if (count === 0) return;
        const id = model!.segments[index]!.id;
        state.segments[id] = (state.segments[id] ?? 0) + count;
      });
      counts.fill(0);
      yield;
      if (state.rowsRead >= nextProgress) {
        options.onProgress?.(state.rowsRead);
        nextProgress += PROGRESS_EVERY;
      }
    }
    if (storing !== undefined) {
      if (pending.rows.length > 0) await storing.start(pending);
      while (storing.size > 0) {
        await storing.finishOldest();
        yield;
      }
    }
  } finally {
    await storing?.settle();
  }
}

/**
 * One pass (see labelPass) as labeled.csv's text, a chunk per batch of rows, for a ResultWriter.
 * The lines are written as bytes and decoded once per chunk: a flat string the write encodes
 * quickly, where a string concatenated line by line cost more to flatten than to build.
 */
export async function* labeledChunks(source: FileSource, state: PassState, options: PassOptions): AsyncGenerator<string> {
  const out = new CsvBytes();
  const decoder = new TextDecoder();
  for await (const _ of labelPass(source, state, options, out)) {
    if (out.length === 0) continue;
    const text = decoder.decode(out.view());
    out.clear();
    yield text;
  }
}

/**
 * A chunk of a file is parsed in pieces of this many bytes: the parser's batch of rows lives until
 * the batch is labeled, and a young-generation collection copies what lives (a whole megabyte's
 * rows at once made the collector the largest cost).
 */
const PIECE_BYTES = 64 << 10;

/** One chunk of a file to label: whole lines, read after the file's header line. */
export interface FileChunk {
  /** the file's header line, line end included */
  readonly header: string;
  readonly bytes: Uint8Array;
  /** physical line of the chunk's first line */
  readonly firstLine: number;
  readonly model: Model;
  /** The schema the file is read with (see readingSchema). */
  readonly schema?: CustomerSchema;
  /** superseded line → superseding line (a second pass), or null (a first pass: ids are recorded) */
  readonly known: ReadonlyMap<number, number> | null;
  /** arrays to copy the chunk's ids into where they fit (see DuplicateFinder.records) */
  readonly records?: DuplicateRecords;
}

/** What labeling a chunk gives: its labeled.csv lines, what the pass learnt, and (first pass) the ids it saw. */
export interface LabeledChunk {
  readonly labeled: Uint8Array;
  readonly state: PassState;
  readonly records: DuplicateRecords | null;
}

async function* chunkSource(chunk: FileChunk, between: (() => Promise<void>) | undefined): AsyncGenerator<Uint8Array | string> {
  yield chunk.header;
  for (let start = 0; start < chunk.bytes.length; start += PIECE_BYTES) {
    if (start > 0) await between?.();
    yield chunk.bytes.subarray(start, start + PIECE_BYTES);
  }
}

/**
 * Labels one chunk of a file with the pass every other path uses (a file labeled in chunks on
 * several threads gives the bytes of one pass over it). The lines are taken from `out` (theirs to
 * keep); `ids` is cleared and records the chunk's ids in a first pass. `between` is awaited
 * between pieces of the chunk (a thread with other work lets it run).
 */
export async function labelChunk(
  chunk: FileChunk,
  out: CsvBytes,
  ids: DuplicateFinder,
  between?: () => Promise<void>,
): Promise<LabeledChunk> {
  const state = freshState();
  ids.clear();
  const { model, schema, known } = chunk;
  const options = { model, schema, known, ids: known === null ? ids : null, withHeader: false, firstLine: chunk.firstLine - 1 };
  // the lines stay in `out` until the chunk is done: one buffer for the whole chunk
  for await (const _ of labelPass(chunkSource(chunk, between), state, options, out));
  return { labeled: out.take(), state, records: known === null ? ids.records(chunk.records) : null };
}

/** rejects.csv's header line: line, customer_id, reason, then the original columns. */
const rejectsHeaderLine = (header: HeaderMap): string => `${csvRecord(['line', 'customer_id', 'reason', ...header.columns])}\n`;

/** One rejects.csv line, line end included. */
const rejectLine = (r: RejectedRow): string => `${csvRecord([String(r.line), r.customerId, r.reason, ...r.fields])}\n`;

/** rejects.csv: line, customer_id, reason, then the original fields, in line order. */
async function* rejectsChunks(header: HeaderMap, rejected: readonly RejectedRow[]): AsyncGenerator<string> {
  yield rejectsHeaderLine(header);
  for (let start = 0; start < rejected.length; start += REJECTS_PER_CHUNK) {
    let text = '';
    for (const r of rejected.slice(start, start + REJECTS_PER_CHUNK)) text += rejectLine(r);
    yield text;
  }
}

/** Writes rejects.csv and then summary.json (last, so a summary means the run finished), from the last pass's state. */
export async function finishLabelFile(
  writer: ResultWriter,
  input: Pick<LabelFileInput, 'source' | 'model' | 'startedAt' | 'clock'>,
  state: PassState,
  duplicates: number,
): Promise<LabelSummary> {
  state.rejected.sort((a, b) => a.line - b.line);
  await writer.write('rejects.csv', rejectsChunks(state.header!, state.rejected));
  return await writeSummary(writer, input, state, state.rejected.length, duplicates);
}

/** Writes summary.json (last: a summary means the run finished) from the last pass's state. */
async function writeSummary(
  writer: ResultWriter,
  input: Pick<LabelFileInput, 'source' | 'model' | 'startedAt' | 'clock'>,
  state: PassState,
  rowsRejected: number,
  duplicates: number,
): Promise<LabelSummary> {
  const summary: LabelSummary = {
    status: 'ok',
    error: null,
    warnings: input.model === null ? [NO_ACTIVE_MODEL_WARNING] : [],
    source: input.source,
    modelVersion: input.model?.modelVersion ?? null,
    rowsRead: state.rowsRead,
    rowsAccepted: state.labeled,
    rowsRejected,
    duplicates,
    segments: state.segments,
    outliers: state.outliers,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.clock().toISOString(),
  };
  await writer.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/**
 * Labels a customers file with `model` (or validates it, without one) and writes labeled.csv,
 * rejects.csv and summary.json; with a sink, every labeled row is stored through it too. A file
 * that cannot be read as the contract throws InvalidFileError — with a sink, before anything is
 * stored or written.
 */
export async function labelFile(input: LabelFileInput, writer: ResultWriter): Promise<LabelSummary> {
  const { model, schema, onProgress, sink } = input;
  let state = freshState();
  let known: ReadonlyMap<number, number>;
  if (sink === undefined) {
    const ids = new DuplicateFinder();
    await writer.write(
      'labeled.csv',
      labeledChunks(await input.open(), state, { model, schema, known: null, ids, withHeader: true, onProgress }),
    );
    known = ids.superseded();
    if (known.size > 0) {
      // the first pass wrote rows that later rows superseded: write labeled.csv again without them
      state = freshState();
      await writer.write(
        'labeled.csv',
        labeledChunks(await input.open(), state, { model, schema, known, ids: null, withHeader: true, onProgress }),
      );
    }
    return await finishLabelFile(writer, input, state, known.size);
  }
  known = (await recordIds(await input.open(), model, readingSchema(input))).superseded();
  const rejected = await writeStreamed(writer, await input.open(), state, {
    model,
    schema,
    known,
    ids: null,
    withHeader: true,
    onProgress,
    sink,
  });
  return await writeSummary(writer, input, state, rejected, known.size);
}

/**
 * The second pass with a sink: labeled.csv and rejects.csv written side by side as the pass goes
 * (its rejects come in line order), so that no reject is held in memory. Either file is complete
 * only if the whole pass succeeded: a failure ends both writes with it. Returns the rejects' count.
 */
async function writeStreamed(writer: ResultWriter, source: FileSource, state: PassState, options: PassOptions): Promise<number> {
  const rejects = new TextPipe();
  let count = 0;
  let text = '';
  let headed = false;
  const onReject = (row: RejectedRow): void => {
    count++;
    text += rejectLine(row);
  };
  // the rejects so far go to their file after each step of the pass (the header line first)
  const handOver = async (): Promise<void> => {
    if (!headed && state.header !== undefined) {
      text = rejectsHeaderLine(state.header) + text;
      headed = true;
    }
    if (!headed || text === '') return;
    const ready = text;
    text = '';
    await rejects.push(ready);
  };
  const labeled = async function* (): AsyncGenerator<string> {
    try {
      const out = new CsvBytes();
      const decoder = new TextDecoder();
      for await (const _ of labelPass(source, state, { ...options, onReject }, out)) {
        await handOver();
        if (out.length === 0) continue;
        const chunk = decoder.decode(out.view());
        out.clear();
        yield chunk;
      }
      await handOver();
      rejects.close();
    } finally {
      // a no-op after close(): otherwise the pass failed or its file stopped taking it
      rejects.fail(new Error('labeled.csv was not completed'));
    }
  };
  const results = await Promise.allSettled([
    writer.write('labeled.csv', labeled()),
    writer.write('rejects.csv', rejects).catch((error: unknown) => {
      rejects.stop(error);
      throw error;
    }),
  ]);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return count;
}

/** Characters of rejects.csv that may wait for its writer before the pass waits too. */
const PIPE_HIGH_WATER = 1 << 20;

/**
 * Text from a producer to one consumer (the AsyncIterable a ResultWriter reads), at most
 * PIPE_HIGH_WATER characters waiting. The consumer sees the end as the producer says it: complete
 * (close), or failed (fail: the consumer's read throws, so a multipart upload is aborted). When the
 * consumer stops (stop), the producer's next push throws.
 */
class TextPipe implements AsyncIterable<string> {
  private readonly queue: string[] = [];
  private waiting = 0;
  private end: { readonly error: unknown } | 'closed' | undefined;
  private stopped: { readonly error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  async push(text: string): Promise<void> {
    this.throwIfStopped();
    this.queue.push(text);
    this.waiting += text.length;
    this.wake();
    while (this.waiting > PIPE_HIGH_WATER) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
      this.throwIfStopped();
    }
  }

  private throwIfStopped(): void {
    if (this.stopped !== undefined) throw this.stopped.error;
  }

  close(): void {
    this.end ??= 'closed';
    this.wake();
  }

  fail(error: unknown): void {
    this.end ??= { error };
    this.wake();
  }

  stop(error: unknown): void {
    this.stopped ??= { error };
    this.wake();
  }

  private wake(): void {
    const consumer = this.wakeConsumer;
    const producer = this.wakeProducer;
    this.wakeConsumer = undefined;
    this.wakeProducer = undefined;
    consumer?.();
    producer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      if (this.end !== undefined && this.end !== 'closed') throw this.end.error;
      const text = this.queue.shift();
      if (text !== undefined) {
        this.waiting -= text.length;
        this.wake();
        yield text;
        continue;
      }
      if (this.end === 'closed') return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }
}

/**
 * The table's side of labelFile without its outputs (`segments db load`): the file's winning rows
 * stored through the sink, every rejected row handed to `onReject` in line order. Returns the
 * pass's counts and the number of superseded rows.
 */
export async function storeFile(
  input: Pick<LabelFileInput, 'open' | 'model' | 'schema' | 'onProgress'> & {
    readonly sink: LabeledRowSink;
    readonly onReject: (row: RejectedRow) => void;
  },
): Promise<{ readonly state: PassState; readonly duplicates: number }> {
  const { model, schema, onProgress, sink, onReject } = input;
  const known = (await recordIds(await input.open(), model, readingSchema(input))).superseded();
  const state = freshState();
  const out = new CsvBytes();
  const options: PassOptions = { model, schema, known, ids: null, withHeader: false, onProgress, sink, onReject, lines: false };
  for await (const _ of labelPass(await input.open(), state, options, out));
  return { state, duplicates: known.size };
}
