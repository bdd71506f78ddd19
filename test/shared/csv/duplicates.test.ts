// The duplicate finder against the rule written the obvious way (a Map, row by row), on random
// files of ids; and on ids whose hashes collide.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateFinder } from '../../../shared/csv/duplicates.ts';

interface Row {
  readonly id: string;
  readonly supersedable: boolean;
}

/** The rule row by row: each supersedable row is superseded by the next row with its id. */
function expected(rows: readonly Row[]): Map<number, number> {
  const open = new Map<string, number>(); // id → line of its supersedable row not yet superseded
  const result = new Map<number, number>();
  rows.forEach((row, i) => {
    const line = i + 2;
    const earlier = open.get(row.id);
    if (earlier !== undefined) result.set(earlier, line);
    open.delete(row.id);
    if (row.supersedable) open.set(row.id, line);
  });
  return result;
}

function found(rows: readonly Row[]): Map<number, number> {
  const finder = new DuplicateFinder();
  rows.forEach((row, i) => finder.add(row.id, i + 2, row.supersedable));
  return finder.superseded();
}

describe('DuplicateFinder', () => {
  it('finds what the row-by-row rule finds, in any file', () => {
    const row = fc.record({
      id: fc.oneof(fc.constantFrom('1', '2', '01', 'ä', '😀', 'a b'), fc.string({ minLength: 1, maxLength: 6 })),
      supersedable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 200 }), (rows) => {
        expect(found(rows)).toEqual(expected(rows));
      }),
      { numRuns: 500 },
    );
  });

  it('tells ids apart when there are more rows than 16-bit buckets, and across typed-array growth', () => {
    const rows: Row[] = Array.from({ length: 150_000 }, (_, i) => ({
      id: String(i % 100_000).padStart(7, '0'),
      supersedable: i % 7 !== 0,
    }));
    const result = found(rows);
    expect(result).toEqual(expected(rows));
    expect(result.size).toBe(rows.slice(0, 50_000).filter((r) => r.supersedable).length);
  });

  it('finds the same across parts recorded apart and appended in file order', () => {
    const row = fc.record({ id: fc.constantFrom('1', '2', '3', 'é', '😀'), supersedable: fc.boolean() });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 3 }), (rows, cuts) => {
        const bounds = [0, ...cuts.map((c) => Math.min(c, rows.length)).sort((a, b) => a - b), rows.length];
        const whole = new DuplicateFinder();
        for (let p = 0; p + 1 < bounds.length; p++) {
          const part = new DuplicateFinder();
          for (let i = bounds[p]!; i < bounds[p + 1]!; i++) part.add(rows[i]!.id, i + 2, rows[i]!.supersedable);
          whole.append(part.records());
        }
        expect(whole.superseded()).toEqual(expected(rows));
      }),
      { numRuns: 300 },
    );
  });

  it('finds nothing in a file of distinct ids, or of no rows', () => {
    expect(found(Array.from({ length: 5000 }, (_, i) => ({ id: `c${i}`, supersedable: true })))).toEqual(new Map());
    expect(found([])).toEqual(new Map());
  });

  it('finds the same with room reserved up front, too little or too much', () => {
    const row = fc.record({ id: fc.constantFrom('1', '2', '3', 'é', '😀', 'abc'), supersedable: fc.boolean() });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 3000 }), fc.nat(5000), fc.nat(20_000), (rows, roomRows, roomChars) => {
        const finder = new DuplicateFinder();
        finder.reserve(roomRows, roomChars);
        rows.forEach((r, i) => finder.add(r.id, i + 2, r.supersedable));
        expect(finder.superseded()).toEqual(expected(rows));
      }),
      { numRuns: 100 },
    );
  });

  it('records from scratch after clear, keeping nothing of the rows before', () => {
    const finder = new DuplicateFinder();
    for (let i = 0; i < 5000; i++) finder.add(`old${i % 10}😀`, i + 2, true);
    finder.clear();
    const fresh = new DuplicateFinder();
    for (const target of [finder, fresh]) ['a', 'b', 'a', 'c'].forEach((id, i) => target.add(id, i + 2, true));
    expect(finder.size).toBe(4);
    const rowsOf = (f: DuplicateFinder): string[] => Array.from({ length: f.size }, (_, row) => `${f.idAt(row)}@${f.lineAt(row)}`);
    expect(rowsOf(finder)).toEqual(rowsOf(fresh));
    const { chars: _wide, ...records } = finder.records();
    const { chars: _narrow, ...freshRecords } = fresh.records();
    expect(records).toEqual(freshRecords);
    expect(finder.superseded()).toEqual(new Map([[2, 4]]));
  });

  it('hands its records back in the arrays it is given where they fit, in new ones where not', () => {
    const finder = new DuplicateFinder();
    ['a1', 'b22', 'a1'].forEach((id, i) => finder.add(id, i + 2, true));
    const fresh = finder.records();
    const roomy = { chars: new Uint8Array(64), starts: new Int32Array(8), hashes: new Uint32Array(8), lines: new Int32Array(8) };
    const into = finder.records(roomy);
    expect(into).toEqual(fresh);
    expect(into.chars.buffer).toBe(roomy.chars.buffer);
    expect(into.lines.buffer).toBe(roomy.lines.buffer);
    const cramped = { chars: new Uint8Array(2), starts: new Int32Array(2), hashes: new Uint32Array(8), lines: new Int32Array(8) };
    const grownInto = finder.records(cramped);
    expect(grownInto).toEqual(fresh);
    expect(grownInto.chars.buffer).not.toBe(cramped.chars.buffer);
    expect(grownInto.hashes.buffer).toBe(cramped.hashes.buffer);
    finder.add('é😀', 5, true);
    const wide = finder.records(roomy);
    expect(wide.chars).toBeInstanceOf(Uint16Array);
    const whole = new DuplicateFinder();
    whole.append(wide);
    expect(whole.idAt(3)).toBe('é😀');
  });

  it('keeps starts and lines only once ids differ in length or rows leave consecutive lines, and answers the same either way', () => {
    // mostly ids of one width on consecutive lines, all supersedable: the common file, then a break
    const row = fc.record({
      id: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom('0000001', '0000002', '0000003', 'é000004') },
        fc.constantFrom('7', '08', 'x😀yzabc'),
      ),
      gap: fc.oneof({ weight: 12, arbitrary: fc.constant(1) }, fc.constantFrom(2, 5)),
      supersedable: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, fc.constant(false)),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 80 }), fc.nat(80), fc.integer({ min: 1, max: 4 }), (rows, cut, firstLine) => {
        let line = firstLine;
        const lines = rows.map((r, i) => (i === 0 ? line : (line += r.gap)));
        // the rule row by row, on these lines
        const open = new Map<string, number>();
        const want = new Map<number, number>();
        rows.forEach((r, i) => {
          const earlier = open.get(r.id);
          if (earlier !== undefined) want.set(earlier, lines[i]!);
          open.delete(r.id);
          if (r.supersedable) open.set(r.id, lines[i]!);
        });
        const whole = new DuplicateFinder();
        const first = new DuplicateFinder();
        const second = new DuplicateFinder();
        rows.forEach((r, i) => {
          whole.add(r.id, lines[i]!, r.supersedable);
          (i < cut ? first : second).add(r.id, lines[i]!, r.supersedable);
        });
        const appended = new DuplicateFinder();
        appended.append(first.records());
        appended.append(second.records());
        for (const finder of [whole, appended]) {
          expect(Array.from({ length: finder.size }, (_, i) => [finder.idAt(i), finder.lineAt(i)])).toEqual(
            rows.map((r, i) => [r.id, lines[i]]),
          );
          const { hashes, ...records } = finder.records();
          expect(records.lines).toEqual(Int32Array.from(rows, (r, i) => (r.supersedable ? lines[i]! : -lines[i]!)));
          expect(hashes).toHaveLength(rows.length);
          expect(finder.superseded()).toEqual(want);
        }
      }),
      { numRuns: 400 },
    );
  });
});
