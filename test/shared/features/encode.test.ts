// Encoding into model space: one-hot with fixed categories, population-std scaling (a constant
// column gets scale 1), weights after scaling, and the way back to original units.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import {
  applyScaler,
  encodeRaw,
  encodeScaled,
  fitScaler,
  fitScalerOf,
  toOriginalUnits,
  type Matrix,
} from '../../../shared/features/encode.ts';
import { resolveFeatures } from '../../../shared/features/spec.ts';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';

const customer = (id: string, gender: 'Male' | 'Female', age: number, income: number, spending: number): Customer => ({
  customerId: id,
  gender,
  age,
  annual_income_thousands: income,
  spending_score: spending,
});

// ages 20, 30, 40: mean 30, population std √(200/3); incomes 10, 10, 40: mean 20, std √200;
// spending constant 50
const TOY = [customer('a', 'Female', 20, 10, 50), customer('b', 'Male', 30, 10, 50), customer('c', 'Female', 40, 40, 50)];

const rowsOf = (m: { data: Float64Array; rows: number; cols: number }): number[][] =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));

describe('encodeRaw', () => {
  it('lays out gender=Female, gender=Male, age, income, spending as raw values', () => {
    const raw = encodeRaw(TOY, resolveFeatures());
    expect(raw.cols).toBe(5);
    expect(rowsOf(raw)).toEqual([
      [1, 0, 20, 10, 50],
      [0, 1, 30, 10, 50],
      [1, 0, 40, 40, 50],
    ]);
  });

  it('keeps both gender columns for a batch with only one gender', () => {
    const men = [customer('a', 'Male', 20, 10, 50), customer('b', 'Male', 30, 20, 60)];
    const features = resolveFeatures();
    const raw = encodeRaw(men, features);
    expect(rowsOf(raw).map((r) => r.slice(0, 2))).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(fitScaler(raw, features).columns).toEqual(['gender=Female', 'gender=Male', 'age', 'annual_income_thousands', 'spending_score']);
  });

  it('encodes a category not in the fixed list as NaN across its columns', () => {
    const features = [{ name: 'gender' as const, kind: 'categorical' as const, categories: ['Female'], weight: 1 }];
    expect(rowsOf(encodeRaw([customer('a', 'Male', 1, 1, 1), customer('b', 'Female', 1, 1, 1)], features))).toEqual([[Number.NaN], [1]]);
  });

  it('encodes no customers as an empty matrix with the model columns', () => {
    const raw = encodeRaw([], resolveFeatures());
    expect([raw.rows, raw.cols, raw.data.length]).toEqual([0, 5, 0]);
  });
});

describe('fitScaler', () => {
  it('uses the mean and the population standard deviation of every column', () => {
    const features = resolveFeatures();
    const scaler = fitScaler(encodeRaw(TOY, features), features);
    expect(scaler.mean).toEqual([2 / 3, 1 / 3, 30, 20, 50]);
    // one-hot column with shares 2/3 and 1/3: population std √(2/9)
    expect(scaler.scale[0]).toBeCloseTo(Math.sqrt(2 / 9), 14);
    expect(scaler.scale[1]).toBeCloseTo(Math.sqrt(2 / 9), 14);
    expect(scaler.scale[2]).toBeCloseTo(Math.sqrt(200 / 3), 12); // 8.16496580927726, not the sample std 10
    expect(scaler.scale[3]).toBeCloseTo(Math.sqrt(200), 12);
  });

  it('gives a constant column scale 1', () => {
    const features = resolveFeatures();
    const scaler = fitScaler(encodeRaw(TOY, features), features);
    expect(scaler.scale[4]).toBe(1);
    const men = [customer('a', 'Male', 20, 10, 50), customer('b', 'Male', 30, 20, 60)];
    expect(fitScaler(encodeRaw(men, features), features).scale.slice(0, 2)).toEqual([1, 1]);
  });

  it('takes a log1p column constant up to its rounding as constant, as scikit-learn does', () => {
    const schema = parseCustomerSchema(
      {
        name: 'spend',
        id: { header: 'id' },
        features: [
          { name: 'fresh', header: 'fresh', label: 'Fresh', kind: 'numeric', transform: 'log1p', min: 0 },
          { name: 'milk', header: 'milk', label: 'Milk', kind: 'numeric', transform: 'log1p', min: 0 },
        ],
      },
      'spend.json',
    );
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ customerId: String(i), fresh: 12345, milk: i % 7 }));
    const columns = CustomerColumns.from(rows, schema);
    const features = resolveFeatures({}, schema);
    const raw = encodeRaw(columns, features);
    // the sums of 10⁵ equal doubles leave a variance of rounding (a std of about 1e-11), not 0
    expect(raw.data[0]).toBe(Math.log1p(12345));
    const scaler = fitScalerOf(columns, features);
    expect(scaler.scale[0]).toBe(1);
    expect(scaler.mean[1]).toBeCloseTo(rows.reduce((s, r) => s + Math.log1p(r.milk), 0) / rows.length, 12);
    expect(scaler.scale[1]).toBeGreaterThan(0.5);
    expect(fitScaler(raw, features)).toEqual(scaler);
  });

  it('gives every column of a one-row batch scale 1', () => {
    const features = resolveFeatures();
    expect(fitScaler(encodeRaw([TOY[0]!], features), features).scale).toEqual([1, 1, 1, 1, 1]);
  });

  it('repeats a categorical weight for each of its columns', () => {
    const features = resolveFeatures({ weights: { gender: 0.5, spending_score: 3 } });
    expect(fitScaler(encodeRaw(TOY, features), features).weight).toEqual([0.5, 0.5, 1, 1, 3]);
  });
});

describe('applyScaler', () => {
  it('standardises each column: (x − mean) / std', () => {
    const features = resolveFeatures({ features: ['age', 'spending_score'] });
    const raw = encodeRaw(TOY, features);
    const x = applyScaler(raw, fitScaler(raw, features));
    const s = Math.sqrt(200 / 3);
    const rows = rowsOf(x);
    expect(rows.map((r) => r[0])).toEqual([-10 / s, 0, 10 / s]);
    expect(rows.map((r) => r[1])).toEqual([0, 0, 0]);
  });

  it('multiplies by the weight after scaling', () => {
    const plain = resolveFeatures({ features: ['age', 'annual_income_thousands'] });
    const weighted = resolveFeatures({ features: ['age', 'annual_income_thousands'], weights: { age: 2 } });
    const a = rowsOf(applyScaler(encodeRaw(TOY, plain), fitScaler(encodeRaw(TOY, plain), plain)));
    const b = rowsOf(applyScaler(encodeRaw(TOY, weighted), fitScaler(encodeRaw(TOY, weighted), weighted)));
    expect(b.map((r) => r[0])).toEqual(a.map((r) => 2 * r[0]!));
    expect(b.map((r) => r[1])).toEqual(a.map((r) => r[1]));
    // the weight does not enter the scale: standardised then weighted, never weighted then standardised
    expect(fitScaler(encodeRaw(TOY, weighted), weighted).scale).toEqual(fitScaler(encodeRaw(TOY, plain), plain).scale);
  });
});

describe('toOriginalUnits', () => {
  it('maps a centroid in model space back to original units, one-hot columns as shares', () => {
    const features = resolveFeatures({ weights: { age: 2 } });
    const raw = encodeRaw(TOY, features);
    const scaler = fitScaler(raw, features);
    const x = applyScaler(raw, scaler);
    const mean = Array.from({ length: x.cols }, (_, j) => (x.data[j]! + x.data[x.cols + j]! + x.data[2 * x.cols + j]!) / 3);
    const original = toOriginalUnits(mean, scaler);
    [2 / 3, 1 / 3, 30, 20, 50].forEach((v, j) => expect(original[j]).toBeCloseTo(v, 10));
  });

  it('inverts applyScaler for any customers and weights', () => {
    const customerArb = fc.record({
      gender: fc.constantFrom('Male' as const, 'Female' as const),
      age: fc.integer({ min: 0, max: 120 }),
      income: fc.double({ min: 0, max: 1000, noNaN: true }),
      spending: fc.integer({ min: 1, max: 100 }),
    });
    const weight = fc.double({ min: 0.1, max: 10, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(customerArb, { minLength: 1, maxLength: 20 }),
        fc.tuple(weight, weight, weight, weight),
        (rows, [wg, wa, wi, ws]) => {
          const customers = rows.map((r, i) => customer(String(i), r.gender, r.age, r.income, r.spending));
          const features = resolveFeatures({ weights: { gender: wg, age: wa, annual_income_thousands: wi, spending_score: ws } });
          const raw = encodeRaw(customers, features);
          const original = rowsOf({ ...raw, data: raw.data.slice() });
          const scaler = fitScaler(raw, features);
          const x = applyScaler(raw, scaler);
          rowsOf(x).forEach((point, i) => {
            const back = toOriginalUnits(point, scaler);
            back.forEach((v, j) => expect(v).toBeCloseTo(original[i]![j]!, 6));
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('fitScalerOf and encodeScaled', () => {
  /** The matrix's bytes: equal only when every value is the same double (NaN, −0 and all). */
  const bits = (m: Matrix): Buffer => Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  /** The first value of two matrices that is not the same double, or -1 (a deep equal of megabytes is slow). */
  const firstDifference = (a: Matrix, b: Matrix): number => {
    if (a.data.length !== b.data.length) return 0;
    const [x, y] = [bits(a), bits(b)];
    for (let i = 0; i < x.length; i += 8) if (x.compare(y, i, i + 8, i, i + 8) !== 0) return i / 8;
    return -1;
  };
  const numbersBits = (values: readonly number[]): Buffer => Buffer.from(Float64Array.from(values).buffer);
  const featureArb = fc.record({
    features: fc.shuffledSubarray(['gender', 'age', 'annual_income_thousands', 'spending_score'], { minLength: 1 }),
    weight: fc.double({ min: 0.1, max: 10, noNaN: true }),
  });
  const customerArb = fc.record({
    gender: fc.constantFrom('Male' as const, 'Female' as const),
    age: fc.integer({ min: 0, max: 120 }),
    income: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
    spending: fc.integer({ min: 1, max: 100 }),
  });

  it('give what fitScaler and applyScaler give over encodeRaw, bit for bit, for any customers and features', () => {
    fc.assert(
      fc.property(fc.array(customerArb, { maxLength: 30 }), featureArb, (rows, { features: names, weight }) => {
        const customers = rows.map((r, i) => customer(String(i), r.gender, r.age, r.income, r.spending));
        const features = resolveFeatures({ features: names, weights: { [names[0]!]: weight } });
        const raw = encodeRaw(customers, features);
        const scaler = fitScaler(raw, features);
        const fitted = fitScalerOf(customers, features);
        expect(fitted).toEqual(scaler);
        expect(numbersBits(fitted.mean)).toEqual(numbersBits(scaler.mean));
        expect(numbersBits(fitted.scale)).toEqual(numbersBits(scaler.scale));
        const scaled = encodeScaled(customers, features, scaler);
        expect([scaled.rows, scaled.cols]).toEqual([raw.rows, raw.cols]);
        expect(firstDifference(scaled, applyScaler(raw, scaler))).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('agree across the blocks of rows of the columns, with decimal incomes and an unseen category', () => {
    const many = Array.from({ length: 40_000 }, (_, i) =>
      customer(String(i), i % 3 === 0 ? 'Male' : 'Female', i % 121, ((i * 7919) % 1000) + (i % 7) / 10, 1 + (i % 100)),
    );
    const columns = CustomerColumns.from(many);
    expect(columns.blockRows).toBeLessThan(many.length / 2);
    const onlyWomen = [
      { name: 'gender' as const, kind: 'categorical' as const, categories: ['Female'], weight: 2 },
      ...resolveFeatures().slice(1),
    ];
    for (const features of [resolveFeatures({ weights: { annual_income_thousands: 1.5 } }), onlyWomen]) {
      const raw = encodeRaw(many, features);
      expect(firstDifference(encodeRaw(columns, features), raw)).toBe(-1);
      const scaler = fitScaler(raw, features);
      expect(numbersBits(fitScalerOf(columns, features).mean)).toEqual(numbersBits(scaler.mean));
      expect(numbersBits(fitScalerOf(columns, features).scale)).toEqual(numbersBits(scaler.scale));
      expect(firstDifference(encodeScaled(columns, features, scaler), applyScaler(raw, scaler))).toBe(-1);
    }
  });
});
