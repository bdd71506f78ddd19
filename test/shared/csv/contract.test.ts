// The CSV contract on its own: which headers resolve to which field, and each rule a row can break.

import { describe, expect, it } from 'vitest';
import { resolveHeader, validateRow, type HeaderMap } from '../../../shared/csv/contract.ts';
import { InvalidFileError } from '../../../shared/errors.ts';
import { MAX_VALUE_LENGTH, parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';

const SNAKE = ['customer_id', 'gender', 'age', 'annual_income_thousands', 'spending_score'];
const KAGGLE = ['CustomerID', 'Genre', 'Age', 'Annual Income (k$)', 'Spending Score (1-100)'];

describe('resolveHeader', () => {
  it('maps the Kaggle Mall Customers headers to the contract fields', () => {
    const header = resolveHeader(KAGGLE);
    expect(header.index).toEqual({ customer_id: 0, gender: 1, age: 2, annual_income_thousands: 3, spending_score: 4 });
  });

  it('maps snake_case headers in any column order', () => {
    const header = resolveHeader(['spending_score', 'age', 'customer_id', 'annual_income_thousands', 'gender']);
    expect(header.index).toEqual({ customer_id: 2, gender: 4, age: 1, annual_income_thousands: 3, spending_score: 0 });
  });

  it('matches headers case-insensitively after trimming', () => {
    const header = resolveHeader(['  ID ', 'GENDER', ' aGe', 'ANNUAL INCOME (K$)  ', 'spending score (1-100)']);
    expect(header.index).toEqual({ customer_id: 0, gender: 1, age: 2, annual_income_thousands: 3, spending_score: 4 });
  });

  it('accepts Gender as well as Genre for the gender column', () => {
    expect(resolveHeader(['CustomerID', 'Gender', 'Age', 'Annual Income (k$)', 'Spending Score (1-100)']).index.gender).toBe(1);
  });

  it('passes extra columns through but never segment or segment_origin', () => {
    const header = resolveHeader([...SNAKE, 'segment', 'region', ' Segment_Origin ', 'notes']);
    expect(header.passThrough).toEqual([0, 1, 2, 3, 4, 6, 8]);
    expect(header.columns).toHaveLength(9);
  });

  it('refuses a header without a required column, naming the column and its accepted headers', () => {
    expect(() => resolveHeader(['customer_id', 'gender', 'age', 'spending_score'])).toThrow(InvalidFileError);
    expect(() => resolveHeader(['customer_id', 'gender', 'age', 'spending_score'])).toThrow(
      /missing required column: annual_income_thousands \(accepted headers: annual_income_thousands, Annual Income \(k\$\)\)/,
    );
  });

  it('lists every missing column at once', () => {
    expect(() => resolveHeader(['customer_id', 'gender'])).toThrow(
      /missing required columns: age .*annual_income_thousands .*spending_score/,
    );
  });

  it('refuses a header naming the same column twice', () => {
    expect(() => resolveHeader([...SNAKE, 'AGE'])).toThrow(/column "AGE" appears twice/);
  });
});

describe('validateRow', () => {
  const header: HeaderMap = resolveHeader(SNAKE);
  const row = (overrides: Partial<Record<(typeof SNAKE)[number], string>> = {}): string[] => {
    const base: Record<string, string> = {
      customer_id: '0001',
      gender: 'Female',
      age: '31',
      annual_income_thousands: '70.5',
      spending_score: '55',
    };
    return SNAKE.map((f) => overrides[f] ?? base[f]!);
  };
  const reasonFor = (fields: string[]): string => {
    const result = validateRow(fields, header);
    if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.customer)}`);
    return result.reason;
  };

  it('accepts a valid row, keeping the id verbatim and numbers as numbers', () => {
    expect(validateRow(row(), header)).toEqual({
      ok: true,
      customer: { customerId: '0001', gender: 'Female', age: 31, annual_income_thousands: 70.5, spending_score: 55 },
    });
  });

  it.each([
    ['M', 'Male'],
    ['f', 'Female'],
    ['MALE', 'Male'],
    ['female', 'Female'],
    [' Male ', 'Male'],
  ])('stores gender %j as %s', (raw, stored) => {
    const result = validateRow(row({ gender: raw }), header);
    expect(result.ok && result.customer.gender).toBe(stored);
  });

  it('accepts the edges of every range: age 0 and 120, income 0, spending 1 and 100', () => {
    for (const fields of [
      row({ age: '0' }),
      row({ age: '120' }),
      row({ annual_income_thousands: '0' }),
      row({ spending_score: '1' }),
      row({ spending_score: '100' }),
    ]) {
      expect(validateRow(fields, header).ok).toBe(true);
    }
  });

  it('rejects an empty or blank customer_id', () => {
    expect(reasonFor(row({ customer_id: '' }))).toBe('customer_id is empty');
    expect(reasonFor(row({ customer_id: '   ' }))).toBe('customer_id is empty');
  });

  it('rejects a gender other than Male/Female/M/F, and an empty one', () => {
    expect(reasonFor(row({ gender: 'X' }))).toMatch(/gender "X" is not Female\/Male \(or F\/M\)/);
    expect(reasonFor(row({ gender: '' }))).toBe('gender is empty');
  });

  it('rejects an age that is not a whole number', () => {
    expect(reasonFor(row({ age: '31.5' }))).toMatch(/age "31.5" is not a whole number/);
    expect(reasonFor(row({ age: 'thirty' }))).toMatch(/age "thirty" is not a whole number/);
    expect(reasonFor(row({ age: '' }))).toBe('age is empty');
  });

  it('rejects an age outside 0–120', () => {
    expect(reasonFor(row({ age: '121' }))).toMatch(/age 121 is outside 0–120/);
    expect(reasonFor(row({ age: '-1' }))).toMatch(/age -1 is outside 0–120/);
  });

  it('rejects a negative or non-numeric income', () => {
    expect(reasonFor(row({ annual_income_thousands: '-0.5' }))).toMatch(/annual_income_thousands -0.5 is negative/);
    expect(reasonFor(row({ annual_income_thousands: '12k' }))).toMatch(/annual_income_thousands "12k" is not a number/);
    expect(reasonFor(row({ annual_income_thousands: '' }))).toBe('annual_income_thousands is empty');
  });

  it('rejects a spending score outside 1–100 or not whole', () => {
    expect(reasonFor(row({ spending_score: '0' }))).toMatch(/spending_score 0 is outside 1–100/);
    expect(reasonFor(row({ spending_score: '101' }))).toMatch(/spending_score 101 is outside 1–100/);
    expect(reasonFor(row({ spending_score: '50.5' }))).toMatch(/spending_score "50.5" is not a whole number/);
  });

  it('rejects a row with the wrong number of fields', () => {
    expect(reasonFor(row().slice(0, 4))).toBe('expected 5 fields, found 4');
    expect(reasonFor([...row(), 'extra'])).toBe('expected 5 fields, found 6');
  });
});

describe('validateRow with a learned categorical feature', () => {
  const schema = parseCustomerSchema(
    {
      version: 1,
      name: 'shop',
      id: { header: 'id' },
      features: [
        { name: 'channel', header: 'channel', label: 'Channel', kind: 'categorical', categories: 'learned' },
        { name: 'spend', header: 'spend', label: 'Spend', kind: 'numeric' },
      ],
    },
    'shop.json',
  );

  it('learns a value as first seen, matches later spellings to it, and refuses one longer than a listed value may be', () => {
    const header = resolveHeader(['id', 'channel', 'spend'], schema);
    expect(validateRow(['1', ' Retail ', '5'], header).ok).toBe(true);
    expect(validateRow(['2', 'RETAIL', '5'], header)).toMatchObject({ ok: true, customer: { channel: 'Retail', spend: 5 } });
    expect(validateRow(['3', 'x'.repeat(MAX_VALUE_LENGTH), '5'], header).ok).toBe(true);
    const long = validateRow(['4', 'y'.repeat(MAX_VALUE_LENGTH + 1), '5'], header);
    expect(long).toEqual({ ok: false, reason: `channel is longer than ${MAX_VALUE_LENGTH} characters` });
  });
});

describe('validateRow with a long list of categories', () => {
  it('names the first ten values in the reason, and how many there are', () => {
    const values = Array.from({ length: 12 }, (_, i) => `store${i + 1}`);
    const schema = parseCustomerSchema(
      {
        version: 1,
        name: 'chain',
        id: { header: 'id' },
        features: [{ name: 'store', header: 'store', label: 'Store', kind: 'categorical', categories: values }],
      },
      'chain.json',
    );
    const header = resolveHeader(['id', 'store'], schema);
    expect(validateRow(['1', 'store99'], header)).toEqual({
      ok: false,
      reason: `store "store99" is not ${values.slice(0, 10).join('/')}/… (12 in all)`,
    });
    expect(validateRow(['2', 'STORE12'], header).ok).toBe(true);
  });
});
