// Drift baseline: decile bins per numeric field, counted from the values put in order once, must
// be the bins of the straightforward computation (a sorted copy, each value binned) to the bit.

import { isDeepStrictEqual } from 'node:util';
import { Random } from 'ml-random';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import { NUMERIC_FIELDS, type Customer } from '../../../shared/csv/contract.ts';
import { numericValues } from '../../../shared/features/spec.ts';
import { baselineOf } from '../../../shared/model/drift.ts';
import { profileSegments } from '../../../shared/profile/profile.ts';

/** The reference: edges from a sorted copy, then each value's bin found by scanning the edges. */
function reference(customers: readonly Customer[], distances: Float64Array, outliers: number) {
  const quantileOf = (sorted: Float64Array, q: number): number => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.min(low + 1, sorted.length - 1);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  const bins: Record<string, { edges: number[]; shares: number[] }> = {};
  for (const field of NUMERIC_FIELDS) {
    const values = numericValues(customers, field);
    const sorted = Float64Array.from(values).sort();
    const edges: number[] = [];
    for (let q = 1; q < 10; q++) {
      const edge = quantileOf(sorted, q / 10);
      if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
    }
    const kept = edges.filter((e) => e > sorted[0]!);
    const counts = new Array<number>(kept.length + 1).fill(0);
    for (const v of values) {
      let bin = 0;
      while (bin < kept.length && v >= kept[bin]!) bin++;
      counts[bin]!++;
    }
    bins[field] = { edges: kept, shares: counts.map((c) => c / Math.max(1, values.length)) };
  }
  let sum = 0;
  for (const d of distances) sum += d;
  return { bins, outlierRate: outliers / Math.max(1, customers.length), meanDistance: sum / Math.max(1, distances.length) };
}

const made = (n: number, seed: number, income: (random: Random) => number): Customer[] => {
  const random = new Random(seed);
  return Array.from({ length: n }, (_, i) => ({
    customerId: String(i),
    gender: random.random() < 0.5 ? 'Female' : 'Male',
    age: 18 + Math.floor(random.random() * 53),
    annual_income_thousands: income(random),
    spending_score: Math.floor(random.random() * 101),
  }));
};

describe('baselineOf', () => {
  const cases: Record<string, Customer[]> = {
    'whole-thousand incomes': made(30_000, 1, (r) => 15 + Math.floor(r.random() * 125)),
    'incomes with decimals, many repeated': made(30_000, 2, (r) => Math.round(r.random() * 2000) / 8),
    'incomes beyond the counted range': made(30_000, 3, (r) => Math.floor(r.random() * 1e6)),
    'a few customers': made(7, 4, (r) => r.random() * 100),
    'one customer': made(1, 5, () => 40),
    'every income the same': made(5000, 6, () => 70),
    'no customers': [],
  };

  for (const [name, customers] of Object.entries(cases)) {
    it(`bins every field as the sorted copy does, for objects and for columns: ${name}`, () => {
      const distances = Float64Array.from(customers, (_, i) => Math.sqrt(i % 97) / 3);
      const expected = reference(customers, distances, 3);
      expect(isDeepStrictEqual(baselineOf(customers, distances, 3), expected)).toBe(true);
      expect(isDeepStrictEqual(baselineOf(CustomerColumns.from([...customers]), distances, 3), expected)).toBe(true);
      // after the profiles, which leave their counts for the baseline to read
      const profiled = CustomerColumns.from([...customers]);
      profileSegments(
        profiled,
        Int32Array.from(customers, (_, i) => i % 3),
        distances,
        3,
      );
      expect(isDeepStrictEqual(baselineOf(profiled, distances, 3), expected)).toBe(true);
    });
  }

  it('merges repeated edges of a discrete field and never starts a bin at the minimum', () => {
    const customers = made(1000, 7, (r) => (r.random() < 0.5 ? 10 : 20));
    const { edges, shares } = baselineOf(customers, new Float64Array(1000), 0).bins.annual_income_thousands!;
    expect(edges).toEqual([20]);
    expect(shares[0]! + shares[1]!).toBe(1);
  });
});
