// Feature configuration: the default feature set, choosing, excluding and weighting features,
// and the errors a user gets for names that do not exist.

import { describe, expect, it } from 'vitest';
import { columnNames, DEFAULT_FEATURES, featureValue, resolveFeatures } from '../../../shared/features/spec.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';

describe('resolveFeatures', () => {
  it('defaults to the original analysis: gender one-hot with both categories, then the three numerics', () => {
    const features = resolveFeatures();
    expect(features).toEqual(DEFAULT_FEATURES);
    expect(columnNames(features)).toEqual(['gender=Female', 'gender=Male', 'age', 'annual_income_thousands', 'spending_score']);
  });

  it('drops excluded features', () => {
    expect(columnNames(resolveFeatures({ exclude: ['gender'] }))).toEqual(['age', 'annual_income_thousands', 'spending_score']);
  });

  it('uses the chosen features in the order given', () => {
    expect(resolveFeatures({ features: ['spending_score', 'annual_income_thousands'] }).map((f) => f.name)).toEqual([
      'spending_score',
      'annual_income_thousands',
    ]);
  });

  it('records per-feature weights and leaves the others at 1', () => {
    const features = resolveFeatures({ weights: { gender: 0.5, age: 2 } });
    expect(Object.fromEntries(features.map((f) => [f.name, f.weight]))).toEqual({
      gender: 0.5,
      age: 2,
      annual_income_thousands: 1,
      spending_score: 1,
    });
  });

  it('refuses an unknown feature in --features, --exclude or --weight, listing the known ones', () => {
    expect(() => resolveFeatures({ features: ['age', 'height'] })).toThrow(InvalidOptionError);
    expect(() => resolveFeatures({ features: ['height'] })).toThrow(/unknown feature "height" in --features; features are gender, age/);
    expect(() => resolveFeatures({ exclude: ['income'] })).toThrow(/unknown feature "income" in --exclude/);
    expect(() => resolveFeatures({ weights: { Age: 2 } })).toThrow(/unknown feature "Age" in --weight/);
  });

  it('refuses a weight that is not a positive number', () => {
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveFeatures({ weights: { age: weight } })).toThrow(InvalidOptionError);
    }
    expect(() => resolveFeatures({ weights: { age: 0 } })).toThrow(/weight for age must be a positive number/);
  });

  it('refuses to exclude every feature', () => {
    expect(() => resolveFeatures({ features: ['age'], exclude: ['age'] })).toThrow(/no features left/);
  });
});

describe('featureValue', () => {
  it('reads each feature of a customer', () => {
    const customer = { customerId: 'c', gender: 'Male', age: 30, annualIncomeThousands: 55.5, spendingScore: 70 } as const;
    expect(['gender', 'age', 'annual_income_thousands', 'spending_score'].map((n) => featureValue(customer, n as never))).toEqual([
      'Male',
      30,
      55.5,
      70,
    ]);
  });
});
