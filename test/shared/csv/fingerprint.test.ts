// The training data's fingerprint: pinned values (the SHA-256 recorded in model artifacts must not
// change), and the same value however the customers are held: objects, columns, or as read.

import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { fingerprint } from '../../../shared/csv/fingerprint.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { byteChunks } from '../support/csv-source.ts';

const MALL = new URL('../../../../shared/data/Mall_Customers.csv', import.meta.url);

/** Ids beyond ASCII (two-, three- and four-byte UTF-8, a lone surrogate), incomes that print with an exponent, edges. */
const customers: Customer[] = [
  { customerId: '0001', gender: 'Male', age: 19, annualIncomeThousands: 15, spendingScore: 39 },
  { customerId: 'Zoë', gender: 'Female', age: 0, annualIncomeThousands: 15.5, spendingScore: 1 },
  { customerId: '客户-7', gender: 'Female', age: 120, annualIncomeThousands: 0, spendingScore: 100 },
  { customerId: 'emoji 😀', gender: 'Male', age: 255, annualIncomeThousands: 1e21, spendingScore: 50 },
  { customerId: 'tiny', gender: 'Male', age: 40, annualIncomeThousands: 1e-7, spendingScore: 50 },
  { customerId: 'big', gender: 'Female', age: 40, annualIncomeThousands: 123456789012345678, spendingScore: 50 },
  { customerId: 'lone \ud800 surrogate', gender: 'Female', age: 40, annualIncomeThousands: 999999999999999, spendingScore: 50 },
  { customerId: 'x'.repeat(128), gender: 'Female', age: 40, annualIncomeThousands: 1000000000000000, spendingScore: 50 },
  { customerId: ' spaced ', gender: 'Female', age: 40, annualIncomeThousands: 0.1 + 0.2, spendingScore: 50 },
];

describe('fingerprint', () => {
  it('keeps the values model artifacts recorded', async () => {
    expect(fingerprint(customers)).toBe('2ff8b80e79b76a2d5997c37eefbdc165fa25d8e738281836fcf7d1a38be8cc8b');
    expect(fingerprint([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const mall = await readCustomerColumns(createReadStream(MALL));
    expect(fingerprint(mall.columns)).toBe('75c8795f39210fe649902334d2f1e1c835e7f11a5cc6b934410d253bf0189217');
  });

  it('is the same for customers as objects and as columns', () => {
    expect(fingerprint(CustomerColumns.from(customers.slice()))).toBe(fingerprint(customers));
  });
});
