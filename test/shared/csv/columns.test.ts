// Customers as columns: the same customers back, numeric fields as Float64Array, compaction, and
// a refusal for values the one-byte columns cannot hold.

import { describe, expect, it } from 'vitest';
import { columnsOf, CustomerColumns, CustomerColumnsBuilder } from '../../../shared/csv/columns.ts';
import { resolveHeader, type MallCustomer } from '../../../shared/csv/contract.ts';

const customers: MallCustomer[] = [
  { customerId: 'a', gender: 'Female', age: 19, annual_income_thousands: 15.5, spending_score: 39 },
  { customerId: 'b', gender: 'Male', age: 120, annual_income_thousands: 0, spending_score: 100 },
  { customerId: 'c', gender: 'Female', age: 0, annual_income_thousands: 1e6, spending_score: 1 },
];

const mallHeader = resolveHeader(['customer_id', 'gender', 'age', 'annual_income_thousands', 'spending_score']);

describe('CustomerColumns', () => {
  it('gives back the customers it was built from, and each numeric field in order', () => {
    const columns = CustomerColumns.from(customers);
    expect(columns).toHaveLength(3);
    expect(Array.from({ length: columns.length }, (_, i) => columns.at(i))).toEqual(customers);
    expect(columns.numeric('age')).toEqual(Float64Array.from([19, 120, 0]));
    expect(columns.numeric('annual_income_thousands')).toEqual(Float64Array.from([15.5, 0, 1e6]));
    expect(columns.numeric('spending_score')).toEqual(Float64Array.from([39, 100, 1]));
    expect(Array.from(columns.codes('gender'))).toEqual([0, 1, 0]);
    expect(columns.categories('gender')).toEqual(['Female', 'Male']);
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
    const builder = new CustomerColumnsBuilder(mallHeader, 1);
    for (let i = 0; i < 2500; i++) builder.pushCustomer({ ...customers[i % 3]!, customerId: String(i) });
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
    const builder = new CustomerColumnsBuilder(mallHeader);
    expect(() => builder.pushCustomer({ ...customers[0]!, age: 300 })).toThrow(RangeError);
    expect(() => builder.pushCustomer({ ...customers[0]!, spending_score: 2.5 })).toThrow(RangeError);
    expect(() => builder.pushCustomer({ ...customers[0]!, gender: 'X' })).toThrow(RangeError);
    expect(builder).toHaveLength(0);
  });
});
