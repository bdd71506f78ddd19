// The sample order: one deterministic order of customers for a seed, from a hash of the seed and
// each customer_id, so that every sample training draws is a prefix of it, the same rows whichever
// order they were read in, and a PostgreSQL query can fetch the same prefix.

import { InvalidOptionError } from '../errors.ts';

/**
 * Customer ids packed as UTF-16 code units, as a reader holds them: row r's id is
 * `units[starts[at], starts[at + 1])` where `at` is `rows[r]`, or r when `rows` is null.
 */
export interface PackedIds {
  readonly length: number;
  readonly units: Uint8Array | Uint16Array;
  readonly starts: Int32Array;
  readonly rows: Int32Array | null;
}

/**
 * Customer ids by row: an array, a function of the row number (with the row count given apart), or
 * packed (read without a string per id: at 10⁶ ids, making the strings can cost more than hashing
 * them).
 */
export type SampleIds = readonly string[] | ((row: number) => string) | PackedIds;

/**
 * A customer's sample key for a seed: the MD5 digest of the UTF-8 text `${seed}:${customer_id}`
 * as 32 lowercase hex digits (the seed as `String(seed)`, its decimal digits). Keys compare as
 * strings of hex digits, which is the 16 digest bytes compared unsigned, big-endian.
 *
 * The sample order of a set of customers is ascending key, ties (equal ids) by customer_id in
 * UTF-8 byte order. Its SQL twin, in PostgreSQL:
 *
 *   ORDER BY md5(CAST(:seed AS text) || ':' || customer_id) COLLATE "C", customer_id COLLATE "C"
 *
 * (`md5` hashes the text's bytes in the database's encoding, UTF-8; "C" compares bytes, so the
 * order of the hex text does not depend on the database's default collation).
 */
export function sampleKey(id: string, seed: number): string {
  checkSeed(seed);
  const keys = new Md5Keys(seed);
  keys.ofString(id);
  const state = keys.state;
  let hex = '';
  for (let w = 0; w < 4; w++) {
    for (let b = 0; b < 32; b += 8) hex += ((state[w]! >>> b) & 0xff).toString(16).padStart(2, '0');
  }
  return hex;
}

/**
 * Row numbers of the first `limit` rows (all by default) in the sample order of `ids` for `seed`
 * (see sampleKey). A sample of m rows is the first m of this order, whatever order the rows came
 * in: the same rows a query ordered by the SQL twin and limited to m returns. With `ids` as a
 * function, `rows` says how many there are.
 *
 * One pass hashes every id and keeps the `limit` smallest keys so far in a max-heap: no array per
 * row and no sort of n keys (a key beats the heap's largest ever more rarely, about
 * limit·ln(n / limit) times in all).
 */
export function sampleOrder(ids: SampleIds, seed: number, limit?: number, rows?: number): Int32Array {
  checkSeed(seed);
  const n = typeof ids === 'function' ? rows : ids.length;
  if (n === undefined || !Number.isInteger(n) || n < 0)
    throw new InvalidOptionError(`the number of rows must be a whole number ≥ 0 (got ${n})`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
    throw new InvalidOptionError(`the sample size must be a whole number ≥ 0 (got ${limit})`);
  const idAt = typeof ids === 'function' ? ids : isPacked(ids) ? packedIdAt(ids) : (row: number) => ids[row]!;
  const m = Math.min(n, limit ?? n);
  if (m === 0) return new Int32Array(0);
  const heap = new KeyHeap(m, idAt);
  const keys = new Md5Keys(seed);
  const state = keys.state;
  if (isPacked(ids)) {
    const { units, starts, rows: at } = ids;
    for (let row = 0; row < n; row++) {
      const i = at === null ? row : at[row]!;
      keys.ofUnits(units, starts[i]!, starts[i + 1]!);
      if (row < m) heap.set(row, row, state);
      else {
        if (row === m) heap.heapify();
        heap.offer(row, state);
      }
    }
  } else {
    for (let row = 0; row < n; row++) {
      keys.ofString(idAt(row));
      if (row < m) heap.set(row, row, state);
      else {
        if (row === m) heap.heapify();
        heap.offer(row, state);
      }
    }
  }
  if (m === n) heap.heapify();
  return heap.sorted();
}

/**
 * The sample order of rows without ids (a bare matrix: tests, benchmarks): their row numbers as
 * decimal text taken as their ids.
 */
export function rowNumberOrder(rows: number, seed: number, limit?: number): Int32Array {
  return sampleOrder((row) => String(row), seed, limit, rows);
}

function isPacked(ids: SampleIds): ids is PackedIds {
  return typeof ids !== 'function' && !Array.isArray(ids);
}

function packedIdAt({ units, starts, rows }: PackedIds): (row: number) => string {
  return (row) => {
    const at = rows === null ? row : rows[row]!;
    return String.fromCharCode.apply(null, units.subarray(starts[at]!, starts[at + 1]!) as unknown as number[]);
  };
}

function checkSeed(seed: number): void {
  // a safe integer's String() is its decimal digits, as PostgreSQL's CAST(… AS text) of the same number
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError(`the seed must be a whole number (got ${seed})`);
}

/**
 * Digest words as big-endian keys, each with its sign bit flipped: compared as signed 32-bit
 * integers they order as the unsigned digest bytes do.
 */
function keyWord(word: number): number {
  return (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) ^ 0x80000000;
}

/**
 * The `capacity` smallest keys offered, as a max-heap of slots (key words and row); the ties of
 * equal keys (equal ids) go by id in UTF-8 byte order, then by row.
 */
class KeyHeap {
  private readonly k0: Int32Array;
  private readonly k1: Int32Array;
  private readonly k2: Int32Array;
  private readonly k3: Int32Array;
  private readonly row: Int32Array;

  constructor(
    private readonly capacity: number,
    private readonly idAt: (row: number) => string,
  ) {
    this.k0 = new Int32Array(capacity);
    this.k1 = new Int32Array(capacity);
    this.k2 = new Int32Array(capacity);
    this.k3 = new Int32Array(capacity);
    this.row = new Int32Array(capacity);
  }

  set(slot: number, row: number, state: Int32Array): void {
    this.k0[slot] = keyWord(state[0]!);
    this.k1[slot] = keyWord(state[1]!);
    this.k2[slot] = keyWord(state[2]!);
    this.k3[slot] = keyWord(state[3]!);
    this.row[slot] = row;
  }

  heapify(): void {
    for (let slot = (this.capacity >> 1) - 1; slot >= 0; slot--) this.siftDown(slot, this.capacity);
  }

  /** Puts the row in place of the largest key when its key is smaller. */
  offer(row: number, state: Int32Array): void {
    const k0 = keyWord(state[0]!);
    const top = this.k0[0]!;
    if (k0 > top) return;
    if (k0 === top && this.compareTo(0, keyWord(state[1]!), keyWord(state[2]!), keyWord(state[3]!), row) <= 0) return;
    this.set(0, row, state);
    this.siftDown(0, this.capacity);
  }

  /** The rows by ascending key (the heap is used up). */
  sorted(): Int32Array {
    for (let end = this.capacity - 1; end > 0; end--) {
      this.swap(0, end);
      this.siftDown(0, end);
    }
    return this.row;
  }

  /** Slot `slot`'s key against the given one: negative, zero or positive. */
  private compareTo(slot: number, k1: number, k2: number, k3: number, row: number): number {
    if (this.k1[slot] !== k1) return this.k1[slot]! < k1 ? -1 : 1;
    if (this.k2[slot] !== k2) return this.k2[slot]! < k2 ? -1 : 1;
    if (this.k3[slot] !== k3) return this.k3[slot]! < k3 ? -1 : 1;
    const other = this.row[slot]!;
    return compareUtf8(this.idAt(other), this.idAt(row)) || other - row;
  }

  /** Whether slot a's key is greater than slot b's. */
  private greater(a: number, b: number): boolean {
    const a0 = this.k0[a]!;
    const b0 = this.k0[b]!;
    if (a0 !== b0) return a0 > b0;
    return this.compareTo(a, this.k1[b]!, this.k2[b]!, this.k3[b]!, this.row[b]!) > 0;
  }

  private siftDown(slot: number, end: number): void {
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= end) return;
      const right = left + 1;
      const child = right < end && this.greater(right, left) ? right : left;
      if (!this.greater(child, slot)) return;
      this.swap(slot, child);
      slot = child;
    }
  }

  private swap(a: number, b: number): void {
    const { k0, k1, k2, k3, row } = this;
    let t = k0[a]!;
    k0[a] = k0[b]!;
    k0[b] = t;
    t = k1[a]!;
    k1[a] = k1[b]!;
    k1[b] = t;
    t = k2[a]!;
    k2[a] = k2[b]!;
    k2[b] = t;
    t = k3[a]!;
    k3[a] = k3[b]!;
    k3[b] = t;
    t = row[a]!;
    row[a] = row[b]!;
    row[b] = t;
  }
}

/** Two strings in the order of their UTF-8 bytes: the order of their code points. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 orders surrogates (supplementary code points) below U+E000–U+FFFF; UTF-8 above
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

const encoder = new TextEncoder();

/**
 * MD5 of `${seed}:` followed by an id in UTF-8, for one seed: `state` holds the digest's four
 * little-endian words after each call. Written here rather than taken from node:crypto because
 * keying 10⁶ ids is on every training's path: crypto.hash('md5', …) costs 280–310 ns an id (a
 * string in, a hex string out, through the C++ boundary; Node ≥ 20.12), createHash 1.3 µs, this
 * about 140 ns, of which the compression function is 110 ns (internal timing, CPU, minimum of 12
 * runs, ids of 7 ASCII digits; tested against node:crypto). The message is built a word at a time
 * in one reused buffer whose first words, the seed's, never change.
 */
class Md5Keys {
  /** The digest of the last message: four little-endian words. */
  readonly state = new Int32Array(4);
  private readonly prefix: Uint8Array;
  /** The message's 32-bit little-endian words (the prefix's whole words written once). */
  private words = new Int32Array(32);
  /** The prefix's bytes after its last whole word, as the start of the next word. */
  private readonly tail: number;

  constructor(seed: number) {
    const text = `${String(seed)}:`;
    this.prefix = Uint8Array.from(text, (c) => c.charCodeAt(0));
    let tail = 0;
    for (let i = this.prefix.length & ~3; i < this.prefix.length; i++) tail |= this.prefix[i]! << ((i & 3) << 3);
    this.tail = tail;
    this.grow(32);
  }

  /** The key of `id`; its UTF-16 code units read straight from the string while they are ASCII. */
  ofString(id: string): void {
    const p = this.prefix.length;
    const n = id.length;
    if (((p + n + 8) >>> 6) * 16 + 16 > this.words.length) this.grow(((p + n + 8) >>> 6) * 16 + 16);
    const w = this.words;
    let word = this.tail;
    let shift = (p & 3) << 3;
    let at = p >>> 2;
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) {
        this.ofBytes(encoder.encode(id));
        return;
      }
      word |= c << shift;
      shift += 8;
      if (shift === 32) {
        w[at++] = word;
        word = 0;
        shift = 0;
      }
    }
    this.finish(at, word, shift, p + n);
  }

  /** The key of the id whose UTF-16 code units are `units[from, to)`. */
  ofUnits(units: Uint8Array | Uint16Array, from: number, to: number): void {
    const p = this.prefix.length;
    const n = to - from;
    if (((p + n + 8) >>> 6) * 16 + 16 > this.words.length) this.grow(((p + n + 8) >>> 6) * 16 + 16);
    const w = this.words;
    let word = this.tail;
    let shift = (p & 3) << 3;
    let at = p >>> 2;
    for (let i = from; i < to; i++) {
      const c = units[i]!;
      if (c >= 0x80) {
        this.ofString(String.fromCharCode.apply(null, units.subarray(from, to) as unknown as number[]));
        return;
      }
      word |= c << shift;
      shift += 8;
      if (shift === 32) {
        w[at++] = word;
        word = 0;
        shift = 0;
      }
    }
    this.finish(at, word, shift, p + n);
  }

  private ofBytes(bytes: Uint8Array): void {
    const p = this.prefix.length;
    const n = bytes.length;
    if (((p + n + 8) >>> 6) * 16 + 16 > this.words.length) this.grow(((p + n + 8) >>> 6) * 16 + 16);
    const w = this.words;
    let word = this.tail;
    let shift = (p & 3) << 3;
    let at = p >>> 2;
    for (let i = 0; i < n; i++) {
      word |= bytes[i]! << shift;
      shift += 8;
      if (shift === 32) {
        w[at++] = word;
        word = 0;
        shift = 0;
      }
    }
    this.finish(at, word, shift, p + n);
  }

  private grow(size: number): void {
    this.words = new Int32Array(size);
    for (let i = 0; i < (this.prefix.length & ~3); i++) this.words[i >>> 2]! |= this.prefix[i]! << ((i & 3) << 3);
  }

  /** Pads the message of `length` bytes (written up to word `at`, then `word`'s first `shift` bits) and hashes it. */
  private finish(at: number, word: number, shift: number, length: number): void {
    const w = this.words;
    w[at++] = word | (0x80 << shift);
    const blocks = ((length + 8) >>> 6) + 1;
    const end = blocks * 16 - 2;
    while (at < end) w[at++] = 0;
    w[end] = length << 3;
    w[end + 1] = length >>> 29;
    this.compress(blocks);
  }

  private compress(blocks: number): void {
    const w = this.words;
    let a = 0x67452301;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476;
    for (let block = 0; block < blocks; block++) {
      const o = block * 16;
      const aa = a;
      const bb = b;
      const cc = c;
      const dd = d;
      const w0 = w[o]!;
      const w1 = w[o + 1]!;
      const w2 = w[o + 2]!;
      const w3 = w[o + 3]!;
      const w4 = w[o + 4]!;
      const w5 = w[o + 5]!;
      const w6 = w[o + 6]!;
      const w7 = w[o + 7]!;
      const w8 = w[o + 8]!;
      const w9 = w[o + 9]!;
      const w10 = w[o + 10]!;
      const w11 = w[o + 11]!;
      const w12 = w[o + 12]!;
      const w13 = w[o + 13]!;
      const w14 = w[o + 14]!;
      const w15 = w[o + 15]!;
      a = (((b & c) | (~b & d)) + a + w0 + -680876936) | 0;
      a = (((a << 7) | (a >>> 25)) + b) | 0;
      d = (((a & b) | (~a & c)) + d + w1 + -389564586) | 0;
      d = (((d << 12) | (d >>> 20)) + a) | 0;
      c = (((d & a) | (~d & b)) + c + w2 + 606105819) | 0;
      c = (((c << 17) | (c >>> 15)) + d) | 0;
      b = (((c & d) | (~c & a)) + b + w3 + -1044525330) | 0;
      b = (((b << 22) | (b >>> 10)) + c) | 0;
      a = (((b & c) | (~b & d)) + a + w4 + -176418897) | 0;
      a = (((a << 7) | (a >>> 25)) + b) | 0;
      d = (((a & b) | (~a & c)) + d + w5 + 1200080426) | 0;
      d = (((d << 12) | (d >>> 20)) + a) | 0;
      c = (((d & a) | (~d & b)) + c + w6 + -1473231341) | 0;
      c = (((c << 17) | (c >>> 15)) + d) | 0;
      b = (((c & d) | (~c & a)) + b + w7 + -45705983) | 0;
      b = (((b << 22) | (b >>> 10)) + c) | 0;
      a = (((b & c) | (~b & d)) + a + w8 + 1770035416) | 0;
      a = (((a << 7) | (a >>> 25)) + b) | 0;
      d = (((a & b) | (~a & c)) + d + w9 + -1958414417) | 0;
      d = (((d << 12) | (d >>> 20)) + a) | 0;
      c = (((d & a) | (~d & b)) + c + w10 + -42063) | 0;
      c = (((c << 17) | (c >>> 15)) + d) | 0;
      b = (((c & d) | (~c & a)) + b + w11 + -1990404162) | 0;
      b = (((b << 22) | (b >>> 10)) + c) | 0;
      a = (((b & c) | (~b & d)) + a + w12 + 1804603682) | 0;
      a = (((a << 7) | (a >>> 25)) + b) | 0;
      d = (((a & b) | (~a & c)) + d + w13 + -40341101) | 0;
      d = (((d << 12) | (d >>> 20)) + a) | 0;
      c = (((d & a) | (~d & b)) + c + w14 + -1502002290) | 0;
      c = (((c << 17) | (c >>> 15)) + d) | 0;
      b = (((c & d) | (~c & a)) + b + w15 + 1236535329) | 0;
      b = (((b << 22) | (b >>> 10)) + c) | 0;
      a = (((b & d) | (c & ~d)) + a + w1 + -165796510) | 0;
      a = (((a << 5) | (a >>> 27)) + b) | 0;
      d = (((a & c) | (b & ~c)) + d + w6 + -1069501632) | 0;
      d = (((d << 9) | (d >>> 23)) + a) | 0;
      c = (((d & b) | (a & ~b)) + c + w11 + 643717713) | 0;
      c = (((c << 14) | (c >>> 18)) + d) | 0;
      b = (((c & a) | (d & ~a)) + b + w0 + -373897302) | 0;
      b = (((b << 20) | (b >>> 12)) + c) | 0;
      a = (((b & d) | (c & ~d)) + a + w5 + -701558691) | 0;
      a = (((a << 5) | (a >>> 27)) + b) | 0;
      d = (((a & c) | (b & ~c)) + d + w10 + 38016083) | 0;
      d = (((d << 9) | (d >>> 23)) + a) | 0;
      c = (((d & b) | (a & ~b)) + c + w15 + -660478335) | 0;
      c = (((c << 14) | (c >>> 18)) + d) | 0;
      b = (((c & a) | (d & ~a)) + b + w4 + -405537848) | 0;
      b = (((b << 20) | (b >>> 12)) + c) | 0;
      a = (((b & d) | (c & ~d)) + a + w9 + 568446438) | 0;
      a = (((a << 5) | (a >>> 27)) + b) | 0;
      d = (((a & c) | (b & ~c)) + d + w14 + -1019803690) | 0;
      d = (((d << 9) | (d >>> 23)) + a) | 0;
      c = (((d & b) | (a & ~b)) + c + w3 + -187363961) | 0;
      c = (((c << 14) | (c >>> 18)) + d) | 0;
      b = (((c & a) | (d & ~a)) + b + w8 + 1163531501) | 0;
      b = (((b << 20) | (b >>> 12)) + c) | 0;
      a = (((b & d) | (c & ~d)) + a + w13 + -1444681467) | 0;
      a = (((a << 5) | (a >>> 27)) + b) | 0;
      d = (((a & c) | (b & ~c)) + d + w2 + -51403784) | 0;
      d = (((d << 9) | (d >>> 23)) + a) | 0;
      c = (((d & b) | (a & ~b)) + c + w7 + 1735328473) | 0;
      c = (((c << 14) | (c >>> 18)) + d) | 0;
      b = (((c & a) | (d & ~a)) + b + w12 + -1926607734) | 0;
      b = (((b << 20) | (b >>> 12)) + c) | 0;
      a = ((b ^ c ^ d) + a + w5 + -378558) | 0;
      a = (((a << 4) | (a >>> 28)) + b) | 0;
      d = ((a ^ b ^ c) + d + w8 + -2022574463) | 0;
      d = (((d << 11) | (d >>> 21)) + a) | 0;
      c = ((d ^ a ^ b) + c + w11 + 1839030562) | 0;
      c = (((c << 16) | (c >>> 16)) + d) | 0;
      b = ((c ^ d ^ a) + b + w14 + -35309556) | 0;
      b = (((b << 23) | (b >>> 9)) + c) | 0;
      a = ((b ^ c ^ d) + a + w1 + -1530992060) | 0;
      a = (((a << 4) | (a >>> 28)) + b) | 0;
      d = ((a ^ b ^ c) + d + w4 + 1272893353) | 0;
      d = (((d << 11) | (d >>> 21)) + a) | 0;
      c = ((d ^ a ^ b) + c + w7 + -155497632) | 0;
      c = (((c << 16) | (c >>> 16)) + d) | 0;
      b = ((c ^ d ^ a) + b + w10 + -1094730640) | 0;
      b = (((b << 23) | (b >>> 9)) + c) | 0;
      a = ((b ^ c ^ d) + a + w13 + 681279174) | 0;
      a = (((a << 4) | (a >>> 28)) + b) | 0;
      d = ((a ^ b ^ c) + d + w0 + -358537222) | 0;
      d = (((d << 11) | (d >>> 21)) + a) | 0;
      c = ((d ^ a ^ b) + c + w3 + -722521979) | 0;
      c = (((c << 16) | (c >>> 16)) + d) | 0;
      b = ((c ^ d ^ a) + b + w6 + 76029189) | 0;
      b = (((b << 23) | (b >>> 9)) + c) | 0;
      a = ((b ^ c ^ d) + a + w9 + -640364487) | 0;
      a = (((a << 4) | (a >>> 28)) + b) | 0;
      d = ((a ^ b ^ c) + d + w12 + -421815835) | 0;
      d = (((d << 11) | (d >>> 21)) + a) | 0;
      c = ((d ^ a ^ b) + c + w15 + 530742520) | 0;
      c = (((c << 16) | (c >>> 16)) + d) | 0;
      b = ((c ^ d ^ a) + b + w2 + -995338651) | 0;
      b = (((b << 23) | (b >>> 9)) + c) | 0;
      a = ((c ^ (b | ~d)) + a + w0 + -198630844) | 0;
      a = (((a << 6) | (a >>> 26)) + b) | 0;
      d = ((b ^ (a | ~c)) + d + w7 + 1126891415) | 0;
      d = (((d << 10) | (d >>> 22)) + a) | 0;
      c = ((a ^ (d | ~b)) + c + w14 + -1416354905) | 0;
      c = (((c << 15) | (c >>> 17)) + d) | 0;
      b = ((d ^ (c | ~a)) + b + w5 + -57434055) | 0;
      b = (((b << 21) | (b >>> 11)) + c) | 0;
      a = ((c ^ (b | ~d)) + a + w12 + 1700485571) | 0;
      a = (((a << 6) | (a >>> 26)) + b) | 0;
      d = ((b ^ (a | ~c)) + d + w3 + -1894986606) | 0;
      d = (((d << 10) | (d >>> 22)) + a) | 0;
      c = ((a ^ (d | ~b)) + c + w10 + -1051523) | 0;
      c = (((c << 15) | (c >>> 17)) + d) | 0;
      b = ((d ^ (c | ~a)) + b + w1 + -2054922799) | 0;
      b = (((b << 21) | (b >>> 11)) + c) | 0;
      a = ((c ^ (b | ~d)) + a + w8 + 1873313359) | 0;
      a = (((a << 6) | (a >>> 26)) + b) | 0;
      d = ((b ^ (a | ~c)) + d + w15 + -30611744) | 0;
      d = (((d << 10) | (d >>> 22)) + a) | 0;
      c = ((a ^ (d | ~b)) + c + w6 + -1560198380) | 0;
      c = (((c << 15) | (c >>> 17)) + d) | 0;
      b = ((d ^ (c | ~a)) + b + w13 + 1309151649) | 0;
      b = (((b << 21) | (b >>> 11)) + c) | 0;
      a = ((c ^ (b | ~d)) + a + w4 + -145523070) | 0;
      a = (((a << 6) | (a >>> 26)) + b) | 0;
      d = ((b ^ (a | ~c)) + d + w11 + -1120210379) | 0;
      d = (((d << 10) | (d >>> 22)) + a) | 0;
      c = ((a ^ (d | ~b)) + c + w2 + 718787259) | 0;
      c = (((c << 15) | (c >>> 17)) + d) | 0;
      b = ((d ^ (c | ~a)) + b + w9 + -343485551) | 0;
      b = (((b << 21) | (b >>> 11)) + c) | 0;
      a = (a + aa) | 0;
      b = (b + bb) | 0;
      c = (c + cc) | 0;
      d = (d + dd) | 0;
    }
    const state = this.state;
    state[0] = a;
    state[1] = b;
    state[2] = c;
    state[3] = d;
  }
}
