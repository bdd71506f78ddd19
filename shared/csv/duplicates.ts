// The duplicate rule for million-row files (design.md: the later row wins): customer_ids are
// recorded in file order, packed as UTF-16 code units in one typed array with a hash each, and
// matched once at the end: the rows whose hashes may repeat are found with two bitmaps that stay
// in cache, and only they are radix-sorted by hash. No string object or hash-table probe per
// customer: a probe into a table of a million ids is a cache miss (~190 ns here, 0.4 s a million
// rows). About 12 bytes plus one per character for each id (two
// per character once an id has a character beyond Latin-1).

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

/** A finder's recorded rows (row n's id is chars[starts[n], starts[n + 1]); starts[0] is 0). */
export interface DuplicateRecords {
  readonly chars: Uint8Array | Uint16Array;
  readonly starts: Int32Array;
  readonly hashes: Uint32Array;
  readonly lines: Int32Array;
}

export class DuplicateFinder {
  /** the ids' UTF-16 code units, one byte each while they all fit */
  private chars: Uint8Array | Uint16Array = new Uint8Array(INITIAL_ROWS * 8);
  private charCount = 0;
  /** per recorded row: where its id starts in `chars` (row n ends where row n + 1 starts) */
  private starts = new Int32Array(INITIAL_ROWS + 1);
  private hashes = new Uint32Array(INITIAL_ROWS);
  /** per recorded row: its line, negative when a later row cannot supersede it */
  private lines = new Int32Array(INITIAL_ROWS);
  private rows = 0;

  /**
   * Records a row with a non-blank customer_id, in file order. A `supersedable` row (one that would
   * be kept) is superseded by the next row with the same id; any row can supersede.
   */
  add(id: string, line: number, supersedable: boolean): void {
    const row = this.rows++;
    if (row >= this.hashes.length) this.growRows(row + 1);
    const n = id.length;
    let at = this.charCount;
    if (at + n > this.chars.length) this.chars = grown(this.chars, at + n);
    let chars = this.chars;
    // the hash is taken as the id is copied: one pass over its characters
    let h = FNV_OFFSET;
    for (let i = 0; i < n; i++) {
      const unit = id.charCodeAt(i);
      if (unit > LATIN1_MAX && chars instanceof Uint8Array) chars = this.chars = Uint16Array.from(chars);
      chars[at++] = unit;
      h = Math.imul(h ^ unit, FNV_PRIME);
    }
    this.charCount = at;
    this.starts[row + 1] = at;
    this.hashes[row] = finalized(h);
    this.lines[row] = supersedable ? line : -line;
  }

  /** Room for `rows` rows in the per-row arrays, all grown together. */
  private growRows(rows: number): void {
    const capacity = Math.max(rows, this.hashes.length * 2);
    this.starts = grown(this.starts, capacity + 1, 1);
    this.hashes = grown(this.hashes, capacity, 1);
    this.lines = grown(this.lines, capacity, 1);
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
  }

  /**
   * The rows recorded so far, as typed arrays a worker thread can hand back (see append): copied
   * into the arrays of `into` where they fit (records handed back earlier: used memory is free,
   * fresh memory costs page faults), into new ones otherwise.
   */
  records(into?: DuplicateRecords): DuplicateRecords {
    const fits = <T extends Uint8Array | Uint16Array | Int32Array | Uint32Array>(target: T | undefined, source: T, n: number): T => {
      if (target === undefined || target.length < n || target.constructor !== source.constructor) return source.slice(0, n) as T;
      target.set(source.subarray(0, n));
      return target.subarray(0, n) as T;
    };
    return {
      chars: fits(into?.chars, this.chars, this.charCount),
      starts: fits(into?.starts, this.starts, this.rows + 1),
      hashes: fits(into?.hashes, this.hashes, this.rows),
      lines: fits(into?.lines, this.lines, this.rows),
    };
  }

  /** Appends another finder's records, as rows later in the file than this finder's. */
  append(records: DuplicateRecords): void {
    const rows = records.hashes.length;
    const base = this.rows;
    if (base + rows > this.hashes.length) this.growRows(base + rows);
    if (records.chars instanceof Uint16Array && this.chars instanceof Uint8Array) this.chars = Uint16Array.from(this.chars);
    this.chars = grown(this.chars, this.charCount + records.chars.length);
    this.chars.set(records.chars, this.charCount);
    for (let row = 0; row < rows; row++) this.starts[base + row + 1] = this.charCount + records.starts[row + 1]!;
    this.hashes.set(records.hashes, base);
    this.lines.set(records.lines, base);
    this.charCount += records.chars.length;
    this.rows += rows;
  }

  /** Rows recorded so far. */
  get size(): number {
    return this.rows;
  }

  /** The line recorded for row `row`. */
  lineAt(row: number): number {
    return Math.abs(this.lines[row]!);
  }

  /** The id of recorded row `row`. */
  idAt(row: number): string {
    return String.fromCharCode(...this.chars.subarray(this.starts[row]!, this.starts[row + 1]!));
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
      const line = this.lines[rows[i]!]!;
      if (line < 0) continue;
      for (let j = i + 1; j < rows.length; j++) {
        if (this.sameId(rows[i]!, rows[j]!)) {
          result.set(line, Math.abs(this.lines[rows[j]!]!));
          break;
        }
      }
    }
  }

  private sameId(a: number, b: number): boolean {
    const start = this.starts[a]!;
    const length = this.starts[a + 1]! - start;
    const other = this.starts[b]!;
    if (this.starts[b + 1]! - other !== length) return false;
    for (let i = 0; i < length; i++) if (this.chars[start + i] !== this.chars[other + i]) return false;
    return true;
  }
}
