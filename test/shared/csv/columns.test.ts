// Customers as columns: the same customers back, numeric fields as Float64Array, compaction, and
// a refusal for values the one-byte columns cannot hold.

import { describe, expect, it } from 'vitest';
import { columnsOf, CustomerColumns, CustomerColumnsBuilder } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';

const customers: Customer[] = [
  { customerId: 'a', gender: 'Female', age: 19, annualIncomeThousands: 15.5, spendingScore: 39 },
  { customerId: 'b', gender: 'Male', age: 120, annualIncomeThousands: 0, spendingScore: 100 },
  { customerId: 'c', gender: 'Female', age: 0, annualIncomeThousands: 1e6, spendingScore: 1 },
];

describe('CustomerColumns', () => {
  it('gives back the customers it was built from, and each numeric field in order', () => {
    const columns = CustomerColumns.from(customers);
    expect(columns).toHaveLength(3);
    expect(Array.from({ length: columns.length }, (_, i) => columns.at(i))).toEqual(customers);
    expect(columns.numeric('age')).toEqual(Float64Array.from([19, 120, 0]));
    expect(columns.numeric('annual_income_thousands')).toEqual(Float64Array.from([15.5, 0, 1e6]));
    expect(columns.numeric('spending_score')).toEqual(Float64Array.from([39, 100, 1]));
    expect(Array.from(columns.genderCodes)).toEqual([0, 1, 0]);
  });

  it('builds an array of customers once and hands out copies of its values', () => {
    expect(columnsOf(customers)).toBe(columnsOf(customers));
    const ages = columnsOf(customers).numeric('age');
    ages[0] = 99;
    expect(columnsOf(customers).numeric('age')[0]).toBe(19);
  });

  it('writes a numeric field into a strided matrix column', () => {
    const target = new Float64Array(6).fill(-1);
    CustomerColumns.from(customers).copyNumeric('spending_score', target, 1, 2);
    expect(Array.from(target)).toEqual([-1, 39, -1, 100, -1, 1]);
  });

  it('keeps only the rows asked for, in order, across growth', () => {
    const builder = new CustomerColumnsBuilder(1);
    for (let i = 0; i < 2500; i++) builder.push({ ...customers[i % 3]!, customerId: String(i) });
    builder.compact((row) => row % 1000 === 7);
    const columns = builder.build({ get: (row) => `kept ${row}` });
    expect(columns).toHaveLength(3);
    expect(Array.from({ length: 3 }, (_, i) => columns.at(i))).toEqual([
      { ...customers[1]!, customerId: 'kept 0' },
      { ...customers[2]!, customerId: 'kept 1' },
      { ...customers[0]!, customerId: 'kept 2' },
    ]);
  });

  it('refuses an age or spending score a one-byte column cannot hold, rather than wrapping it', () => {
    const builder = new CustomerColumnsBuilder();
    expect(() => builder.push({ ...customers[0]!, age: 300 })).toThrow(RangeError);
    expect(() => builder.push({ ...customers[0]!, spendingScore: 2.5 })).toThrow(RangeError);
    expect(builder).toHaveLength(0);
  });
});
