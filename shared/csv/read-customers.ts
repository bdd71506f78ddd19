// Streaming reader for customer CSV files: decodes the bytes, parses with Papa Parse, tracks
// physical line numbers, validates each row against the contract and resolves duplicate IDs.

import Papa from 'papaparse';
import { TextDecoder } from 'node:util';
import { Readable } from 'node:stream';
import { InvalidFileError } from '../errors.ts';
import { resolveHeader, validateRow, type Customer, type HeaderMap } from './contract.ts';
import { CustomerColumnsBuilder, type CustomerColumns } from './columns.ts';
import { DuplicateFinder } from './duplicates.ts';
import { grown } from './typed-arrays.ts';

export interface AcceptedRow {
  readonly line: number;
  readonly fields: readonly string[];
  readonly customer: Customer;
}

export interface RejectedRow {
  readonly line: number;
  readonly customerId: string;
  readonly reason: string;
  readonly fields: readonly string[];
}

/** A parsed record before duplicate resolution: accepted or rejected on its own merits. */
export type ParsedRecord =
  { readonly kind: 'accepted'; readonly row: AcceptedRow } | { readonly kind: 'rejected'; readonly row: RejectedRow };

/** The whole file, validated: `rowsRead === accepted.length + rejected.length` always holds. */
export interface CustomerCsv {
  readonly header: HeaderMap;
  readonly accepted: readonly AcceptedRow[];
  readonly rejected: readonly RejectedRow[];
  readonly rowsRead: number;
  readonly duplicates: number;
}

const NO_FIELDS: readonly string[] = Object.freeze([]);

export interface ReadOptions {
  /** Keep each accepted row's original fields (for labeled output). Training needs only the values. */
  readonly keepFields?: boolean;
  /** Called with the number of rows read so far, every `progressEvery` rows. */
  readonly onProgress?: (rowsRead: number) => void;
  readonly progressEvery?: number;
}

const DEFAULT_PROGRESS_EVERY = 100_000;
const NEWLINE = 10; // '\n'
const CARRIAGE_RETURN = '\r';
const NUL = 0x00;
const BOM = '\uFEFF';
/** Parsed rows buffered ahead of a slow consumer before the parser pauses (resuming costs a timer tick). */
const QUEUE_HIGH = 10_000;

/**
 * Decodes the input as UTF-8 text with LF line ends: drops a leading BOM, turns CRLF into LF (a
 * CR at the end of a chunk waits for the next one), refuses NUL bytes.
 */
async function* textOf(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  let pendingCr = false;
  for await (const piece of source) {
    if (typeof piece !== 'string' && piece.indexOf(NUL) >= 0) throw new InvalidFileError('not a text file (it contains NUL bytes)');
    let text: string = (pendingCr ? CARRIAGE_RETURN : '') + (typeof piece === 'string' ? piece : decodeUtf8(decoder, piece, true));
    if (typeof piece === 'string' && piece.includes('\u0000')) throw new InvalidFileError('not a text file (it contains NUL bytes)');
    if (first && text.length > 0) {
      if (text.startsWith(BOM)) text = text.slice(BOM.length);
      first = false;
    }
    pendingCr = text.endsWith(CARRIAGE_RETURN);
    if (pendingCr) text = text.slice(0, -1);
    if (text.includes(CARRIAGE_RETURN)) text = text.replace(/\r\n/g, '\n');
    if (text.length === 0) continue;
    yield text;
  }
  const rest = (pendingCr ? CARRIAGE_RETURN : '') + decodeUtf8(decoder, new Uint8Array(0), false);
  if (rest.length > 0) yield rest;
}

/** Decodes UTF-8, refusing anything else (a Windows-1252 file would otherwise lose characters). */
function decodeUtf8(decoder: TextDecoder, bytes: Uint8Array, stream: boolean): string {
  try {
    return decoder.decode(bytes, { stream });
  } catch {
    throw new InvalidFileError('not a UTF-8 text file (save it as UTF-8 and upload it again)');
  }
}

function countNewlines(fields: readonly string[]): number {
  let n = 0;
  for (const field of fields) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

type Parsed = { readonly line: number; readonly fields: string[]; readonly error: string | null };

/**
 * A blank line, or one whose fields are all empty or whitespace (`,,,`: a spreadsheet's empty row,
 * Papa Parse's "greedy" empty line): not a row.
 */
function isBlank(fields: readonly string[]): boolean {
  for (const field of fields) if (field.trim() !== '') return false;
  return true;
}

/**
 * Runs Papa Parse over the text stream as an async iterator of batches of located rows, one batch
 * per parsed chunk (Papa's chunk mode: no per-row callback), with backpressure. A row starts on the
 * line after the previous row ends, and ends after the line breaks its fields hold (line breaks
 * are only ever inside fields or between rows), so lines are counted from the fields alone.
 */
async function* parsedRows(source: AsyncIterable<Uint8Array | string>, firstLine: number): AsyncGenerator<Parsed[]> {
  const input = Readable.from(textOf(source));
  const queue: Parsed[][] = [];
  let queued = 0;
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let parser: Papa.Parser | undefined;
  let paused = false;
  let line = firstLine;
  Papa.parse<string[]>(input as unknown as File, {
    delimiter: ',',
    newline: '\n',
    quoteChar: '"',
    chunk: (results, p) => {
      parser = p;
      const problems = new Map<number, string>();
      for (const e of results.errors) if (e.row !== undefined && !problems.has(e.row)) problems.set(e.row, e.message);
      const batch: Parsed[] = [];
      const rows = results.data;
      for (let r = 0; r < rows.length; r++) {
        const fields = rows[r]!;
        const start = line;
        line += 1 + countNewlines(fields);
        const problem = problems.get(r);
        if (problem === undefined && isBlank(fields)) continue;
        batch.push({ line: start, fields, error: problem === undefined ? null : `the row is not valid CSV (${problem.toLowerCase()})` });
      }
      if (batch.length === 0) return;
      queue.push(batch);
      queued += batch.length;
      if (queued >= QUEUE_HIGH && !paused) {
        // Papa's pause stops parsing, not its reading: the input is paused too, or a slow
        // consumer would find the whole file read into Papa's queue
        paused = true;
        p.pause();
        input.pause();
      }
      wake?.();
    },
    complete: () => {
      finished = true;
      wake?.();
    },
    error: (error: unknown) => {
      failure = error;
      finished = true;
      wake?.();
    },
  });
  try {
    for (;;) {
      const batch = queue.shift();
      if (batch !== undefined) {
        queued -= batch.length;
        if (paused && queued < QUEUE_HIGH) {
          paused = false;
          parser?.resume();
          input.resume();
        }
        yield batch;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!finished) {
      parser?.abort();
      input.destroy();
    }
  }
}

/**
 * Parses a customer CSV stream. Yields the resolved header first, then batches of records in file
 * order, each with its physical starting line (the header is line `firstLine`, 1 unless the stream
 * is a header followed by a later part of a file). Throws InvalidFileError when the stream cannot be
 * read as the contract (empty, no header, missing column).
 */
export async function* parseCustomerRecords(
  source: AsyncIterable<Uint8Array | string>,
  firstLine = 1,
): AsyncGenerator<HeaderMap | ParsedRecord[]> {
  let header: HeaderMap | undefined;
  for await (const batch of parsedRows(source, firstLine)) {
    const records: ParsedRecord[] = [];
    for (const { line, fields, error } of batch) {
      if (header === undefined) {
        if (error !== null) throw new InvalidFileError('the header row is not valid CSV');
        if (fields.every((f) => f.trim() === '')) throw new InvalidFileError('the header row is empty');
        header = resolveHeader(fields);
        yield header;
        continue;
      }
      const customerId = fields[header.index.customer_id] ?? '';
      if (error !== null) {
        records.push({ kind: 'rejected', row: { line, customerId, reason: error, fields } });
        continue;
      }
      const result = validateRow(fields, header);
      if (result.ok) records.push({ kind: 'accepted', row: { line, fields, customer: result.customer } });
      else records.push({ kind: 'rejected', row: { line, customerId, reason: result.reason, fields } });
    }
    if (records.length > 0) yield records;
  }
  if (header === undefined) throw new InvalidFileError('the file is empty (no header row)');
}

/**
 * Reads every record of a customer CSV in file order, counting rows and reporting progress; each
 * record with a non-blank customer_id is recorded in `ids` (accepted ones as supersedable: the
 * later row wins, and an earlier row already rejected for its own reason stays as it is).
 */
async function readRecords(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadOptions,
  ids: DuplicateFinder,
  onRecord: (record: ParsedRecord) => void,
): Promise<{ header: HeaderMap; rowsRead: number }> {
  const every = options.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let header: HeaderMap | undefined;
  let rowsRead = 0;
  for await (const batch of parseCustomerRecords(source)) {
    if (!Array.isArray(batch)) {
      header = batch;
      continue;
    }
    for (const item of batch) {
      rowsRead++;
      if (options.onProgress && rowsRead % every === 0) options.onProgress(rowsRead);
      const customerId = item.kind === 'accepted' ? item.row.customer.customerId : item.row.customerId;
      if (customerId.trim() !== '') ids.add(customerId, item.row.line, item.kind === 'accepted');
      onRecord(item);
    }
  }
  if (header === undefined) throw new InvalidFileError('the file is empty (no header row)');
  return { header, rowsRead };
}

/**
 * Reads a whole customer CSV: every row ends accepted or rejected with a reason. When a
 * customer_id appears again later in the file the later row wins and the earlier one is rejected.
 */
export async function readCustomerCsv(source: AsyncIterable<Uint8Array | string>, options: ReadOptions = {}): Promise<CustomerCsv> {
  const accepted: AcceptedRow[] = [];
  const rejected: RejectedRow[] = [];
  const ids = new DuplicateFinder();
  const keepFields = options.keepFields ?? true;
  const { header, rowsRead } = await readRecords(source, options, ids, (item) => {
    if (item.kind === 'rejected') rejected.push(item.row);
    else accepted.push(keepFields ? item.row : { line: item.row.line, fields: NO_FIELDS, customer: item.row.customer });
  });
  const superseded = ids.superseded();
  const kept = superseded.size === 0 ? accepted : accepted.filter((row) => !superseded.has(row.line));
  for (const row of superseded.size === 0 ? [] : accepted) {
    const by = superseded.get(row.line);
    if (by === undefined) continue;
    rejected.push({
      line: row.line,
      customerId: row.customer.customerId,
      reason: `duplicate customer_id, superseded by line ${by}`,
      fields: row.fields,
    });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { header, accepted: kept, rejected, rowsRead, duplicates: superseded.size };
}

/** A whole customer CSV for training: the accepted customers as columns, every rejected row. */
export interface CustomerColumnsCsv {
  readonly header: HeaderMap;
  readonly columns: CustomerColumns;
  readonly rejected: readonly RejectedRow[];
  readonly rowsRead: number;
  readonly duplicates: number;
}

/**
 * Reads a whole customer CSV into columns, with the rules of readCustomerCsv (the later row wins),
 * keeping no object per accepted customer: what training a million rows holds in memory.
 */
export async function readCustomerColumns(
  source: AsyncIterable<Uint8Array | string>,
  options: Omit<ReadOptions, 'keepFields'> = {},
): Promise<CustomerColumnsCsv> {
  const builder = new CustomerColumnsBuilder();
  // per accepted row: its id's row in the duplicate finder (which has its id and line)
  let idRows = new Int32Array(1024);
  const rejected: RejectedRow[] = [];
  const ids = new DuplicateFinder();
  const { header, rowsRead } = await readRecords(source, options, ids, (item) => {
    if (item.kind === 'rejected') {
      rejected.push(item.row);
      return;
    }
    const row = builder.length;
    idRows = grown(idRows, row + 1, 1.5);
    idRows[row] = ids.size - 1; // readRecords recorded its id just now
    builder.push(item.row.customer);
  });
  const superseded = ids.superseded();
  if (superseded.size > 0) {
    const before = builder.length;
    let kept = 0;
    const keep = new Uint8Array(before);
    for (let row = 0; row < before; row++) {
      const line = ids.lineAt(idRows[row]!);
      const by = superseded.get(line);
      if (by === undefined) {
        keep[row] = 1;
        continue;
      }
      const customerId = ids.idAt(idRows[row]!);
      rejected.push({ line, customerId, reason: `duplicate customer_id, superseded by line ${by}`, fields: NO_FIELDS });
    }
    builder.compact((row) => keep[row] === 1);
    for (let row = 0; row < before; row++) if (keep[row] === 1) idRows[kept++] = idRows[row]!;
  }
  rejected.sort((a, b) => a.line - b.line);
  const columns = builder.build({ get: (row) => ids.idAt(idRows[row]!) });
  return { header, columns, rejected, rowsRead, duplicates: superseded.size };
}
