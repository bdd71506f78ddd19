// The sample order: the key is MD5 of `${seed}:${customer_id}` (checked against node:crypto on
// ASCII and other text at the lengths where MD5's padding changes), the order is ascending key then
// id in UTF-8 byte order, every limit gives a prefix of the whole order, and the order does not
// depend on the order the ids come in, as arrays, functions or packed code units.

import { createHash } from 'node:crypto';
import { Random } from 'ml-random';
import { describe, expect, it } from 'vitest';
import { compareUtf8, sampleKey, sampleOrder, type PackedIds } from '../../../shared/clustering/sample-order.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** The sample order by its definition: every key computed by node:crypto, sorted, ties by UTF-8 bytes, then by row. */
function referenceOrder(ids: readonly string[], seed: number): number[] {
  const keyed = ids.map((id, row) => ({ key: md5(`${seed}:${id}`), bytes: Buffer.from(id, 'utf8'), row }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : Buffer.compare(a.bytes, b.bytes) || a.row - b.row));
  return keyed.map((e) => e.row);
}

const CHARACTERS = ['a', 'Z', '7', ' ', 'é', 'ÿ', '€', '中', '😀', '\u0000', '\u007f', '\u0080', '\uffff'];

/** A random id of `length` characters, ASCII only or mixed with characters of 2, 3 and 4 UTF-8 bytes. */
function randomId(random: Random, length: number, ascii: boolean): string {
  let id = '';
  for (let i = 0; i < length; i++) {
    id += ascii ? String.fromCharCode(32 + Math.floor(random.random() * 95)) : CHARACTERS[Math.floor(random.random() * CHARACTERS.length)]!;
  }
  return id;
}

function packed(ids: readonly string[], shuffle: Random | null = null): PackedIds {
  const wide = ids.some((id) => [...id].some((c) => c.charCodeAt(0) > 0xff));
  const order = ids.map((_, i) => i);
  if (shuffle !== null) order.sort(() => shuffle.random() - 0.5);
  const units = wide ? new Uint16Array(ids.join('').length) : new Uint8Array(ids.join('').length);
  const starts = new Int32Array(ids.length + 1);
  const rows = new Int32Array(ids.length);
  // stored in `order`, read back through `rows`
  let at = 0;
  order.forEach((row, stored) => {
    rows[row] = stored;
    for (let i = 0; i < ids[row]!.length; i++) units[at++] = ids[row]!.charCodeAt(i);
    starts[stored + 1] = at;
  });
  return { length: ids.length, units, starts, rows: shuffle === null ? null : rows };
}

describe('sampleKey', () => {
  it('is the MD5 of `${seed}:${customer_id}` in UTF-8, as 32 lowercase hex digits', () => {
    expect(sampleKey('0001', 0)).toBe(md5('0:0001'));
    expect(sampleKey('0001', 0)).toBe('a96850edeb15dec6e2c36b2e755061ad');
    expect(sampleKey('C-17', -3)).toBe(md5('-3:C-17'));
    expect(sampleKey('', 42)).toBe(md5('42:'));
  });

  it('agrees with node:crypto on random ids around the lengths where the padding takes another block', () => {
    const random = new Random(5);
    const mismatches: string[] = [];
    for (let t = 0; t < 3000; t++) {
      const seed = Math.floor(random.random() * 2_000_001) - 1_000_000;
      const ascii = t % 2 === 0;
      // messages of 50–70 and 115–135 bytes (55/56 and 63/64 are the edges), and anything up to 200 characters
      const target = t % 3 === 0 ? 50 + (t % 21) : t % 3 === 1 ? 115 + (t % 21) : Math.floor(random.random() * 200);
      let id = randomId(random, ascii ? Math.max(0, target - String(seed).length - 1) : Math.floor(target / 2), ascii);
      if (!ascii) while (Buffer.byteLength(`${seed}:${id}`) < target) id += 'a';
      if (sampleKey(id, seed) !== md5(`${seed}:${id}`)) mismatches.push(JSON.stringify([seed, id]));
    }
    expect(mismatches).toEqual([]);
  });

  it('covers every message length from 0 to 200 bytes exactly', () => {
    for (let length = 0; length <= 200; length++) {
      const id = 'x'.repeat(Math.max(0, length - 2));
      expect(sampleKey(id, 9)).toBe(md5(`9:${id}`));
    }
  });

  it('refuses a seed that is not a safe whole number (its text would not be its digits)', () => {
    expect(() => sampleKey('a', 0.5)).toThrow(InvalidOptionError);
    expect(() => sampleKey('a', 1e21)).toThrow('the seed must be a whole number (got 1e+21)');
  });
});

describe('compareUtf8', () => {
  it('orders by UTF-8 bytes, which puts U+E000–U+FFFF below characters beyond U+FFFF', () => {
    expect(compareUtf8('\uffff', '😀')).toBeLessThan(0);
    expect(Buffer.compare(Buffer.from('\uffff'), Buffer.from('😀'))).toBeLessThan(0);
    expect('\uffff' < '😀').toBe(false); // UTF-16 order differs
    expect(compareUtf8('ab', 'abc')).toBeLessThan(0);
    expect(compareUtf8('b', 'abc')).toBeGreaterThan(0);
    expect(compareUtf8('é', 'é')).toBe(0);
  });

  it('agrees with a byte comparison on random strings', () => {
    const random = new Random(3);
    for (let t = 0; t < 2000; t++) {
      const a = randomId(random, Math.floor(random.random() * 4), false);
      const b = randomId(random, Math.floor(random.random() * 4), false);
      expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
  });
});

describe('sampleOrder', () => {
  const random = new Random(11);
  const ids = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? randomId(random, 1 + (i % 9), false) : `C${i}`));

  it('is ascending key, as computed by node:crypto', () => {
    expect(Array.from(sampleOrder(ids, 4))).toEqual(referenceOrder(ids, 4));
    expect(Array.from(sampleOrder(ids, -1))).toEqual(referenceOrder(ids, -1));
  });

  it('gives the first `limit` rows of the whole order, for any limit', () => {
    const whole = Array.from(sampleOrder(ids, 4));
    for (const limit of [0, 1, 2, 17, 1000, 2999, 3000, 5000]) {
      expect(Array.from(sampleOrder(ids, 4, limit))).toEqual(whole.slice(0, limit));
    }
  });

  it('picks the same ids whatever order they come in', () => {
    const shuffled = [...ids].sort(() => random.random() - 0.5);
    const pick = (list: readonly string[]): string[] => Array.from(sampleOrder(list, 8, 200), (row) => list[row]!);
    expect(pick(shuffled)).toEqual(pick(ids));
  });

  it('reads ids from a function or packed code units the same as from an array', () => {
    const want = Array.from(sampleOrder(ids, 2, 500));
    expect(Array.from(sampleOrder((row) => ids[row]!, 2, 500, ids.length))).toEqual(want);
    expect(Array.from(sampleOrder(packed(ids), 2, 500))).toEqual(want);
    expect(Array.from(sampleOrder(packed(ids, new Random(1)), 2, 500))).toEqual(want);
    const latin1 = ids.map((id, i) => (i % 5 === 0 ? `${id}ÿé` : id)).filter((id) => [...id].every((c) => c.charCodeAt(0) <= 0xff));
    expect(packed(latin1).units).toBeInstanceOf(Uint8Array);
    expect(Array.from(sampleOrder(packed(latin1), 2, 500))).toEqual(referenceOrder(latin1, 2).slice(0, 500));
  });

  it('orders keys equal in their first 32 bits by the rest (C49 and C23519 share e97cc4f6 for seed 7)', () => {
    expect(sampleKey('C49', 7).slice(0, 8)).toBe(sampleKey('C23519', 7).slice(0, 8));
    expect(sampleKey('C49', 7) > sampleKey('C23519', 7)).toBe(true);
    const tied = ['C49', 'x1', 'C23519', 'x2', 'x3', 'x4'];
    const whole = referenceOrder(tied, 7);
    for (let limit = 1; limit <= tied.length; limit++) expect(Array.from(sampleOrder(tied, 7, limit))).toEqual(whole.slice(0, limit));
    // the same two as the heap's largest: the smaller must replace it
    const rows = Array.from(sampleOrder(['C49', ...Array.from({ length: 50 }, (_, i) => `y${i}`), 'C23519'], 7, 1));
    expect(rows).toEqual([referenceOrder(['C49', ...Array.from({ length: 50 }, (_, i) => `y${i}`), 'C23519'], 7)[0]]);
  });

  it('orders equal ids (equal keys) by row, for every limit', () => {
    const twice = ['b', 'a', 'b', 'c', 'a', 'a'];
    const whole = Array.from(sampleOrder(twice, 1));
    expect(whole).toEqual(referenceOrder(twice, 1));
    for (let limit = 1; limit <= twice.length; limit++) expect(Array.from(sampleOrder(twice, 1, limit))).toEqual(whole.slice(0, limit));
  });

  it('takes no rows from no ids, and refuses a bad count, limit or seed', () => {
    expect(sampleOrder([], 1)).toEqual(new Int32Array(0));
    expect(() => sampleOrder((row) => String(row), 1)).toThrow(InvalidOptionError);
    expect(() => sampleOrder(ids, 1, -1)).toThrow('the sample size must be a whole number ≥ 0 (got -1)');
    expect(() => sampleOrder(ids, 1, 2.5)).toThrow(InvalidOptionError);
    expect(() => sampleOrder(ids, Number.NaN)).toThrow(InvalidOptionError);
  });
});
