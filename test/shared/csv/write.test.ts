// CSV output: quoting exactly when needed (Papa Parse's unparse rules) and a round trip through
// the parser for any fields; the byte writer writes the same characters as csvRecord and toFixed.

import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { CsvBytes, csvLines, csvRecord, utf8 } from '../../../shared/csv/write.ts';

describe('csvRecord', () => {
  it('quotes only fields with a quote, comma, line break, BOM or edge space', () => {
    expect(csvRecord(['plain', '12.5', 'two words', ''])).toBe('plain,12.5,two words,');
    expect(csvRecord(['a,b', 'say "hi"', 'x\ny', 'x\ry', ' lead', 'trail ', '\uFEFFbom'])).toBe(
      '"a,b","say ""hi""","x\ny","x\ry"," lead","trail ","\uFEFFbom"',
    );
  });

  it('writes what Papa Parse unparse writes, and parses back to the same fields', () => {
    const field = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(',', '"', '\n', '\r\n', ' ', 'a b', '\uFEFF'));
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const text = csvLines(rows);
        expect(text).toBe(`${Papa.unparse(rows, { newline: '\n' })}\n`);
        expect(Papa.parse<string[]>(text.slice(0, -1), { delimiter: ',', newline: '\n' }).data).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it('writes no text for no rows', () => {
    expect(csvLines([])).toBe('');
  });
});

/** Fields written by CsvBytes as a record, decoded. */
function bytesRecord(fields: readonly string[]): string {
  const out = new CsvBytes(4);
  fields.forEach((field, i) => {
    if (i > 0) out.byte(0x2c);
    out.field(field);
  });
  return Buffer.from(out.take()).toString('utf8');
}

/** CsvBytes.decimal's characters. */
function decimal(value: number, decimals: number): string {
  const out = new CsvBytes(2);
  out.decimal(value, decimals);
  return Buffer.from(out.view()).toString('utf8');
}

describe('CsvBytes', () => {
  it('writes each field as csvRecord does, in UTF-8, quoting included', () => {
    expect(bytesRecord(['plain', '12.5', 'two words', '', 'a,b', 'say "hi"', 'x\ny', 'x\ry', ' lead', 'trail ', '\uFEFFbom'])).toBe(
      csvRecord(['plain', '12.5', 'two words', '', 'a,b', 'say "hi"', 'x\ny', 'x\ry', ' lead', 'trail ', '\uFEFFbom']),
    );
    expect(bytesRecord(['Zürich', 'Older · low spending', '😀', ' ', 'é "q"'])).toBe(
      csvRecord(['Zürich', 'Older · low spending', '😀', ' ', 'é "q"']),
    );
    const field = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom(',', '"', '\n', '\r', ' ', 'a b', '\uFEFF', '·'),
    );
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 6 }), (fields) => {
        expect(bytesRecord(fields)).toBe(Buffer.from(csvRecord(fields), 'utf8').toString('utf8'));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes numbers as toFixed does, ties and large, negative and odd values included', () => {
    const cases = [
      0,
      -0,
      1,
      0.5,
      1.4947215,
      2.5e-7,
      5e-7,
      0.0000005,
      1.0000005,
      1.2345675,
      999.9999995,
      2147.483647,
      2147.4836475,
      3e9,
      1e21,
      1e-7,
      -1e-7,
      -2.5,
      NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
    ];
    for (const value of cases) for (const d of [0, 1, 2, 6, 9, 12]) expect(decimal(value, d), `${value} to ${d}`).toBe(value.toFixed(d));
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 0, max: 3000, noNaN: true }), fc.double()), fc.integer({ min: 0, max: 10 }), (value, d) => {
        expect(decimal(value, d)).toBe(value.toFixed(d));
      }),
      { numRuns: 20_000 },
    );
    // values a hair off a tie at 6 decimals: the product's rounding must not decide
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: -3, max: 3 }), (n, ulps) => {
        let value = (n + 0.5) / 1e6;
        for (let i = 0; i < Math.abs(ulps); i++) value = ulps > 0 ? nextUp(value) : nextDown(value);
        expect(decimal(value, 6)).toBe(value.toFixed(6));
      }),
      { numRuns: 20_000 },
    );
  });

  it('hands out what was written and writes on into a new or adopted buffer, growing as needed', () => {
    const out = new CsvBytes(4);
    out.field('a long field');
    out.raw(utf8('·\n'));
    const first = out.take();
    expect(Buffer.from(first).toString('utf8')).toBe('a long field·\n');
    out.field('next');
    expect(Buffer.from(first).toString('utf8')).toBe('a long field·\n');
    expect(Buffer.from(out.view()).toString('utf8')).toBe('next');
    expect(() => out.adopt(new Uint8Array(8))).toThrow();
    out.clear();
    const reused = new Uint8Array(first.buffer);
    out.adopt(reused);
    out.text('again');
    expect(out.view().buffer).toBe(reused.buffer);
    expect(Buffer.from(out.view()).toString('utf8')).toBe('again');
  });
});

/** The next double above `x` (x ≥ 0). */
function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

/** The next double below `x` (x > 0). */
function nextDown(x: number): number {
  if (x === 0) return 0;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}
