// CSV output: quoting exactly when needed (Papa Parse's unparse rules) and a round trip through
// the parser for any fields.

import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { csvLines, csvRecord } from '../../../shared/csv/write.ts';

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
