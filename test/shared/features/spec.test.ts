// Feature configuration: the default feature set, choosing, excluding and weighting features,
// and the errors a user gets for names that do not exist.

import { describe, expect, it } from 'vitest';
import { columnNames, learnCategories, resolveFeatures } from '../../../shared/features/spec.ts';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';

describe('resolveFeatures', () => {
  it('defaults to the original analysis: gender one-hot with both categories, then the three numerics', () => {
    const features = resolveFeatures();
    expect(features).toEqual([
      { name: 'gender', kind: 'categorical', categories: ['Female', 'Male'], weight: 1 },
      { name: 'age', kind: 'numeric', weight: 1 },
      { name: 'annual_income_thousands', kind: 'numeric', weight: 1 },
      { name: 'spending_score', kind: 'numeric', weight: 1 },
    ]);
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

describe('features of another schema', () => {
  const schema = parseCustomerSchema(
    {
      name: 'shop',
      id: { header: 'id' },
      features: [
        { name: 'channel', header: 'Channel', label: 'Channel', kind: 'categorical', categories: 'learned' },
        { name: 'fresh', header: 'Fresh', label: 'Fresh', kind: 'numeric', transform: 'log1p', min: 0, weight: 2 },
      ],
    },
    'shop.json',
  );

  it("takes the schema's weights and transforms, and leaves learned categories to training", () => {
    expect(resolveFeatures({}, schema)).toEqual([
      { name: 'channel', kind: 'categorical', weight: 1 },
      { name: 'fresh', kind: 'numeric', transform: 'log1p', weight: 2 },
    ]);
    expect(resolveFeatures({ weights: { fresh: 0.5 } }, schema)[1]!.weight).toBe(0.5);
    expect(() => resolveFeatures({ exclude: ['gender'] }, schema)).toThrow(
      /unknown feature "gender" in --exclude; features are channel, fresh/,
    );
  });

  it('learns the values the training customers have, sorted', () => {
    const customers = [
      { customerId: '1', channel: 'retail', fresh: 3 },
      { customerId: '2', channel: 'Horeca', fresh: 0 },
      { customerId: '3', channel: 'RETAIL', fresh: 10 },
    ];
    const [channel] = learnCategories(resolveFeatures({}, schema), CustomerColumns.from(customers, schema));
    expect(channel).toEqual({ name: 'channel', kind: 'categorical', categories: ['Horeca', 'retail'], weight: 1 });
  });
});
