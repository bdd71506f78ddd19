// Drift baseline: decile bins per numeric field, counted from the values put in order once, must
// be the bins of the straightforward computation (a sorted copy, each value binned) to the bit;
// category shares per categorical feature; and the drift assessed against it.

import { isDeepStrictEqual } from 'node:util';
import { Random } from 'ml-random';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import { NUMERIC_FIELDS, type Customer } from '../../../shared/csv/contract.ts';
import { numericValues } from '../../../shared/features/spec.ts';
import { assessDrift, baselineOf, BaselineSchema, DriftSchema, maxPsi, type Baseline } from '../../../shared/model/drift.ts';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
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
  const n = Math.max(1, customers.length);
  const women = customers.filter((c) => c.gender === 'Female').length;
  return {
    bins,
    outlierRate: outliers / n,
    meanDistance: sum / Math.max(1, distances.length),
    categories: { gender: { values: ['Female', 'Male'], shares: [women / n, (customers.length - women) / n] } },
  };
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

describe('baselineOf with another schema', () => {
  const schema = parseCustomerSchema(
    {
      name: 'shop',
      id: { header: 'id' },
      features: [
        { name: 'channel', header: 'channel', label: 'Channel', kind: 'categorical', categories: 'learned' },
        { name: 'region', header: 'region', label: 'Region', kind: 'categorical', categories: ['north', 'south', 'east'] },
        { name: 'spend', header: 'spend', label: 'Spend', kind: 'numeric', transform: 'log1p', min: 0 },
      ],
    },
    'test',
  );
  const customers: Customer[] = Array.from({ length: 100 }, (_, i) => ({
    customerId: String(i),
    channel: i % 4 === 0 ? 'web' : 'store',
    region: i < 30 ? 'south' : 'north',
    spend: i * 10,
  }));

  it('bins the raw values of every numeric feature, and shares every categorical one: listed values in order, learned ones sorted', () => {
    const baseline = baselineOf(CustomerColumns.from(customers, schema), new Float64Array(100), 0);
    expect(Object.keys(baseline.bins)).toEqual(['spend']);
    // raw values (0, 10, …, 990), not their log1p
    baseline.bins.spend!.edges.forEach((edge, i) => expect(edge).toBeCloseTo(99 * (i + 1), 9));
    expect(baseline.bins.spend!.edges).toHaveLength(9);
    expect(baseline.categories).toEqual({
      channel: { values: ['store', 'web'], shares: [0.75, 0.25] },
      region: { values: ['north', 'south', 'east'], shares: [0.7, 0.3, 0] },
    });
  });
});

describe('assessDrift', () => {
  const baseline: Baseline = {
    bins: { age: { edges: [30], shares: [0.5, 0.5] } },
    categories: { gender: { values: ['Female', 'Male'], shares: [0.5, 0.5] } },
    outlierRate: 0.01,
    meanDistance: 1,
  };
  const observed = (genders: number[]) => ({
    assigned: 1000,
    created: 1000,
    outliers: 10,
    distanceSum: 1000,
    bins: { age: [500, 500] },
    categories: { gender: genders },
  });

  it('compares category shares now with training ones, values never seen at training apart, and recommends retraining on a shift', () => {
    const drift = assessDrift(baseline, observed([800, 100, 100]));
    expect(drift.psi).toEqual({ age: 0 });
    const gender = drift.categories!.gender!;
    expect(gender.values).toEqual(['Female', 'Male']);
    expect(gender.training).toEqual([0.5, 0.5]);
    expect(gender.now).toEqual([0.8, 0.1]);
    expect(gender.unseen).toBeCloseTo(0.1, 12);
    // PSI over Female, Male and the unseen values (the training share of those floored, as an empty bin's)
    const term = (q: number, p: number) => (q - p) * Math.log(q / p);
    expect(gender.psi).toBeCloseTo(term(0.8, 0.5) + term(0.1, 0.5) + term(0.1, 1e-4), 12);
    expect(drift.retrainRecommended).toBe(true);
    expect(drift.reasons).toEqual([`gender has shifted: PSI ${gender.psi.toFixed(2)} > 0.2`]);
    expect(DriftSchema.parse(drift)).toEqual(drift);
    // the MaxPsi metric is the categorical feature's here: the numeric one did not move
    expect(maxPsi(drift)).toBe(gender.psi);
  });

  it('says nothing of categories for a baseline without them (a model written before they existed)', () => {
    const { categories: _none, ...older } = baseline;
    expect(BaselineSchema.parse(older)).toEqual(older);
    const drift = assessDrift(older, observed([500, 500, 0]));
    expect('categories' in drift).toBe(false);
    expect(drift.retrainRecommended).toBe(false);
  });

  it('gives no figure for a field the observation left out (its column no longer in the table)', () => {
    const drift = assessDrift(baseline, { ...observed([500, 500, 0]), bins: {}, categories: {} });
    expect(drift.psi).toEqual({});
    expect(drift.categories).toEqual({});
    expect(maxPsi(drift)).toBe(0);
  });
});
