// Streaming reader for customer CSV files: decodes and parses with csv-parse, tracks physical
// line numbers, validates each row against the contract and resolves duplicate customer IDs.

import { parse, type InfoRecord, type Options } from 'csv-parse';
import { InvalidFileError } from '../errors.ts';
import { resolveHeader, validateRow, type Customer, type HeaderMap } from './contract.ts';

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
  | { readonly kind: 'accepted'; readonly row: AcceptedRow }
  | { readonly kind: 'rejected'; readonly row: RejectedRow };

/** The whole file, validated: `rowsRead === accepted.length + rejected.length` always holds. */
export interface CustomerCsv {
  readonly header: HeaderMap;
  readonly accepted: readonly AcceptedRow[];
  readonly rejected: readonly RejectedRow[];
  readonly rowsRead: number;
  readonly duplicates: number;
}

export interface ReadOptions {
  /** Called with the number of rows read so far, every `progressEvery` rows. */
  readonly onProgress?: (rowsRead: number) => void;
  readonly progressEvery?: number;
}

const DEFAULT_PROGRESS_EVERY = 100_000;
const NEWLINE = 0x0a;
const NUL = 0x00;

interface LocatedRecord {
  readonly line: number;
  readonly fields: string[];
}

/** Counts newline bytes up to monotonically increasing byte offsets, dropping chunks it has passed. */
class LineIndex {
  private readonly chunks: Uint8Array[] = [];
  private chunkStart = 0; // absolute offset of chunks[0]
  private position = 0; // absolute offset counted so far
  private newlines = 0; // newlines in [0, position)

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }

  /** Physical line (1-based) of the byte at `offset`. */
  lineAt(offset: number): number {
    while (this.position < offset && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const end = Math.min(offset - this.chunkStart, chunk.length);
      for (let i = this.position - this.chunkStart; i < end; i++) if (chunk[i] === NEWLINE) this.newlines++;
      this.position = this.chunkStart + end;
      if (end === chunk.length) {
        this.chunks.shift();
        this.chunkStart += chunk.length;
      }
    }
    return this.newlines + 1;
  }
}

const encoder = new TextEncoder();

async function* bytesOf(source: AsyncIterable<Uint8Array | string>, index: LineIndex): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? encoder.encode(piece) : piece;
    if (chunk.indexOf(NUL) >= 0) throw new InvalidFileError('not a text file (it contains NUL bytes)');
    index.push(chunk);
    yield chunk;
  }
}

function countNewlines(fields: readonly string[]): number {
  let n = 0;
  for (const field of fields) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Parses a customer CSV stream record by record. Yields the resolved header first, then one
 * record per CSV row with its physical starting line (the header is line 1). Throws
 * InvalidFileError when the stream cannot be read as the contract (empty, no header, missing column).
 */
export async function* parseCustomerRecords(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<HeaderMap | ParsedRecord> {
  const index = new LineIndex();
  const skipped: RejectedRow[] = [];
  let lastEnd = 0;
  // line numbers are computed while parsing (in byte order), so records and skipped rows agree
  const locate = (record: string[], context: InfoRecord): LocatedRecord | null => {
    const line = index.lineAt(context.bytes - 1) - countNewlines(record);
    lastEnd = context.bytes;
    // a line of only spaces is a blank line, not a row
    if (record.length === 1 && record[0]!.trim() === '') return null;
    return { line, fields: record };
  };
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    skip_records_with_error: true,
    on_record: locate as unknown as Options['on_record'],
  });
  parser.on('skip', (error: Error) => {
    const line = index.lineAt(lastEnd);
    skipped.push({ line, customerId: '', reason: `the row is not valid CSV (${error.message.split(':')[0]})`, fields: [] });
  });
  const feeding = (async () => {
    try {
      for await (const chunk of bytesOf(source, index)) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) {
          await new Promise((resolve) => {
            parser.once('drain', resolve);
            parser.once('close', resolve);
          });
        }
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();

  let header: HeaderMap | undefined;
  try {
    for await (const { line, fields } of parser as AsyncIterable<LocatedRecord>) {
      while (skipped.length > 0) yield { kind: 'rejected', row: skipped.shift()! };
      if (header === undefined) {
        if (fields.every((f) => f.trim() === '')) throw new InvalidFileError('the header row is empty');
        header = resolveHeader(fields);
        yield header;
        continue;
      }
      const result = validateRow(fields, header);
      if (result.ok) yield { kind: 'accepted', row: { line, fields, customer: result.customer } };
      else yield { kind: 'rejected', row: { line, customerId: fields[header.index.customer_id] ?? '', reason: result.reason, fields } };
    }
  } finally {
    if (!parser.writableEnded) parser.destroy();
    await feeding;
  }
  while (skipped.length > 0) yield { kind: 'rejected', row: skipped.shift()! };
  if (header === undefined) throw new InvalidFileError('the file is empty (no header row)');
}

/**
 * Reads a whole customer CSV: every row ends accepted or rejected with a reason. When a
 * customer_id appears again later in the file the later row wins and the earlier one is rejected.
 */
export async function readCustomerCsv(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadOptions = {},
): Promise<CustomerCsv> {
  const every = options.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let header: HeaderMap | undefined;
  const accepted: (AcceptedRow | undefined)[] = [];
  const rejected: RejectedRow[] = [];
  const latest = new Map<string, { line: number; acceptedAt?: number }>();
  let rowsRead = 0;
  let duplicates = 0;

  const supersede = (customerId: string, line: number): void => {
    const earlier = latest.get(customerId);
    if (earlier?.acceptedAt === undefined) return;
    const row = accepted[earlier.acceptedAt]!;
    accepted[earlier.acceptedAt] = undefined;
    rejected.push({ line: row.line, customerId, reason: `duplicate customer_id, superseded by line ${line}`, fields: row.fields });
    duplicates++;
  };

  for await (const item of parseCustomerRecords(source)) {
    if (!('kind' in item)) {
      header = item;
      continue;
    }
    rowsRead++;
    if (options.onProgress && rowsRead % every === 0) options.onProgress(rowsRead);
    const { row } = item;
    const customerId = item.kind === 'accepted' ? item.row.customer.customerId : item.row.customerId;
    const hasId = customerId.trim() !== '';
    // the later row wins; an earlier row already rejected for its own reason stays as it is
    if (hasId) supersede(customerId, row.line);
    if (item.kind === 'accepted') {
      accepted.push(item.row);
      latest.set(customerId, { line: row.line, acceptedAt: accepted.length - 1 });
    } else {
      rejected.push(item.row);
      if (hasId) latest.set(customerId, { line: row.line });
    }
  }
  if (header === undefined) throw new InvalidFileError('the file is empty (no header row)');
  rejected.sort((a, b) => a.line - b.line);
  return { header, accepted: accepted.filter((r): r is AcceptedRow => r !== undefined), rejected, rowsRead, duplicates };
}
