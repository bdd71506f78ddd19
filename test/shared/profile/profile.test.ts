// Segment profiles: per-segment statistics and distances, generated names, and the warnings
// raised when one feature alone (gender, or one numeric) determines the segments.

import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { Random } from 'ml-random';
import { MALL_SCHEMA, parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer, Gender } from '../../../shared/csv/contract.ts';
import { numericValues, resolveFeatures } from '../../../shared/features/spec.ts';
import {
  dominanceWarnings,
  etaSquared,
  fieldEtaSquared,
  fieldMeanStd,
  nameSegments,
  profileSegments,
  segmentDeviations,
} from '../../../shared/profile/profile.ts';
import { meanStd } from '../../../shared/profile/stats.ts';

const customer = (id: string, gender: Gender, age: number, income: number, spending: number): Customer => ({
  customerId: id,
  gender,
  age,
  annual_income_thousands: income,
  spending_score: spending,
});

const neutral = { Female: 0.5, Male: 0.5 };
const dev = (age: number, income: number, spending: number) => ({ age, annual_income_thousands: income, spending_score: spending });

describe('profileSegments', () => {
  const customers = [
    customer('1', 'Female', 20, 15, 80),
    customer('2', 'Female', 24, 19, 90),
    customer('3', 'Male', 22, 17, 70),
    customer('4', 'Male', 60, 80, 10),
    customer('5', 'Male', 64, 90, 20),
  ];
  const labels = Int32Array.from([0, 0, 0, 1, 1]);
  const distances = Float64Array.from([0.5, 0.1, 0.3, 2, 1]);
  const profiles = profileSegments(customers, labels, distances, 2);

  it('counts size, share and gender shares per segment', () => {
    expect(profiles.map((p) => [p.id, p.size, p.share])).toEqual([
      [0, 3, 3 / 5],
      [1, 2, 2 / 5],
    ]);
    expect(profiles[0]!.categories.gender).toEqual({ Female: 2 / 3, Male: 1 / 3 });
    expect(profiles[1]!.categories.gender).toEqual({ Female: 0, Male: 1 });
  });

  it('summarises each numeric field over the segment members, with the real max', () => {
    expect(profiles[0]!.stats.age).toEqual({ min: 20, p25: 21, median: 22, mean: 22, p75: 23, max: 24 });
    expect(profiles[0]!.stats.spending_score!.max).toBe(90);
    expect(profiles[1]!.stats.annual_income_thousands).toEqual({ min: 80, p25: 82.5, median: 85, mean: 85, p75: 87.5, max: 90 });
  });

  it('describes distances to the centroid and sets the outlier threshold at their 99th percentile', () => {
    // segment 0 distances sorted 0.1, 0.3, 0.5: p90 at rank 1.8 = 0.46, p99 at rank 1.98 = 0.496
    expect(profiles[0]!.distance.mean).toBeCloseTo(0.3, 12);
    expect(profiles[0]!.distance.median).toBe(0.3);
    expect(profiles[0]!.distance.p90).toBeCloseTo(0.46, 12);
    expect(profiles[0]!.distance.p99).toBeCloseTo(0.496, 12);
    expect(profiles[0]!.distance.max).toBe(0.5);
    expect(profiles[0]!.outlierThreshold).toBeCloseTo(0.496, 12);
    expect(profiles[1]!.outlierThreshold).toBeCloseTo(1.99, 12);
  });
});

describe('segmentDeviations', () => {
  it('measures each segment mean from the overall mean in population standard deviations', () => {
    const customers = [customer('1', 'Female', 20, 10, 10), customer('2', 'Male', 40, 10, 30)];
    const profiles = profileSegments(customers, Int32Array.from([0, 1]), Float64Array.from([0, 0]), 2);
    // ages 20 and 40: mean 30, population std 10; income constant: deviation 0
    expect(segmentDeviations(customers, profiles)).toEqual([dev(-1, 0, -1), dev(1, 0, 1)]);
  });
});

describe('nameSegments', () => {
  it("names another schema's segment by its labels, at most three numeric features (the most distinct), then a dominant value", () => {
    const schema = parseCustomerSchema(
      {
        name: 'shop',
        id: { header: 'id' },
        features: [
          { name: 'channel', header: 'channel', label: 'Channel', kind: 'categorical', categories: ['horeca', 'retail'] },
          ...['fresh', 'milk', 'grocery', 'frozen'].map((name) => ({
            name,
            header: name,
            label: name[0]!.toUpperCase() + name.slice(1),
            kind: 'numeric',
          })),
        ],
      },
      'shop.json',
    );
    const dev = { fresh: 1.2, milk: -0.6, grocery: -2, frozen: 0.9 };
    expect(nameSegments(schema, [{ dev, categories: { channel: { horeca: 0.95, retail: 0.05 } } }])).toEqual([
      'High fresh · low grocery · high frozen · horeca',
    ]);
  });

  it('names a segment by the fields that stand out, age first: "Young · high spending"', () => {
    expect(nameSegments(MALL_SCHEMA, [{ dev: dev(-1.2, 0.1, 1.5), categories: { gender: neutral } }])).toEqual(['Young · high spending']);
  });

  it('uses the low and high words of each field', () => {
    const names = nameSegments(MALL_SCHEMA, [
      { dev: dev(1.3, -0.9, 0), categories: { gender: neutral } },
      { dev: dev(0, 1.1, -1.4), categories: { gender: neutral } },
    ]);
    expect(names[0]).toMatch(/^Older · low income/);
    expect(names[1]).toMatch(/^High income · low spending/);
  });

  it('calls a segment with nothing standing out "Average customers"', () => {
    expect(nameSegments(MALL_SCHEMA, [{ dev: dev(0.1, -0.2, 0.3), categories: { gender: neutral } }])).toEqual(['Average customers']);
  });

  it('adds the gender when at least 90 % of the segment is one gender', () => {
    expect(nameSegments(MALL_SCHEMA, [{ dev: dev(-1, 0, 1), categories: { gender: { Female: 0.95, Male: 0.05 } } }])).toEqual([
      'Young · high spending · women',
    ]);
    expect(nameSegments(MALL_SCHEMA, [{ dev: dev(-1, 0, 1), categories: { gender: { Female: 0.8, Male: 0.2 } } }])).toEqual([
      'Young · high spending',
    ]);
  });

  it('tells apart segments that would share a name', () => {
    const names = nameSegments(MALL_SCHEMA, [
      { dev: dev(-1, 0.3, 1), categories: { gender: neutral } },
      { dev: dev(-1, -0.3, 1), categories: { gender: neutral } },
      { dev: dev(-1, -0.3, 1), categories: { gender: neutral } },
    ]);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^Young · high spending/);
  });

  it('always gives unique names', () => {
    const z = fc.constantFrom(-2, -1, -0.6, -0.3, 0, 0.3, 0.6, 1, 2);
    const segment = fc.record({
      dev: fc.tuple(z, z, z).map(([a, i, s]) => dev(a, i, s)),
      categories: fc.constantFrom(neutral, { Female: 1, Male: 0 }, { Female: 0.05, Male: 0.95 }).map((gender) => ({ gender })),
    });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 10 }), (segments) => {
        const names = nameSegments(MALL_SCHEMA, segments);
        expect(names).toHaveLength(segments.length);
        expect(new Set(names).size).toBe(names.length);
        for (const name of names) expect(name.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('dominanceWarnings', () => {
  // ages, incomes and spending identical across the two segments: no numeric explains them
  const customers = [
    customer('1', 'Female', 20, 30, 40),
    customer('2', 'Female', 40, 50, 60),
    customer('3', 'Male', 20, 30, 40),
    customer('4', 'Male', 40, 50, 60),
  ];
  const labels = Int32Array.from([0, 0, 1, 1]);
  const genderOf = (shares: Array<{ Female: number; Male: number }>) => shares.map((gender) => ({ categories: { gender } }));

  it('warns when every segment is one gender', () => {
    const warnings = dominanceWarnings(
      customers,
      labels,
      genderOf([
        { Female: 1, Male: 0 },
        { Female: 0, Male: 1 },
      ]),
      resolveFeatures(),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^gender alone splits the customers/);
    expect(warnings[0]).toContain('(2 of 2 are 100 %)');
    expect(warnings[0]).toContain('--exclude gender');
  });

  it('warns when every segment is at least 95 % one gender', () => {
    const warnings = dominanceWarnings(
      customers,
      labels,
      genderOf([
        { Female: 0.96, Male: 0.04 },
        { Female: 0, Male: 1 },
      ]),
      resolveFeatures(),
    );
    expect(warnings.filter((w) => w.startsWith('gender'))).toHaveLength(1);
  });

  it('does not warn when one segment mixes genders', () => {
    expect(
      dominanceWarnings(
        customers,
        labels,
        genderOf([
          { Female: 1, Male: 0 },
          { Female: 0.6, Male: 0.4 },
        ]),
        resolveFeatures(),
      ),
    ).toEqual([]);
  });

  it('does not warn when all customers share one gender', () => {
    expect(
      dominanceWarnings(
        customers,
        labels,
        genderOf([
          { Female: 1, Male: 0 },
          { Female: 1, Male: 0 },
        ]),
        resolveFeatures(),
      ),
    ).toEqual([]);
  });

  it('does not warn about gender when gender is not a feature', () => {
    const features = resolveFeatures({ exclude: ['gender'] });
    expect(
      dominanceWarnings(
        customers,
        labels,
        genderOf([
          { Female: 1, Male: 0 },
          { Female: 0, Male: 1 },
        ]),
        features,
      ),
    ).toEqual([]);
  });

  it('does not warn for a single segment', () => {
    expect(dominanceWarnings(customers, new Int32Array(4), genderOf([{ Female: 0.5, Male: 0.5 }]), resolveFeatures())).toEqual([]);
  });

  it('warns when one numeric field alone separates the segments', () => {
    const byAge = [
      customer('1', 'Female', 20, 10, 30),
      customer('2', 'Male', 21, 50, 70),
      customer('3', 'Female', 60, 10, 30),
      customer('4', 'Male', 61, 50, 70),
    ];
    const mixed = genderOf([
      { Female: 0.5, Male: 0.5 },
      { Female: 0.5, Male: 0.5 },
    ]);
    const warnings = dominanceWarnings(byAge, labels, mixed, resolveFeatures());
    expect(warnings).toEqual([expect.stringMatching(/^age alone splits the customers: it explains 100 % of its variance/)]);
    // with income also separating the segments, age is not alone
    const byAgeAndIncome = byAge.map((c, i) => ({ ...c, annual_income_thousands: i < 2 ? 10 + i : 90 + i }));
    expect(dominanceWarnings(byAgeAndIncome, labels, mixed, resolveFeatures())).toEqual([]);
  });
});

describe('profileSegments on many customers', () => {
  // The reference: the straightforward profile (each segment's values copied, sorted and read),
  // which the counted and radix-sorted paths must match to the bit.
  function quantileOf(sorted: Float64Array, q: number): number {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.min(low + 1, sorted.length - 1);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  }
  function summaryOf(values: Float64Array) {
    const sorted = Float64Array.from(values).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    const [min, max] = [sorted[0]!, sorted[sorted.length - 1]!];
    return {
      min,
      p25: quantileOf(sorted, 0.25),
      median: quantileOf(sorted, 0.5),
      mean: sum / sorted.length,
      p75: quantileOf(sorted, 0.75),
      max,
    };
  }
  function reference(customers: readonly Customer[], labels: Int32Array, distances: Float64Array, k: number) {
    return Array.from({ length: k }, (_, id) => {
      const members = customers.filter((_, i) => labels[i] === id);
      const size = members.length;
      const dist = distances.filter((_, i) => labels[i] === id).sort();
      let sum = 0;
      for (const v of dist) sum += v;
      return {
        id,
        size,
        share: size / customers.length,
        categories: {
          gender: {
            Female: members.filter((c) => c.gender === 'Female').length / size,
            Male: members.filter((c) => c.gender === 'Male').length / size,
          },
        },
        stats: {
          age: summaryOf(Float64Array.from(members, (c) => c.age as number)),
          annual_income_thousands: summaryOf(Float64Array.from(members, (c) => c.annual_income_thousands as number)),
          spending_score: summaryOf(Float64Array.from(members, (c) => c.spending_score as number)),
        },
        distance: {
          mean: sum / dist.length,
          median: quantileOf(dist, 0.5),
          p90: quantileOf(dist, 0.9),
          p99: quantileOf(dist, 0.99),
          max: dist[dist.length - 1]!,
        },
        outlierThreshold: quantileOf(dist, 0.99),
      };
    });
  }

  const n = 40_000;
  const k = 6;
  const random = new Random(7);
  const labels = Int32Array.from({ length: n }, () => Math.floor(random.random() * (k - 1))); // segment 5 stays empty
  // distances of discrete data repeat; a few thousand distinct values
  const distances = Float64Array.from({ length: n }, () => Math.sqrt(Math.floor(random.random() * 5000)) / 17);
  const made = (income: () => number): Customer[] =>
    Array.from({ length: n }, (_, i) =>
      customer(
        String(i),
        random.random() < 0.5 ? 'Female' : 'Male',
        18 + Math.floor(random.random() * 53),
        income(),
        Math.floor(random.random() * 101),
      ),
    );
  const cases: Record<string, Customer[]> = {
    'whole-thousand incomes': made(() => 15 + Math.floor(random.random() * 125)),
    'incomes with decimals': made(() => Math.round(random.random() * 150_000) / 1000),
    'incomes beyond the counted range': made(() => Math.floor(random.random() * 1e6)),
  };

  for (const [name, customers] of Object.entries(cases)) {
    it(`gives the sorted copies' figures to the bit, for objects and for columns: ${name}`, () => {
      const expected = reference(customers, labels, distances, k);
      expect(isDeepStrictEqual(profileSegments(customers, labels, distances, k), expected)).toBe(true);
      expect(isDeepStrictEqual(profileSegments(CustomerColumns.from(customers), labels, distances, k), expected)).toBe(true);
    });
  }

  it('measures deviations from the overall means and deviations, for objects and for columns', () => {
    const customers = cases['incomes with decimals']!;
    const profiles = profileSegments(customers, labels, distances, k - 1);
    const overall = Object.fromEntries(
      (['age', 'annual_income_thousands', 'spending_score'] as const).map((f) => [f, meanStd(numericValues(customers, f))]),
    );
    const expected = profiles.map((p) =>
      Object.fromEntries(Object.entries(overall).map(([f, { mean, std }]) => [f, (p.stats[f]!.mean - mean) / std])),
    );
    expect(isDeepStrictEqual(segmentDeviations(customers, profiles), expected)).toBe(true);
    expect(isDeepStrictEqual(segmentDeviations(CustomerColumns.from([...customers]), profiles), expected)).toBe(true);
    expect(isDeepStrictEqual(fieldMeanStd(CustomerColumns.from([...customers]), 'age'), overall.age)).toBe(true);
  });

  it('remembers η² and the overall figures per customers and labels, never for other labels or k', () => {
    const customers = [...cases['incomes with decimals']!];
    const other = Int32Array.from(labels, (l, i) => (i % 3 === 0 ? (l + 1) % (k - 1) : l));
    profileSegments(customers, labels, distances, k - 1);
    for (const f of ['age', 'annual_income_thousands', 'spending_score'] as const) {
      const values = numericValues(customers, f);
      expect(fieldEtaSquared(customers, labels, k - 1, f)).toBe(etaSquared(values, labels, k - 1));
      expect(fieldEtaSquared(customers, other, k - 1, f)).toBe(etaSquared(values, other, k - 1));
      expect(fieldEtaSquared(customers, labels, k, f)).toBe(etaSquared(values, labels, k));
      expect(isDeepStrictEqual(fieldMeanStd(customers, f), meanStd(values))).toBe(true);
    }
    expect(etaSquared(numericValues(customers, 'age'), other, k - 1)).not.toBe(etaSquared(numericValues(customers, 'age'), labels, k - 1));
  });
});
