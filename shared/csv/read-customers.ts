// Streaming reader for customer CSV files: decodes the bytes, parses with Papa Parse, tracks
// physical line numbers, validates each row against the contract and resolves duplicate IDs.

import Papa from 'papaparse';
import { Buffer, isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { InvalidFileError } from '../errors.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../schema/customer-schema.ts';
import {
  checkRow,
  customerAt,
  emptyRowValues,
  isPlainDecimal,
  MAX_ID_LENGTH,
  plainWhole,
  resolveHeader,
  type Customer,
  type HeaderMap,
  type KnownValues,
  type RowValues,
} from './contract.ts';
import { CustomerColumnsBuilder, type CustomerColumns } from './columns.ts';
import { DuplicateFinder, PackedIdColumn } from './duplicates.ts';
import { Fingerprinter } from './fingerprint.ts';
import { grown } from './typed-arrays.ts';

export interface AcceptedRow {
  readonly line: number;
  readonly fields: readonly string[];
  readonly customer: Customer;
}

/**
 * An accepted row as parseCustomerRecords gives it: its values as checkRow writes them, in a block
 * its batch shares (`values[at + position]`), and the customer object made only when asked for —
 * labeling a file into a file never asks (an object per row was a fifth of its CPU).
 */
export class ParsedRow implements AcceptedRow {
  private made: Customer | undefined;

  constructor(
    readonly line: number,
    readonly fields: readonly string[],
    readonly customerId: string,
    readonly header: HeaderMap,
    readonly values: Float64Array,
    readonly at: number,
  ) {}

  get customer(): Customer {
    return (this.made ??= customerAt(this.header, this.customerId, this.values, this.at));
  }
}

export interface RejectedRow {
  readonly line: number;
  readonly customerId: string;
  readonly reason: string;
  readonly fields: readonly string[];
}

/** A parsed record before duplicate resolution: accepted or rejected on its own merits. */
export type ParsedRecord =
  { readonly kind: 'accepted'; readonly row: ParsedRow } | { readonly kind: 'rejected'; readonly row: RejectedRow };

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
  /**
   * The source's size in bytes, when known (a local file): the ids the duplicate rule records get
   * their room at once, as many as the first piece of the file predicts for all of it.
   */
  readonly bytes?: number;
  /** The customer schema the file follows (default: the mall's). */
  readonly schema?: CustomerSchema;
}

const DEFAULT_PROGRESS_EVERY = 100_000;
/** Room made for the ids beyond what the first piece of a file predicts for all of it. */
const ESTIMATE_MARGIN = 0.05;
const CARRIAGE_RETURN = '\r';
const NUL = 0x00;
const BOM = '\uFEFF';
const QUOTE = '"';
const SPACE = 0x20;
const DEL = 0x7f;
const NEWLINE_CHAR = '\n';
const ASCII_END = 0x80;
/**
 * Characters handed to the parser at once: a file stream's 64 KiB piece (smaller pieces, as S3
 * bodies arrive, are joined). Larger pieces cost more than they save: a megabyte's rows (40,000
 * arrays of strings) outlive a young-generation collection and are copied into the old one (read
 * CPU 1.27 s at 64 KiB, 1.75 s at 256 KiB, 2.5 s at 1 MiB, a million rows).
 */
const TEXT_CHUNK = 1 << 16;

/**
 * Decodes the input as UTF-8 text with LF line ends: drops a leading BOM, turns CRLF into LF (a
 * CR at the end of a chunk waits for the next one), refuses NUL bytes. Yields pieces of about
 * TEXT_CHUNK characters (the last one shorter).
 */
async function* textOf(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new Utf8Decoder();
  let first = true;
  let pendingCr = false;
  let parts: string[] = [];
  let size = 0;
  for await (const piece of source) {
    if (typeof piece !== 'string' && piece.indexOf(NUL) >= 0) throw new InvalidFileError('not a text file (it contains NUL bytes)');
    let text: string = (pendingCr ? CARRIAGE_RETURN : '') + (typeof piece === 'string' ? piece : decoder.decode(piece));
    if (typeof piece === 'string' && piece.includes('\u0000')) throw new InvalidFileError('not a text file (it contains NUL bytes)');
    if (first && text.length > 0) {
      if (text.startsWith(BOM)) text = text.slice(BOM.length);
      first = false;
    }
    pendingCr = text.endsWith(CARRIAGE_RETURN);
    if (pendingCr) text = text.slice(0, -1);
    if (text.includes(CARRIAGE_RETURN)) text = text.replace(/\r\n/g, '\n');
    if (text.length === 0) continue;
    if (size === 0 && text.length >= TEXT_CHUNK) {
      // a large piece (a file read a megabyte at a time) in pieces of TEXT_CHUNK, the rest kept
      let at = 0;
      for (; text.length - at >= TEXT_CHUNK; at += TEXT_CHUNK) yield text.substring(at, at + TEXT_CHUNK);
      if (at === text.length) continue;
      text = text.substring(at);
    }
    parts.push(text);
    size += text.length;
    if (size < TEXT_CHUNK) continue;
    yield parts.length === 1 ? parts[0]! : parts.join('');
    parts = [];
    size = 0;
  }
  const rest = (pendingCr ? CARRIAGE_RETURN : '') + decoder.end();
  if (rest.length > 0) parts.push(rest);
  if (parts.length > 0) yield parts.join('');
}

/**
 * Decodes a stream of UTF-8 pieces, refusing anything else (a Windows-1252 file would otherwise
 * lose characters). A piece of ASCII alone (the common file, every piece of it) is its own text,
 * copied byte for byte (a fifth of the decoder's time), unless the decoder may hold the first
 * bytes of a character the piece before ended in.
 */
class Utf8Decoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** the last piece went through the decoder and did not end in ASCII */
  private pending = false;

  decode(bytes: Uint8Array): string {
    if (!this.pending && isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    // a piece ending in ASCII leaves nothing in the decoder (a cut character before it is an error)
    this.pending = bytes.length > 0 && bytes[bytes.length - 1]! >= ASCII_END;
    return this.run(bytes, true);
  }

  /** What the decoder holds at the end: nothing, or an error for a cut character. */
  end(): string {
    return this.run(new Uint8Array(0), false);
  }

  private run(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.decoder.decode(bytes, { stream });
    } catch {
      throw new InvalidFileError('not a UTF-8 text file (save it as UTF-8 and upload it again)');
    }
  }
}

function countNewlines(fields: readonly string[]): number {
  let n = 0;
  for (const field of fields) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * A blank line, or one whose fields are all empty or whitespace (`,,,`: a spreadsheet's empty row,
 * Papa Parse's "greedy" empty line): not a row. A row starting with a visible ASCII character is
 * not blank, without trimming a field.
 */
function isBlank(fields: readonly string[]): boolean {
  const first = fields[0]!.charCodeAt(0);
  if (first > SPACE && first < DEL) return false;
  for (const field of fields) if (field.trim() !== '') return false;
  return true;
}

/** The rows Papa Parse made of one piece of text, and its first complaint about each row that has one. */
interface RowChunk {
  readonly rows: string[][];
  /** the text they were made of */
  readonly text: string;
  /** By row index in `rows`; null when Papa Parse had none. */
  readonly problems: ReadonlyMap<number, string> | null;
  /** The text held no quote: no field holds a line break, every row is one line. */
  readonly unquoted: boolean;
}

function rowChunk(result: Papa.ParseResult<string[]>, text: string): RowChunk {
  let problems: Map<number, string> | null = null;
  for (const e of result.errors) {
    if (e.row === undefined) continue;
    problems ??= new Map();
    if (!problems.has(e.row)) problems.set(e.row, e.message);
  }
  return { rows: result.data, text, problems, unquoted: text.indexOf(QUOTE) < 0 };
}

/**
 * Runs Papa Parse's parser over the text, piece by piece, as ChunkStreamer does inside Papa.parse
 * (a piece's unfinished last row waits for the next piece), without its stream plumbing: the
 * source is pulled as the rows are consumed, so a slow consumer holds back the reading.
 */
async function* rowChunks(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<RowChunk> {
  const parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: QUOTE });
  let rest = '';
  for await (const text of textOf(source)) {
    const input = rest + text;
    const result = parser.parse(input, 0, true) as Papa.ParseResult<string[]>;
    rest = input.slice(result.meta.cursor);
    if (result.data.length > 0) yield rowChunk(result, input);
  }
  if (rest.length > 0) yield rowChunk(parser.parse(rest, 0, false) as Papa.ParseResult<string[]>, rest);
}

/** Quote-free text whose lines are whole rows, read without Papa Parse (see ColumnsReading.readLines). */
interface LineChunk {
  readonly text: string;
  /** the lines are text[0, end): each ends with a line feed, but for a file's last line */
  readonly end: number;
}

/**
 * rowChunks for the readers into columns: a piece of text without a quote (the common file, all
 * of it) comes as its whole lines, which Papa Parse would split at line feeds and commas (its
 * "fast mode", String.split); any other piece as the rows Papa Parse made of it.
 */
async function* rowOrLineChunks(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<RowChunk | LineChunk> {
  const parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: QUOTE });
  let rest = '';
  for await (const text of textOf(source)) {
    const input = rest + text;
    if (input.indexOf(QUOTE) < 0) {
      const end = input.lastIndexOf(NEWLINE_CHAR) + 1;
      rest = input.slice(end);
      if (end > 0) yield { text: input, end };
      continue;
    }
    const result = parser.parse(input, 0, true) as Papa.ParseResult<string[]>;
    rest = input.slice(result.meta.cursor);
    if (result.data.length > 0) yield rowChunk(result, input);
  }
  if (rest.length === 0) return;
  if (rest.indexOf(QUOTE) < 0) yield { text: rest, end: rest.length };
  else yield rowChunk(parser.parse(rest, 0, false) as Papa.ParseResult<string[]>, rest);
}

/** Papa Parse's complaint about a row, as a rejection reason. */
const notCsv = (problem: string): string => `the row is not valid CSV (${problem.toLowerCase()})`;

/** The header from the first non-blank row. */
function headerOf(fields: readonly string[], problem: string | undefined, schema: CustomerSchema, known: KnownValues = {}): HeaderMap {
  if (problem !== undefined) throw new InvalidFileError('the header row is not valid CSV');
  if (fields.every((f) => f.trim() === '')) throw new InvalidFileError('the header row is empty');
  return resolveHeader(fields, schema, known);
}

/**
 * Parses a customer CSV stream. Yields the resolved header first, then batches of records in file
 * order, each with its physical starting line (the header is line `firstLine`, 1 unless the stream
 * is a header followed by a later part of a file). Throws InvalidFileError when the stream cannot be
 * read as the contract (empty, no header, missing column). A row starts on the line after the
 * previous row ends, and ends after the line breaks its fields hold (line breaks are only ever
 * inside fields or between rows), so lines are counted from the fields alone.
 */
export async function* parseCustomerRecords(
  source: AsyncIterable<Uint8Array | string>,
  firstLine = 1,
  schema: CustomerSchema = MALL_SCHEMA,
  known: KnownValues = {},
): AsyncGenerator<HeaderMap | ParsedRecord[]> {
  let header: HeaderMap | undefined;
  let scratch: RowValues | undefined;
  let line = firstLine;
  for await (const { rows, problems, unquoted } of rowChunks(source)) {
    const records: ParsedRecord[] = [];
    // the batch's values, row r's at r × width (one array per batch, not one per row)
    let block: Float64Array | undefined;
    for (let r = 0; r < rows.length; r++) {
      const fields = rows[r]!;
      const start = line;
      line += unquoted ? 1 : 1 + countNewlines(fields);
      const problem = problems?.get(r);
      if (problem === undefined && isBlank(fields)) continue;
      if (header === undefined) {
        header = headerOf(fields, problem, schema, known);
        scratch = emptyRowValues(header);
        yield header;
        continue;
      }
      const customerId = fields[header.idColumn] ?? '';
      const reason = problem !== undefined ? notCsv(problem) : checkRow(fields, header, scratch!);
      if (reason !== null) {
        records.push({ kind: 'rejected', row: { line: start, customerId, reason, fields } });
        continue;
      }
      const width = header.rules.length;
      block ??= new Float64Array(rows.length * width);
      const at = r * width;
      for (let p = 0; p < width; p++) block[at + p] = scratch!.values[p]!;
      records.push({ kind: 'accepted', row: new ParsedRow(start, fields, customerId, header, block, at) });
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
  for await (const batch of parseCustomerRecords(source, 1, options.schema)) {
    if (!Array.isArray(batch)) {
      header = batch;
      continue;
    }
    for (const item of batch) {
      rowsRead++;
      if (options.onProgress && rowsRead % every === 0) options.onProgress(rowsRead);
      const { customerId } = item.row;
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

/** Rows 0..rows-1 numbered as themselves, with room to grow. */
function identity(rows: number): Int32Array {
  const out = new Int32Array(Math.max(1024, Math.ceil(rows * 1.5)));
  for (let row = 0; row < rows; row++) out[row] = row;
  return out;
}

/**
 * Rows read into columns, with the rules of readCustomerColumns: the accepted customers' values,
 * every id recorded for the duplicate rule, the rejected rows, the accepted rows' canonical text.
 * A whole file is read this way, or a part of one on another thread (see ColumnsPart).
 */
/**
 * A customer CSV read into columns, row by row, with the rules of readCustomerCsv: the accepted
 * customers' values, every id recorded for the duplicate rule, the rejected rows, and the
 * accepted rows' fingerprint, taken as they are read (it holds unless a row is superseded).
 */
class ColumnsReading {
  private builder: CustomerColumnsBuilder | undefined;
  private readonly ids = new DuplicateFinder();
  private fingerprint: Fingerprinter | undefined;
  private readonly rejected: RejectedRow[] = [];
  // per accepted row: its id's row in the duplicate finder (which has its id and line); null while
  // that is the row's own number (until a rejected row's id is recorded too: not in a clean file)
  private idRows: Int32Array | null = null;
  private header: HeaderMap | undefined;
  private rowsRead = 0;
  /** the physical line of the next line */
  private line = 1;
  private values: RowValues | undefined;
  private readonly every: number;
  /** where the fields of a plain row start (see readPlainRow) */
  private bounds = new Int32Array(0);

  constructor(
    private readonly schema: CustomerSchema,
    private readonly onProgress: ((rowsRead: number) => void) | undefined,
    every: number | undefined,
    /** the source's size in bytes, if known, until the ids' room is made from it */
    private bytes: number | undefined,
  ) {
    this.every = every ?? DEFAULT_PROGRESS_EVERY;
  }

  /** Reads the rows Papa Parse made of one piece of text, or the lines of quote-free text. */
  read(chunk: RowChunk | LineChunk): void {
    if ('end' in chunk) this.readLines(chunk);
    else {
      const { rows, problems, unquoted } = chunk;
      for (let r = 0; r < rows.length; r++) {
        const fields = rows[r]!;
        const start = this.line;
        this.line += unquoted ? 1 : 1 + countNewlines(fields);
        this.readRow(fields, start, problems?.get(r));
      }
    }
    if (this.bytes !== undefined) {
      // the first piece's share of the file (its characters, about its bytes) predicts the ids
      const text = 'end' in chunk ? chunk.end : chunk.text.length;
      this.ids.reserveFor(((1 + ESTIMATE_MARGIN) * this.bytes) / Math.max(1, text));
      this.bytes = undefined;
    }
  }

  /**
   * Reads whole lines of quote-free text, each a row whose fields are its comma-separated parts
   * (what Papa Parse makes of quote-free text, with String.split). A row in the plain form of the
   * common file (readPlainRow) is read from the text in place: no array, no string but its id.
   */
  private readLines({ text, end }: LineChunk): void {
    for (let at = 0; at < end;) {
      let lineEnd = text.indexOf(NEWLINE_CHAR, at);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end; // a file's last line, without a line end
      const start = this.line++;
      if (!this.readPlainRow(text, at, lineEnd, start)) this.readRow(text.substring(at, lineEnd).split(','), start, undefined);
      at = lineEnd + 1;
    }
  }

  /**
   * Reads the line text[from, to) if it is a data row checkRow would accept with every field in
   * its plain form: the header's number of fields, an id starting with a visible ASCII character
   * and at most MAX_ID_LENGTH long, the gender written Female, Male, F or M, the numbers as digits
   * (income also with one point) within the contract's ranges; the same values checkRow gives.
   * False, with nothing read, for any other line (readRow then reads it, as it reads every line).
   */
  private readPlainRow(text: string, from: number, to: number, line: number): boolean {
    const { header, values, builder, fingerprint } = this;
    if (header === undefined || values === undefined || builder === undefined || fingerprint === undefined) return false;
    // a blank line, or one starting with a space or other character, is left to readRow
    const first = text.charCodeAt(from);
    if (!(first > SPACE && first < DEL)) return false;
    const fields = header.columns.length;
    const bounds = this.bounds.length === fields + 1 ? this.bounds : (this.bounds = new Int32Array(fields + 1));
    // field f is text[bounds[f], bounds[f + 1] - 1)
    bounds[0] = from;
    let f = 0;
    for (let comma = text.indexOf(',', from); comma >= 0 && comma < to; comma = text.indexOf(',', comma + 1)) {
      if (++f === fields) return false;
      bounds[f] = comma + 1;
    }
    if (f !== fields - 1) return false;
    bounds[fields] = to + 1;
    const idStart = bounds[header.idColumn]!;
    const idEnd = bounds[header.idColumn + 1]! - 1;
    const idFirst = text.charCodeAt(idStart);
    if (idEnd === idStart || !(idFirst > SPACE && idFirst < DEL) || idEnd - idStart > MAX_ID_LENGTH) return false;
    const into = values.values;
    for (const rule of header.rules) {
      const start = bounds[rule.column]!;
      const end = bounds[rule.column + 1]! - 1;
      if (rule.kind === 'categorical') {
        const code = rule.categories.exactCode(text, start, end);
        if (code < 0) return false;
        into[rule.position] = code;
        continue;
      }
      let value = plainWhole(text, start, end);
      if (value < 0) {
        if (rule.integer || !isPlainDecimal(text, start, end)) return false;
        value = Number(text.substring(start, end));
        if (!Number.isFinite(value)) return false;
      }
      // a plain number is never negative: the bounds are the only rule left
      if (value < rule.min || value > rule.max) return false;
      into[rule.position] = value;
    }
    this.rowsRead++;
    if (this.onProgress && this.rowsRead % this.every === 0) this.onProgress(this.rowsRead);
    // accepted, its id taken from the line (as accept does from a string)
    this.ids.addFrom(text, idStart, idEnd, line, true);
    fingerprint.addFrom(text, idStart, idEnd, into);
    this.recordIdRow();
    builder.push(into);
    return true;
  }

  /** Reads one row of fields that starts on physical line `line`, with Papa Parse's complaint about it if it had one. */
  private readRow(fields: string[], line: number, problem: string | undefined): void {
    if (problem === undefined && isBlank(fields)) return;
    const header = this.header;
    if (header === undefined) {
      this.start(headerOf(fields, problem, this.schema));
      return;
    }
    this.rowsRead++;
    if (this.onProgress && this.rowsRead % this.every === 0) this.onProgress(this.rowsRead);
    const reason = problem === undefined ? checkRow(fields, header, this.values!) : notCsv(problem);
    if (reason === null) {
      this.accept(line);
      return;
    }
    const customerId = fields[header.idColumn] ?? '';
    if (customerId.trim() !== '') {
      this.idRows ??= identity(this.builder!.length);
      this.ids.add(customerId, line, false);
    }
    this.rejected.push({ line, customerId, reason, fields });
  }

  /** The header is known: the rows' values have their places. */
  private start(header: HeaderMap): void {
    this.header = header;
    this.values = emptyRowValues(header);
    this.builder = new CustomerColumnsBuilder(header);
    this.fingerprint = new Fingerprinter(header);
  }

  /** Keeps the row whose values are in `values`. */
  private accept(line: number): void {
    const values = this.values!;
    this.ids.add(values.customerId, line, true);
    this.fingerprint!.add(values.customerId, values.values);
    this.recordIdRow();
    this.builder!.push(values.values);
  }

  /** The next accepted row's id is the finder's last (see idRows). */
  private recordIdRow(): void {
    if (this.idRows === null) return;
    const row = this.builder!.length;
    if (row >= this.idRows.length) this.idRows = grown(this.idRows, row + 1, 1.5);
    this.idRows[row] = this.ids.size - 1;
  }

  /** The columns of the rows read: the duplicate rule settled over every id, the superseded rows rejected and dropped. */
  finish(): CustomerColumnsCsv {
    const { header, builder, fingerprint, ids, rejected } = this;
    if (header === undefined || builder === undefined || fingerprint === undefined) {
      throw new InvalidFileError('the file is empty (no header row)');
    }
    let idRows = this.idRows;
    const superseded = ids.superseded();
    if (superseded.size > 0) {
      idRows ??= identity(builder.length);
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
    const idColumn = new PackedIdColumn(ids.packed(), idRows);
    const columns = builder.build(idColumn, superseded.size === 0 ? fingerprint.digest() : undefined);
    return { header, columns, rejected, rowsRead: this.rowsRead, duplicates: superseded.size };
  }
}

/**
 * Reads a whole customer CSV into columns, with the rules of readCustomerCsv (the later row wins),
 * keeping no object per accepted customer: what training a million rows holds in memory. The rows
 * come straight from the parser (no record object per row), as parseCustomerRecords reads them.
 */
export async function readCustomerColumns(
  source: AsyncIterable<Uint8Array | string>,
  options: Omit<ReadOptions, 'keepFields'> = {},
): Promise<CustomerColumnsCsv> {
  const reading = new ColumnsReading(options.schema ?? MALL_SCHEMA, options.onProgress, options.progressEvery, options.bytes);
  for await (const chunk of rowOrLineChunks(source)) reading.read(chunk);
  return reading.finish();
}
