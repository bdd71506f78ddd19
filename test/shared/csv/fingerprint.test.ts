// The training data's fingerprint: pinned values (the SHA-256 recorded in model artifacts must not
// change), and the same value however the customers are held: objects, columns, or as read.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { MallCustomer } from '../../../shared/csv/contract.ts';
import { fingerprint } from '../../../shared/csv/fingerprint.ts';
import { readCustomerColumns, readCustomerCsv } from '../../../shared/csv/read-customers.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { byteChunks, oneString } from '../support/csv-source.ts';

/** Ids beyond ASCII (two-, three- and four-byte UTF-8, a lone surrogate), incomes that print with an exponent, edges. */
const customers: MallCustomer[] = [
  { customerId: '0001', gender: 'Male', age: 19, annual_income_thousands: 15, spending_score: 39 },
  { customerId: 'Zoë', gender: 'Female', age: 0, annual_income_thousands: 15.5, spending_score: 1 },
  { customerId: '客户-7', gender: 'Female', age: 120, annual_income_thousands: 0, spending_score: 100 },
  { customerId: 'emoji 😀', gender: 'Male', age: 255, annual_income_thousands: 1e21, spending_score: 50 },
  { customerId: 'tiny', gender: 'Male', age: 40, annual_income_thousands: 1e-7, spending_score: 50 },
  { customerId: 'big', gender: 'Female', age: 40, annual_income_thousands: 123456789012345678, spending_score: 50 },
  { customerId: 'lone \ud800 surrogate', gender: 'Female', age: 40, annual_income_thousands: 999999999999999, spending_score: 50 },
  { customerId: 'x'.repeat(128), gender: 'Female', age: 40, annual_income_thousands: 1000000000000000, spending_score: 50 },
  { customerId: ' spaced ', gender: 'Female', age: 40, annual_income_thousands: 0.1 + 0.2, spending_score: 50 },
];

/** The canonical form as design.md defines it, one template string and one hash update per row. */
function definition(rows: readonly MallCustomer[]): string {
  const hash = createHash('sha256');
  rows.forEach((c, i) =>
    hash.update(
      `${i === 0 ? '' : '\n'}${c.customerId}\u001f${c.gender}\u001f${c.age}\u001f${c.annual_income_thousands}\u001f${c.spending_score}`,
    ),
  );
  return hash.digest('hex');
}

const customerArb: fc.Arbitrary<MallCustomer> = fc.record({
  customerId: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })),
  gender: fc.constantFrom('Female' as const, 'Male' as const),
  age: fc.integer({ min: 0, max: 120 }),
  annual_income_thousands: fc.oneof(fc.integer({ min: 0, max: 2e6 }), fc.double({ min: 0, max: 1e300, noNaN: true }), fc.constant(1e15)),
  spending_score: fc.integer({ min: 1, max: 100 }),
});

describe('fingerprint', () => {
  it('keeps the values model artifacts recorded', async () => {
    expect(fingerprint(customers)).toBe('2ff8b80e79b76a2d5997c37eefbdc165fa25d8e738281836fcf7d1a38be8cc8b');
    expect(fingerprint([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // the project's own sample data (tests never read files outside the repository), as read from a file
    const sample = await readCustomerColumns(oneString([...generateCsv({ rows: 20_000, seed: 7 })].join('')));
    expect(sample.columns.length).toBe(20_000);
    expect(fingerprint(sample.columns)).toBe('e8c1b2f99ed9991a98470b4cfeb82c333ae788a0c46bcd624f0ee1da8881b025');
  });

  it('is the same for customers as objects and as columns', () => {
    expect(fingerprint(CustomerColumns.from(customers.slice()))).toBe(fingerprint(customers));
  });

  it('is the SHA-256 of the canonical form, across buffer boundaries and for any ids and incomes', () => {
    fc.assert(
      fc.property(fc.array(customerArb, { maxLength: 40 }), (rows) => {
        expect(fingerprint(rows)).toBe(definition(rows));
      }),
    );
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      ...customers[i % customers.length]!,
      customerId: `${i}-${customers[i % 9]!.customerId}`,
    }));
    expect(fingerprint(many)).toBe(definition(many));
    const long = [customers[0]!, { ...customers[1]!, customerId: 'é'.repeat(40_000) }, customers[2]!];
    expect(fingerprint(long)).toBe(definition(long));
  });

  it('is taken as a file is read, the same as computed from the rows, and computed from them when a row was superseded', async () => {
    const csv = [
      'customer_id,gender,age,annual_income_thousands,spending_score',
      ...customers
        .filter(
          (c) =>
            c.customerId.trim() === c.customerId &&
            c.age <= 120 &&
            c.annual_income_thousands < 1e21 &&
            !c.customerId.includes('\ud800') &&
            c.customerId.length <= 128,
        )
        .map((c) => `"${c.customerId}",${c.gender},${c.age},${c.annual_income_thousands},${c.spending_score}`),
    ].join('\n');
    const asColumns = await readCustomerColumns(byteChunks(csv, [5]));
    expect(asColumns.columns.fingerprint).toBeDefined();
    const asObjects = await readCustomerCsv(byteChunks(csv, [7]));
    expect(asColumns.columns.length).toBe(6);
    expect(fingerprint(asColumns.columns)).toBe(definition(asObjects.accepted.map((r) => r.customer as MallCustomer)));

    const superseding = `${csv}\n0001,Female,30,40,50\n`;
    const read = await readCustomerColumns(byteChunks(superseding, [64]));
    expect(read.duplicates).toBe(1);
    expect(read.columns.fingerprint).toBeUndefined();
    expect(fingerprint(read.columns)).toBe(
      definition((await readCustomerCsv(byteChunks(superseding, [64]))).accepted.map((r) => r.customer as MallCustomer)),
    );
  });
});
