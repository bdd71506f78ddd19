// The duplicate rule for million-row files (design.md: the later row wins): customer_ids are
// recorded in file order, packed as UTF-16 code units in one typed array with a hash each, and
// matched once at the end: the rows whose hashes may repeat are found with two bitmaps that stay
// in cache, and only they are radix-sorted by hash. No string object or hash-table probe per
// customer: a probe into a table of a million ids is a cache miss (~190 ns here, 0.4 s a million
// rows). About 12 bytes plus one per character for each id (two
// per character once an id has a character beyond Latin-1).

import { Buffer } from 'node:buffer';
import { grown } from './typed-arrays.ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const INITIAL_ROWS = 1024;
const RADIX_BITS = 16;
const RADIX = 1 << RADIX_BITS;
const LATIN1_MAX = 0xff;
/** Bits of the candidate bitmaps per recorded row (see candidates). */
const CANDIDATE_BITS = 16;
/** The bitmaps' largest size: 2^27 bits, 16 MB each (beyond 8 million rows more rows are candidates). */
const MAX_BITMAP_BITS = 27;

/**
 * An id's hash ends here: FNV-1a over its UTF-16 code units (taken in DuplicateFinder.add as the
 * id is copied), then MurmurHash3's finalizer (FNV alone leaves sequential ids like "0000001",
 * "0000002" with clustered bits).
 */
function finalized(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** `rows` (in increasing order) ordered by their key, stably (two 16-bit LSD radix passes). */
function sortedByKey(keys: Uint32Array, rows: Int32Array): Int32Array {
  const n = rows.length;
  let order: Int32Array<ArrayBufferLike> = rows;
  let next: Int32Array<ArrayBufferLike> = new Int32Array(n);
  const counts = new Int32Array(RADIX + 1);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((keys[order[i]!]! >>> shift) & (RADIX - 1)) + 1]!++;
    for (let b = 0; b < RADIX; b++) counts[b + 1]! += counts[b]!;
    for (let i = 0; i < n; i++) {
      const row = order[i]!;
      next[counts[(keys[row]! >>> shift) & (RADIX - 1)]!++] = row;
    }
    [order, next] = [next, order];
  }
  return order;
}

/**
 * The rows whose hash's low bits another row's hash has too, in increasing order: every row of a
 * repeated id, and about one row in CANDIDATE_BITS of the others. Two bitmaps of CANDIDATE_BITS
 * bits a row (4 MB for a million) that stay in cache, where sorting every row took 8 bytes a row
 * and a cache miss per row.
 */
function candidates(hashes: Uint32Array, n: number): Int32Array {
  const bits = Math.min(MAX_BITMAP_BITS, Math.max(5, Math.ceil(Math.log2(n * CANDIDATE_BITS))));
  const mask = 2 ** bits - 1;
  const seen = new Int32Array(2 ** (bits - 5));
  const again = new Int32Array(2 ** (bits - 5));
  let count = 0;
  for (let row = 0; row < n; row++) {
    const slot = (hashes[row]! & mask) >>> 0;
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    if ((seen[word]! & bit) === 0) seen[word]! |= bit;
    else if ((again[word]! & bit) === 0) {
      again[word]! |= bit;
      count += 2; // this row and the first with the slot, at least
    } else count++;
  }
  const rows = new Int32Array(count);
  let at = 0;
  for (let row = 0; row < n; row++) {
    const slot = (hashes[row]! & mask) >>> 0;
    if ((again[slot >>> 5]! & (1 << (slot & 31))) !== 0) rows[at++] = row;
  }
  return rows.subarray(0, at);
}

/**
 * Ids packed as UTF-16 code units, as a duplicate finder keeps them: id n is chars[start(n),
 * start(n + 1)), where start(n) is starts[n], or n × width when every id is `width` long.
 */
export interface PackedIds {
  readonly chars: Uint8Array | Uint16Array;
  readonly starts: Int32Array | null;
  readonly width: number;
}

/**
 * Packed id n: its code units decoded as Latin-1 bytes (or as UTF-16, in the machine's byte
 * order, little-endian wherever Node runs) by Buffer `text` over `chars`, a fifth of the time of
 * String.fromCharCode over them (training asks for every id, for its sample order).
 */
function packedId({ chars, starts, width }: PackedIds, text: Buffer, n: number): string {
  const start = starts === null ? n * width : starts[n]!;
  const end = starts === null ? start + width : starts[n + 1]!;
  return chars instanceof Uint8Array ? text.toString('latin1', start, end) : text.toString('utf16le', start * 2, end * 2);
}

const bufferOf = (chars: Uint8Array | Uint16Array): Buffer => Buffer.from(chars.buffer, chars.byteOffset, chars.byteLength);

/** The ids of some rows, by row: row r's is packed id rows[r] (or r, without `rows`). */
export class PackedIdColumn {
  private readonly text: Buffer;

  constructor(
    readonly packed: PackedIds,
    readonly rows: Int32Array | null,
  ) {
    this.text = bufferOf(packed.chars);
  }

  get(row: number): string {
    return packedId(this.packed, this.text, this.rows === null ? row : this.rows[row]!);
  }
}

/** A finder's recorded rows (row n's id is chars[starts[n], starts[n + 1]); starts[0] is 0). */
export interface DuplicateRecords {
  readonly chars: Uint8Array | Uint16Array;
  readonly starts: Int32Array;
  readonly hashes: Uint32Array;
  /** per row: its line, negative when a later row cannot supersede it */
  readonly lines: Int32Array;
}

type Recorded = Uint8Array | Uint16Array | Int32Array | Uint32Array;

/** `source[0, n)` in `target` where it fits (and is of its kind), else in a new array. */
function fits<T extends Recorded>(target: T | undefined, source: T, n: number): T {
  if (target === undefined || target.length < n || target.constructor !== source.constructor) return source.slice(0, n) as T;
  target.set(source.subarray(0, n));
  return target.subarray(0, n) as T;
}

/** `first + step * i` for i in [0, n), in `target` where it fits, else in a new array. */
function progression(target: Int32Array | undefined, n: number, first: number, step: number): Int32Array {
  const out: Int32Array = target !== undefined && target.length >= n ? target.subarray(0, n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = first + step * i;
  return out;
}

/** `array` if it has `n` elements, else a new array of `n` (the rows in it are written again). */
const withRoom = (array: Int32Array, n: number): Int32Array => (array.length >= n ? array : new Int32Array(n));

/** Whether values[i] is first + step * i for every i. */
function isProgression(values: Int32Array, first: number, step: number): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== first + step * i) return false;
  return true;
}

/**
 * The ids and lines of the rows recorded, for the duplicate rule. Two of the per-row arrays are
 * kept only once they say something: where each id starts, while every id has the same length
 * (a file's ids are often numbers of one width), and each row's line, while the rows are on
 * consecutive lines and all supersedable (a file with no blank, rejected or multi-line row). A
 * clean million-row file of 7-character ids takes 11 bytes a row, 7 once the rule is settled.
 */
export class DuplicateFinder {
  /** the ids' UTF-16 code units, one byte each while they all fit */
  private chars: Uint8Array | Uint16Array = new Uint8Array(INITIAL_ROWS * 8);
  private charCount = 0;
  private hashes = new Uint32Array(INITIAL_ROWS);
  private rows = 0;
  /** per recorded row: where its id starts in `chars` (row n ends where row n + 1 starts), once ids differ in length */
  private starts: Int32Array = new Int32Array(0);
  private startsKept = false;
  /** every id's length while they all have one (row n starts at n × width) */
  private width = 0;
  /** per recorded row: its line, negative when a later row cannot supersede it, once they are not firstLine + n */
  private lines: Int32Array = new Int32Array(0);
  private linesKept = false;
  /** row 0's line while row n's is firstLine + n */
  private firstLine = 0;
  /** `chars` as a Buffer, for idAt */
  private text: Buffer | undefined;

  /**
   * Records a row with a non-blank customer_id, in file order. A `supersedable` row (one that would
   * be kept) is superseded by the next row with the same id; any row can supersede.
   */
  add(id: string, line: number, supersedable: boolean): void {
    this.addFrom(id, 0, id.length, line, supersedable);
  }

  /** add, of the id text[from, to) (a reader's line, without a string for the id). */
  addFrom(text: string, from: number, to: number, line: number, supersedable: boolean): void {
    const row = this.rows++;
    if (row >= this.hashes.length) this.growRows(row + 1);
    const n = to - from;
    if (!this.startsKept && n !== this.width) {
      if (row === 0) this.width = n;
      else this.keepStarts(row);
    }
    if (!this.linesKept) {
      if (row === 0) this.firstLine = line;
      if (!supersedable || line !== this.firstLine + row) this.keepLines(row);
    }
    let at = this.charCount;
    if (at + n > this.chars.length) this.chars = grown(this.chars, at + n);
    let chars = this.chars;
    // the hash is taken as the id is copied: one pass over its characters
    let h = FNV_OFFSET;
    for (let i = from; i < to; i++) {
      const unit = text.charCodeAt(i);
      if (unit > LATIN1_MAX && chars instanceof Uint8Array) chars = this.chars = Uint16Array.from(chars);
      chars[at++] = unit;
      h = Math.imul(h ^ unit, FNV_PRIME);
    }
    this.charCount = at;
    if (this.startsKept) this.starts[row + 1] = at;
    this.hashes[row] = finalized(h);
    if (this.linesKept) this.lines[row] = supersedable ? line : -line;
  }

  /** Keeps each row's start from now on: rows 0..rows-1 had ids of `width` characters. */
  private keepStarts(rows: number): void {
    this.starts = withRoom(this.starts, this.hashes.length + 1);
    for (let row = 0; row <= rows; row++) this.starts[row] = row * this.width;
    this.startsKept = true;
  }

  /** Keeps each row's line from now on: rows 0..rows-1 were supersedable, on consecutive lines from firstLine. */
  private keepLines(rows: number): void {
    this.lines = withRoom(this.lines, this.hashes.length);
    for (let row = 0; row < rows; row++) this.lines[row] = this.firstLine + row;
    this.linesKept = true;
  }

  /** Room for `rows` rows in the per-row arrays, all grown together. */
  private growRows(rows: number): void {
    const capacity = Math.max(rows, this.hashes.length * 2);
    this.hashes = grown(this.hashes, capacity, 1);
    if (this.startsKept) this.starts = grown(this.starts, capacity + 1, 1);
    if (this.linesKept) this.lines = grown(this.lines, capacity, 1);
  }

  /**
   * Room for `rows` rows of `chars` characters in all, made at once (a caller that can estimate a
   * file's rows saves the copies of growing and the memory they hold at once).
   */
  reserve(rows: number, chars: number): void {
    if (rows > this.hashes.length) this.growRows(rows);
    this.chars = grown(this.chars, chars, 1);
  }

  /** Room for `scale` times the rows and characters recorded so far (see reserve). */
  reserveFor(scale: number): void {
    if (this.rows > 0 && scale > 1) this.reserve(Math.ceil(this.rows * scale), Math.ceil(this.charCount * scale));
  }

  /** Forgets every row recorded so far, keeping the room (a worker records each chunk of a file apart). */
  clear(): void {
    this.rows = 0;
    this.charCount = 0;
    this.startsKept = false;
    this.linesKept = false;
  }

  /**
   * The rows recorded so far, as typed arrays a worker thread can hand back (see append): copied
   * into the arrays of `into` where they fit (records handed back earlier: used memory is free,
   * fresh memory costs page faults), into new ones otherwise.
   */
  records(into?: DuplicateRecords): DuplicateRecords {
    const n = this.rows;
    return {
      chars: fits(into?.chars, this.chars, this.charCount),
      starts: this.startsKept ? fits(into?.starts, this.starts, n + 1) : progression(into?.starts, n + 1, 0, this.width),
      hashes: fits(into?.hashes, this.hashes, n),
      lines: this.linesKept ? fits(into?.lines, this.lines, n) : progression(into?.lines, n, this.firstLine, 1),
    };
  }

  /** Appends another finder's records, as rows later in the file than this finder's. */
  append(records: DuplicateRecords): void {
    const rows = records.hashes.length;
    if (rows === 0) return;
    const base = this.rows;
    if (base + rows > this.hashes.length) this.growRows(base + rows);
    if (!this.startsKept) {
      if (base === 0) this.width = records.starts[1]! - records.starts[0]!;
      if (!isProgression(records.starts, 0, this.width)) this.keepStarts(base);
    }
    if (!this.linesKept) {
      if (base === 0) this.firstLine = records.lines[0]!;
      if (this.firstLine <= 0 || !isProgression(records.lines, this.firstLine + base, 1)) this.keepLines(base);
    }
    if (records.chars instanceof Uint16Array && this.chars instanceof Uint8Array) this.chars = Uint16Array.from(this.chars);
    this.chars = grown(this.chars, this.charCount + records.chars.length);
    this.chars.set(records.chars, this.charCount);
    if (this.startsKept) for (let row = 0; row < rows; row++) this.starts[base + row + 1] = this.charCount + records.starts[row + 1]!;
    this.hashes.set(records.hashes, base);
    if (this.linesKept) this.lines.set(records.lines, base);
    this.charCount += records.chars.length;
    this.rows += rows;
  }

  /** Rows recorded so far. */
  get size(): number {
    return this.rows;
  }

  /** The line recorded for row `row`. */
  lineAt(row: number): number {
    return this.linesKept ? Math.abs(this.lines[row]!) : this.firstLine + row;
  }

  /** Row `row`'s line, negative when a later row cannot supersede it. */
  private signedLine(row: number): number {
    return this.linesKept ? this.lines[row]! : this.firstLine + row;
  }

  /** Where row `row`'s id starts in `chars` (and row `row` − 1's ends). */
  private start(row: number): number {
    return this.startsKept ? this.starts[row]! : row * this.width;
  }

  /** The id of recorded row `row`. */
  idAt(row: number): string {
    if (this.text?.buffer !== this.chars.buffer) this.text = bufferOf(this.chars);
    return packedId({ chars: this.chars, starts: this.startsKept ? this.starts : null, width: this.width }, this.text, row);
  }

  /** The ids recorded so far, packed (views of the finder's arrays: no more rows may be added). */
  packed(): PackedIds {
    return {
      chars: this.chars.subarray(0, this.charCount),
      starts: this.startsKept ? this.starts.subarray(0, this.rows + 1) : null,
      width: this.width,
    };
  }

  /**
   * Line of each superseded row → line of the row that superseded it (the next with its id). Called
   * once, at the end: the hashes are released (ids and lines stay, for idAt and lineAt).
   */
  superseded(): Map<number, number> {
    const result = new Map<number, number>();
    const order = sortedByKey(this.hashes, candidates(this.hashes, this.rows));
    const n = order.length;
    for (let start = 0; start < n;) {
      let end = start + 1;
      const h = this.hashes[order[start]!]!;
      while (end < n && this.hashes[order[end]!] === h) end++;
      if (end - start > 1) this.supersedeWithin(order.subarray(start, end), result);
      start = end;
    }
    this.hashes = new Uint32Array(0);
    return result;
  }

  /** Rows with one hash, in file order: each supersedable row is superseded by the next equal id. */
  private supersedeWithin(rows: Int32Array, result: Map<number, number>): void {
    for (let i = 0; i < rows.length; i++) {
      const line = this.signedLine(rows[i]!);
      if (line < 0) continue;
      for (let j = i + 1; j < rows.length; j++) {
        if (this.sameId(rows[i]!, rows[j]!)) {
          result.set(line, Math.abs(this.signedLine(rows[j]!)));
          break;
        }
      }
    }
  }

  private sameId(a: number, b: number): boolean {
    const start = this.start(a);
    const length = this.start(a + 1) - start;
    const other = this.start(b);
    if (this.start(b + 1) - other !== length) return false;
    for (let i = 0; i < length; i++) if (this.chars[start + i] !== this.chars[other + i]) return false;
    return true;
  }
}
