// The streaming customer CSV reader: header aliases, encodings and line endings, physical line
// numbers, every rejection reason, duplicates, fatal files, and invariants over random files.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCustomerRecords, readCustomerColumns, readCustomerCsv, type CustomerCsv } from '../../../shared/csv/read-customers.ts';
import { InvalidFileError } from '../../../shared/errors.ts';
import { byteChunks, oneString, stringChunks } from '../support/csv-source.ts';

const SNAKE = 'customer_id,gender,age,annual_income_thousands,spending_score';
const KAGGLE = 'CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)';

const read = (text: string, sizes: readonly number[] = [3]): Promise<CustomerCsv> => readCustomerCsv(byteChunks(text, sizes));
const lines = (csv: CustomerCsv): { accepted: number[]; rejected: number[] } => ({
  accepted: csv.accepted.map((r) => r.line),
  rejected: csv.rejected.map((r) => r.line),
});

describe('readCustomerCsv', () => {
  it('reads the Kaggle Mall Customers layout, keeping IDs verbatim and storing Male/Female', async () => {
    const csv = await read(`${KAGGLE}\n0001,Male,19,15,39\n0002,Female,21,15.5,81\n`);
    expect(csv.accepted.map((r) => r.customer)).toEqual([
      { customerId: '0001', gender: 'Male', age: 19, annual_income_thousands: 15, spending_score: 39 },
      { customerId: '0002', gender: 'Female', age: 21, annual_income_thousands: 15.5, spending_score: 81 },
    ]);
    expect(csv.rowsRead).toBe(2);
    expect(csv.rejected).toEqual([]);
  });

  it('resolves snake_case headers in any case with surrounding spaces', async () => {
    const csv = await read(' Customer_ID , GENDER ,Age, Annual_Income_Thousands ,SPENDING_SCORE\n7,F,40,60,50\n');
    expect(csv.accepted.map((r) => r.customer)).toEqual([
      { customerId: '7', gender: 'Female', age: 40, annual_income_thousands: 60, spending_score: 50 },
    ]);
  });

  it('stores M and F as Male and Female', async () => {
    const csv = await read(`${SNAKE}\n1,M,20,30,40\n2,f,20,30,40\n`);
    expect(csv.accepted.map((r) => r.customer.gender)).toEqual(['Male', 'Female']);
  });

  it('skips a UTF-8 byte order mark, even when it arrives one byte at a time', async () => {
    const csv = await read(`\uFEFF${KAGGLE}\n1,Male,20,30,40\n`, [1]);
    expect(csv.header.index.customer_id).toBe(0);
    expect(csv.header.columns[0]).toBe('CustomerID');
    expect(csv.accepted.map((r) => [r.line, r.customer.customerId])).toEqual([[2, '1']]);
  });

  it('reads CRLF line endings, with CRLF split across chunks', async () => {
    const csv = await read(`${SNAKE}\r\n1,M,20,30,40\r\n2,F,21,31,41\r\n`, [1, 2]);
    expect(csv.accepted.map((r) => [r.line, r.fields])).toEqual([
      [2, ['1', 'M', '20', '30', '40']],
      [3, ['2', 'F', '21', '31', '41']],
    ]);
  });

  it('reads a last line without a final newline', async () => {
    const csv = await read(`${SNAKE}\n1,M,20,30,40\n2,F,21,31,41`);
    expect(csv.accepted.map((r) => r.line)).toEqual([2, 3]);
    expect(csv.accepted[1]!.customer.spending_score).toBe(41);
  });

  it('ignores blank lines: they are not rows, but later rows keep their physical line numbers', async () => {
    const csv = await read(`${SNAKE}\n\n1,M,20,30,40\n\n\n2,F,21,31,41\n\n`);
    expect(csv.rowsRead).toBe(2);
    expect(lines(csv)).toEqual({ accepted: [3, 6], rejected: [] });
  });

  it("ignores a line of empty fields (`,,,`, a spreadsheet's empty row) like a blank line", async () => {
    const csv = await read(`${SNAKE}\n  ,,,\n1,M,20,30,40\n`);
    expect(csv.rowsRead).toBe(1);
    expect(lines(csv)).toEqual({ accepted: [3], rejected: [] });
  });

  it('ignores blank CRLF lines', async () => {
    const csv = await read(`${SNAKE}\r\n1,M,20,30,40\r\n\r\n2,F,21,31,41\r\n\r\n`, [2]);
    expect(csv.rowsRead).toBe(2);
    expect(lines(csv).accepted).toEqual([2, 4]);
  });

  it('numbers a row by the physical line it starts on when a quoted field holds newlines (line ends inside become LF)', async () => {
    const csv = await read(`${SNAKE},notes\n1,M,20,30,40,"two\nlines"\n2,F,21,31,41,"three\r\nmore\nlines"\n3,F,22,32,42,plain\n`, [2]);
    expect(csv.accepted.map((r) => [r.line, r.fields[5]])).toEqual([
      [2, 'two\nlines'],
      [4, 'three\nmore\nlines'],
      [7, 'plain'],
    ]);
  });

  it('numbers a rejected multi-line row by its starting line', async () => {
    const csv = await read(`${SNAKE}\n"multi\nline id",X,20,30,40\n2,F,21,31,41\n`);
    expect(csv.rejected.map((r) => [r.line, r.customerId])).toEqual([[2, 'multi\nline id']]);
    expect(lines(csv).accepted).toEqual([4]);
  });

  it('reads quoted fields with commas and doubled quotes', async () => {
    const csv = await read(`${SNAKE},notes\n"0,1",Male,"20",30,40,"say ""hi"""\n`);
    expect(csv.accepted[0]!.customer.customerId).toBe('0,1');
    expect(csv.accepted[0]!.fields[5]).toBe('say "hi"');
  });

  it('decodes multi-byte UTF-8 characters split across chunks', async () => {
    const csv = await read(`${SNAKE},city\nÅsa-1,F,30,40,50,Zürich 東京\n`, [1]);
    expect(csv.accepted[0]!.customer.customerId).toBe('Åsa-1');
    expect(csv.accepted[0]!.fields[5]).toBe('Zürich 東京');
  });

  it('decodes any mix of ASCII and other characters, however the bytes are cut', async () => {
    const idArb = fc.string({ unit: fc.constantFrom('a', '7', '-', 'é', 'Å', '東', '😀'), minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(idArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        async (ids, sizes) => {
          const csv = await read(`${SNAKE}\n${ids.map((id, i) => `${id}${i},F,30,40,50`).join('\n')}\n`, sizes);
          expect(csv.accepted.map((r) => r.customer.customerId)).toEqual(ids.map((id, i) => `${id}${i}`));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses bytes that are not UTF-8 after pure ASCII pieces and within them', async () => {
    const bytes = (...parts: Array<string | number[]>): AsyncGenerator<Uint8Array> =>
      (async function* () {
        for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : Uint8Array.from(part);
      })();
    const latin1 = [0x5a, 0xfc, 0x72, 0x69, 0x63, 0x68]; // "Zürich" in Windows-1252
    for (const parts of [
      [`${SNAKE}\n`, '1,F,30,40,50\n', latin1],
      [`${SNAKE}\n1,F,30,40,`, [0xc3], '\n'],
      // a character's first byte, an ASCII piece, then a byte that would have finished the character
      [`${SNAKE}\n1,F,30,40,5`, [0xc3], '0\n2,F,30,40,', [0xa9], '5\n'],
    ]) {
      await expect(readCustomerCsv(bytes(...parts))).rejects.toThrow('not a UTF-8 text file (save it as UTF-8 and upload it again)');
    }
  });

  it('accepts string chunks as well as bytes', async () => {
    const text = `${SNAKE}\n1,M,20,30,40\n2,F,21,31,41\n`;
    const fromOne = await readCustomerCsv(oneString(text));
    const fromPieces = await readCustomerCsv(stringChunks(text, 4));
    expect(fromOne.accepted.map((r) => r.customer)).toEqual(fromPieces.accepted.map((r) => r.customer));
    expect(fromOne.accepted).toHaveLength(2);
  });

  it('keeps IDs verbatim: leading zeros and letters', async () => {
    const csv = await read(`${SNAKE}\n0001,M,20,30,40\n1,M,20,30,40\nA-007,M,20,30,40\n`);
    expect(csv.accepted.map((r) => r.customer.customerId)).toEqual(['0001', '1', 'A-007']);
  });

  it('rejects each broken rule with its line, customer_id, a reason and the original fields', async () => {
    const csv = await read(
      [
        SNAKE,
        ',M,20,30,40', // 2 empty id
        '2,X,20,30,40', // 3 bad gender
        '3,F,20.5,30,40', // 4 non-integer age
        '4,F,121,30,40', // 5 age out of range
        '5,F,20,-3,40', // 6 negative income
        '6,F,20,30,0', // 7 spending out of range
        '7,F,20,30,101', // 8 spending out of range
        '8,F,20,30', // 9 too few fields
        '9,F,20,30,40,50', // 10 too many fields
        '10,F,20,30,40', // 11 valid
      ].join('\n'),
    );
    expect(csv.rejected.map((r) => [r.line, r.customerId])).toEqual([
      [2, ''],
      [3, '2'],
      [4, '3'],
      [5, '4'],
      [6, '5'],
      [7, '6'],
      [8, '7'],
      [9, '8'],
      [10, '9'],
    ]);
    const reasons = csv.rejected.map((r) => r.reason);
    expect(reasons[0]).toBe('customer_id is empty');
    expect(reasons[1]).toMatch(/^gender "X" is not Female\/Male/);
    expect(reasons[2]).toMatch(/^age "20.5" is not a whole number/);
    expect(reasons[3]).toMatch(/^age 121 is outside 0–120/);
    expect(reasons[4]).toMatch(/^annual_income_thousands -3 is negative/);
    expect(reasons[5]).toMatch(/^spending_score 0 is outside 1–100/);
    expect(reasons[6]).toMatch(/^spending_score 101 is outside 1–100/);
    expect(reasons[7]).toBe('expected 5 fields, found 4');
    expect(reasons[8]).toBe('expected 5 fields, found 6');
    expect(csv.rejected[1]!.fields).toEqual(['2', 'X', '20', '30', '40']);
    expect(csv.accepted.map((r) => r.line)).toEqual([11]);
    expect(csv.rowsRead).toBe(10);
  });

  it('lets the later of two rows with the same customer_id win and rejects the earlier as a duplicate', async () => {
    const csv = await read(`${SNAKE}\n1,M,20,30,40\n2,F,21,31,41\n1,F,50,60,70\n`);
    expect(csv.accepted.map((r) => [r.line, r.customer.customerId, r.customer.age])).toEqual([
      [3, '2', 21],
      [4, '1', 50],
    ]);
    expect(csv.rejected).toEqual([
      { line: 2, customerId: '1', reason: 'duplicate customer_id, superseded by line 4', fields: ['1', 'M', '20', '30', '40'] },
    ]);
    expect(csv.duplicates).toBe(1);
    expect(csv.rowsRead).toBe(3);
  });

  it('supersedes a chain of duplicates, each by the next occurrence', async () => {
    const csv = await read(`${SNAKE}\n0001,M,20,30,40\n0001,M,21,30,40\n0001,M,22,30,40\n`);
    expect(csv.accepted.map((r) => r.customer.age)).toEqual([22]);
    expect(csv.rejected.map((r) => [r.line, r.reason])).toEqual([
      [2, 'duplicate customer_id, superseded by line 3'],
      [3, 'duplicate customer_id, superseded by line 4'],
    ]);
    expect(csv.duplicates).toBe(2);
  });

  it('treats IDs that differ only in leading zeros as different customers', async () => {
    const csv = await read(`${SNAKE}\n0001,M,20,30,40\n1,M,20,30,40\n`);
    expect(csv.accepted).toHaveLength(2);
    expect(csv.duplicates).toBe(0);
  });

  it('keeps extra columns in the fields and excludes segment/segment_origin from passThrough', async () => {
    const csv = await read(`${KAGGLE},segment,Segment_Origin,region\n1,Male,19,15,39,3.0,,north\n`);
    expect(csv.header.passThrough).toEqual([0, 1, 2, 3, 4, 7]);
    expect(csv.accepted[0]!.fields).toEqual(['1', 'Male', '19', '15', '39', '3.0', '', 'north']);
  });

  it('reads a header-only file as zero rows', async () => {
    const csv = await read(`${SNAKE}\n`);
    expect(csv).toMatchObject({ rowsRead: 0, accepted: [], rejected: [], duplicates: 0 });
  });

  it('reports progress every progressEvery rows', async () => {
    const seen: number[] = [];
    const body = Array.from({ length: 7 }, (_, i) => `${i},M,20,30,40`).join('\n');
    await readCustomerCsv(byteChunks(`${SNAKE}\n${body}\n`, [16]), { progressEvery: 3, onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([3, 6]);
  });

  describe('files that cannot be read as the contract', () => {
    it('refuses an empty file', async () => {
      await expect(read('')).rejects.toThrow(InvalidFileError);
      await expect(read('')).rejects.toThrow(/empty/);
    });

    it('refuses a file of blank lines only', async () => {
      await expect(read('\n\r\n\n')).rejects.toThrow(InvalidFileError);
    });

    it('refuses a file with only a byte order mark', async () => {
      await expect(read('\uFEFF')).rejects.toThrow(InvalidFileError);
    });

    it('refuses a file missing a required column, naming it', async () => {
      await expect(read('customer_id,gender,age,spending_score\n1,M,20,40\n')).rejects.toThrow(
        /missing required column: annual_income_thousands/,
      );
    });

    it('refuses a file with NUL bytes, even when they come after valid rows', async () => {
      const bytes = new TextEncoder().encode(`${SNAKE}\n1,M,20,30,40\n`);
      async function* source(): AsyncGenerator<Uint8Array> {
        yield bytes;
        yield Uint8Array.from([0x32, 0x00, 0x2c]);
      }
      await expect(readCustomerCsv(source())).rejects.toThrow(InvalidFileError);
      await expect(readCustomerCsv(source())).rejects.toThrow(/NUL/);
    });

    it('refuses a UTF-16 file (it contains NUL bytes)', async () => {
      const utf16 = Buffer.from(`${SNAKE}\n1,M,20,30,40\n`, 'utf16le');
      async function* source(): AsyncGenerator<Uint8Array> {
        yield utf16;
      }
      await expect(readCustomerCsv(source())).rejects.toThrow(InvalidFileError);
    });

    it('refuses a file missing a required column even when it is larger than the stream buffer', { timeout: 2_000 }, async () => {
      // about 60 kB: more than the parser's 16 KiB write buffer, so the feeder waits for 'drain'
      const text = `customer_id,gender,age\n${'1,M,30\n'.repeat(10_000)}`;
      await expect(readCustomerCsv(oneString(text))).rejects.toThrow(/missing required columns/);
    });
  });

  describe('rows that are not valid CSV', () => {
    it('rejects a row with a stray quote at its own physical line and keeps reading', async () => {
      const csv = await read(`${SNAKE}\n1,M,20,30,40\n2,M,2"0,30,40\n3,F,21,31,41\n`);
      expect(csv.rowsRead).toBe(3);
      expect(lines(csv).accepted).toEqual([2, 4]);
      expect(csv.rejected.map((r) => r.line)).toEqual([3]);
      // a quote inside an unquoted field is kept as a character, so the value itself is refused
      expect(csv.rejected[0]!.reason).toBe('age "2"0" is not a whole number');
    });

    it('rejects a row whose quoted field is malformed, saying it is not valid CSV', async () => {
      const csv = await read(`${SNAKE}\n1,M,20,30,40\n2,M,"20"x,30,40\n`);
      expect(csv.rowsRead).toBe(2);
      expect(csv.rejected.map((r) => [r.line, r.customerId])).toEqual([[3, '2']]);
      expect(csv.rejected[0]!.reason).toMatch(/^the row is not valid CSV \(/);
    });

    it('rejects each of several malformed rows at its own line', async () => {
      const rows = Array.from({ length: 30 }, (_, i) => (i % 10 === 4 ? `${i},F,2"1,31,41` : `${i},F,21,31,41`));
      const csv = await read(`${SNAKE}\n${rows.join('\n')}\n`, [5]);
      expect(csv.rowsRead).toBe(30);
      expect(csv.rejected.map((r) => r.line)).toEqual([6, 16, 26]);
    });
  });
});

describe('parseCustomerRecords', () => {
  it('reads no further ahead than a slow consumer needs (the source is paused with the parser)', async () => {
    const rows = 200_000;
    let bytesRead = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of byteChunks(
        `${SNAKE}\n${Array.from({ length: rows }, (_, i) => `${i},M,20,30,40`).join('\n')}\n`,
        [65_536],
      )) {
        bytesRead += chunk.length;
        yield chunk;
      }
    }
    let consumed = 0;
    let readWhenConsumed = 0;
    for await (const item of parseCustomerRecords(counted())) {
      if (!Array.isArray(item)) continue;
      consumed += item.length;
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (consumed >= 20_000 && readWhenConsumed === 0) readWhenConsumed = bytesRead;
    }
    expect(consumed).toBe(rows);
    // 20,000 rows are about 0.3 MB; the file is about 3 MB
    expect(readWhenConsumed).toBeLessThan(1_500_000);
  });

  it('numbers a malformed row after blank lines by its own line', async () => {
    // the unterminated quote swallows the rest of the file into this one row
    const csv = await read(`${SNAKE}\n\n0,Male,2a"","0,30,40\n1,M,20,30,40\n`);
    expect(csv.rejected.map((r) => [r.line, r.reason])).toEqual([[3, 'the row is not valid CSV (quoted field unterminated)']]);
    expect(csv.rowsRead).toBe(1);
  });

  it('yields the header first, then the records in file order, in batches', async () => {
    const items = [];
    for await (const item of parseCustomerRecords(byteChunks(`${SNAKE}\n1,M,20,30,40\n2,X,20,30,40\n1,F,20,30,40\n`))) {
      if (Array.isArray(item)) items.push(...item);
      else items.push(item);
    }
    expect('columns' in items[0]!).toBe(true);
    expect(items.slice(1).map((i) => ('kind' in i ? [i.kind, i.row.line] : null))).toEqual([
      ['accepted', 2],
      ['rejected', 3],
      ['accepted', 4],
    ]);
  });
});

// ---- property: whatever the rows, every data row ends accepted or rejected exactly once ----

interface GeneratedRow {
  readonly fields: string[];
  readonly quote: boolean[];
  readonly blankBefore: number;
}

const ID = fc.constantFrom('1', '2', '3', '0001', '01', 'a b', '', '  ', 'x,y', 'q"t', 'two\nlines');
const GENDER = fc.constantFrom('Male', 'female', 'M', 'f', ' m ', 'X', '');
const AGE = fc.oneof(fc.integer({ min: -5, max: 130 }).map(String), fc.constantFrom('12.5', 'abc', ''));
const INCOME = fc.oneof(fc.integer({ min: -10, max: 200 }).map(String), fc.constantFrom('0', '12.5', '.5', '1e3', '-1', 'abc', ''));
const SPENDING = fc.oneof(fc.integer({ min: -2, max: 103 }).map(String), fc.constantFrom('x', '', '50.0'));
const EXTRA = fc.constantFrom('north', '', 'a,b', 'say "hi"', 'multi\nline');

const HEADER_VARIANTS = [
  ['customer_id', 'gender', 'age', 'annual_income_thousands', 'spending_score'],
  ['CustomerID', 'Genre', 'Age', 'Annual Income (k$)', 'Spending Score (1-100)'],
  ['id', 'Gender', 'AGE', 'ANNUAL_INCOME_THOUSANDS', ' Spending_Score '],
];

const rowArb = (width: number): fc.Arbitrary<GeneratedRow> =>
  fc
    .record({
      values: fc.tuple(ID, GENDER, AGE, INCOME, SPENDING, fc.array(EXTRA, { minLength: width - 5, maxLength: width - 5 })),
      delta: fc.constantFrom(0, 0, 0, 0, -1, 1),
      quote: fc.array(fc.boolean(), { minLength: width + 1, maxLength: width + 1 }),
      blankBefore: fc.constantFrom(0, 0, 0, 1, 2),
    })
    .map(({ values: [id, gender, age, income, spending, extra], delta, quote, blankBefore }) => {
      let fields = [id, gender, age, income, spending, ...extra];
      if (delta < 0) fields = fields.slice(0, fields.length - 1);
      if (delta > 0) fields = [...fields, 'surplus'];
      return { fields, quote, blankBefore };
    })
    // a line whose fields are all empty or whitespace is a blank line, not a row (as spreadsheets
    // export empty rows: `,,,`); the blank lines are generated by blankBefore
    .filter((row) => row.fields.some((field) => field.trim() !== ''));

const fileArb = fc
  .record({ header: fc.constantFrom(...HEADER_VARIANTS), extraColumns: fc.constantFrom(0, 1, 2) })
  .chain(({ header, extraColumns }) =>
    fc.record({
      header: fc.constant([...header, ...['region', 'segment'].slice(0, extraColumns)]),
      rows: fc.array(rowArb(5 + extraColumns), { maxLength: 25 }),
      eol: fc.constantFrom('\n', '\r\n'),
      finalNewline: fc.boolean(),
      bom: fc.boolean(),
      chunks: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
    }),
  );

const encodeField = (value: string, quote: boolean): string =>
  quote || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

const newlinesIn = (text: string): number => text.split('\n').length - 1;

describe('readCustomerColumns', () => {
  it('keeps each accepted row with its own id when rejected rows with ids and a superseded row come between', async () => {
    const text = [
      SNAKE,
      'a,M,20,30,40',
      'b,F,21,31,41',
      'c,F,22,32,41',
      'r1,X,20,30,40', // rejected, its id recorded
      'd,M,23,33,43',
      'b,M,24,34,44', // supersedes line 3
      ',M,20,30,40', // rejected, no id
      'e,F,25,35,45',
    ].join('\n');
    const csv = await readCustomerColumns(byteChunks(text, [4]));
    const objects = await readCustomerCsv(byteChunks(text, [4]), { keepFields: false });
    expect(Array.from({ length: csv.columns.length }, (_, i) => csv.columns.at(i))).toEqual(objects.accepted.map((r) => r.customer));
    expect(Array.from({ length: csv.columns.length }, (_, i) => csv.columns.customerId(i))).toEqual(['a', 'c', 'd', 'b', 'e']);
    expect(csv.rejected.map((r) => [r.line, r.customerId, r.reason])).toEqual([
      [3, 'b', 'duplicate customer_id, superseded by line 7'],
      [5, 'r1', 'gender "X" is not Female/Male (or F/M)'],
      [8, '', 'customer_id is empty'],
    ]);
    expect([csv.rowsRead, csv.duplicates]).toEqual([8, 1]);
  });

  it('reads ids in a clean file as numbered, and numbers in their common forms as the contract reads them', async () => {
    const text = `${SNAKE}\n0001,Female,007,15.50,01\n0002,Male,120,.5,100\n0003,F,0,3.,99\n0004,m,45,1e3,50\n0005, Male ,+45, 12 ,-0\n`;
    const csv = await readCustomerColumns(byteChunks(text, [1000]));
    expect(Array.from({ length: csv.columns.length }, (_, i) => csv.columns.at(i))).toEqual([
      { customerId: '0001', gender: 'Female', age: 7, annual_income_thousands: 15.5, spending_score: 1 },
      { customerId: '0002', gender: 'Male', age: 120, annual_income_thousands: 0.5, spending_score: 100 },
      { customerId: '0003', gender: 'Female', age: 0, annual_income_thousands: 3, spending_score: 99 },
      { customerId: '0004', gender: 'Male', age: 45, annual_income_thousands: 1000, spending_score: 50 },
    ]);
    expect(csv.rejected.map((r) => [r.line, r.reason])).toEqual([[6, 'spending_score 0 is outside 1–100']]);
  });
});

describe('readCustomerCsv on random files', () => {
  it('accounts for every data row exactly once, with unique accepted IDs and the last occurrence winning', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ header, rows, eol, finalNewline, bom, chunks }) => {
        let text = (bom ? '\uFEFF' : '') + header.join(',');
        let line = 1;
        const rowLines: number[] = [];
        const fieldsByLine = new Map<number, string[]>();
        for (const row of rows) {
          for (let b = 0; b < row.blankBefore; b++) {
            text += eol;
            line++;
          }
          const rendered = row.fields.map((f, i) => encodeField(f, row.quote[i] ?? false)).join(',');
          text += eol;
          line++;
          rowLines.push(line);
          fieldsByLine.set(line, row.fields);
          text += rendered;
          line += newlinesIn(rendered);
        }
        if (finalNewline) text += eol;

        const csv = await readCustomerCsv(byteChunks(text, chunks));

        expect(csv.rowsRead).toBe(rows.length);
        expect(csv.rowsRead).toBe(csv.accepted.length + csv.rejected.length);
        for (const r of csv.rejected) expect(r.reason.trim()).not.toBe('');
        const seenLines = [...csv.accepted.map((r) => r.line), ...csv.rejected.map((r) => r.line)].sort((a, b) => a - b);
        expect(seenLines).toEqual(rowLines);
        const ids = csv.accepted.map((r) => r.customer.customerId);
        expect(new Set(ids).size).toBe(ids.length);
        // fields come back exactly as written, whatever the quoting and chunking
        for (const r of [...csv.accepted, ...csv.rejected]) expect(r.fields).toEqual(fieldsByLine.get(r.line));
        // the accepted row of an id is its last occurrence in the file
        for (const r of csv.accepted) {
          const last = Math.max(...rowLines.filter((l) => fieldsByLine.get(l)![0] === r.customer.customerId));
          expect(r.line).toBe(last);
        }
        expect(csv.duplicates).toBe(csv.rejected.filter((r) => r.reason.startsWith('duplicate customer_id, superseded by line ')).length);
      }),
      { numRuns: 300 },
    );
  });

  it('reads into columns exactly what it reads into objects without fields', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ header, rows, eol, chunks }) => {
        const text = [
          header.join(','),
          ...rows.map((row) => row.fields.map((f, i) => encodeField(f, row.quote[i] ?? false)).join(',')),
        ].join(eol);
        const objects = await readCustomerCsv(byteChunks(text, chunks), { keepFields: false });
        const columns = await readCustomerColumns(byteChunks(text, chunks));
        expect(Array.from({ length: columns.columns.length }, (_, i) => columns.columns.at(i))).toEqual(
          objects.accepted.map((r) => r.customer),
        );
        expect(columns.rejected).toEqual(objects.rejected);
        expect([columns.rowsRead, columns.duplicates, columns.header]).toEqual([objects.rowsRead, objects.duplicates, objects.header]);
      }),
      { numRuns: 200 },
    );
  });
});

/** Quote-free fields: quotes, commas and line breaks dropped. */
const plain = (field: string): string => field.replace(/[",\r\n]/g, '');

describe('readCustomerColumns on quote-free files (lines read in place)', () => {
  it('reads what readCustomerCsv reads, row by row, whatever form each field takes', async () => {
    const field = (forms: readonly string[]) => fc.oneof(fc.constantFrom(...forms), fc.string({ maxLength: 4 }).map(plain));
    const ids = field(['1', '0001', 'a b', ' x', 'x ', '', 'Zoë', '東京', 'é1', 'x'.repeat(128), 'y'.repeat(129), '\t7']);
    const genders = field(['Male', 'Female', 'M', 'F', 'm', ' Male', 'male', 'FEMALE', 'X', '', 'Mal', 'Femal']);
    const whole = field([
      '0',
      '7',
      '007',
      '120',
      '121',
      '100',
      '101',
      '+45',
      '-0',
      '1e2',
      '12.5',
      ' 5',
      '5 ',
      '',
      '999999999999999',
      '1234567890123456',
    ]);
    const incomes = field(['0', '15', '15.5', '.5', '3.', '1.2.3', '.', '1e3', '-1', '+2', ' 4', '9'.repeat(400), '9'.repeat(400) + '.5']);
    const row = fc
      .tuple(ids, genders, whole, incomes, whole, fc.constantFrom(0, 0, 0, 1, -1))
      .map(([id, gender, age, income, score, delta]) => {
        const fields = [id, gender, age, income, score, 'extra'];
        return (delta < 0 ? fields.slice(0, 5) : delta > 0 ? [...fields, 'more'] : fields).join(',');
      });
    const blank = fc.constantFrom('', ' ', ',,,,,', ' , ,,,,', '\t');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 8, arbitrary: row }, { weight: 1, arbitrary: blank }), { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
        async (lines, eol, finalNewline, sizes) => {
          const text = [`${SNAKE},note`, ...lines].join(eol) + (finalNewline ? eol : '');
          const columns = await readCustomerColumns(byteChunks(text, sizes));
          const objects = await readCustomerCsv(byteChunks(text, sizes), { keepFields: false });
          // an age of -0 is 0 in a column of bytes
          expect(Array.from({ length: columns.columns.length }, (_, i) => columns.columns.at(i))).toEqual(
            objects.accepted.map((r) => ({ ...r.customer, age: (r.customer.age as number) + 0 })),
          );
          expect(columns.rejected).toEqual(objects.rejected);
          expect([columns.rowsRead, columns.duplicates]).toEqual([objects.rowsRead, objects.duplicates]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
