// The customer schema as a value: every rejected form is one line naming its field, the mall
// default agrees with today's CSV contract and feature spec, and a parsed schema round-trips.

import { describe, expect, it } from 'vitest';
import { GENDERS, NUMERIC_FIELDS, resolveHeader, validateRow } from '../../../shared/csv/contract.ts';
import { SchemaError, InvalidOptionError } from '../../../shared/errors.ts';
import { resolveFeatures } from '../../../shared/features/spec.ts';
import { MALL_SCHEMA, parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';

/** A wholesale business with an RFM-style file: codes, a learned channel, skewed money columns. */
const WHOLESALE = {
  version: 1,
  name: 'wholesale',
  id: { header: 'client_id', aliases: ['Client'] },
  features: [
    {
      name: 'region',
      header: 'Region',
      label: 'Region',
      kind: 'categorical',
      categories: ['Lisbon', 'Oporto', 'Other'],
      missing: { fill: 'Other' },
    },
    { name: 'channel', header: 'Channel', label: 'Channel', kind: 'categorical', categories: 'learned' },
    { name: 'recency_days', header: 'recency_days', label: 'Days since last order', kind: 'numeric', integer: true, min: 0 },
    { name: 'frequency', header: 'orders_12m', label: 'Orders (12 months)', kind: 'numeric', integer: true, min: 0, missing: { fill: 0 } },
    {
      name: 'monetary',
      header: 'spend_12m',
      aliases: ['Monetary'],
      label: 'Spend (12 months)',
      kind: 'numeric',
      transform: 'log1p',
      min: 0,
      weight: 2,
    },
    { name: 'fresh', header: 'Fresh', label: 'Fresh', kind: 'numeric', transform: 'log1p', weight: 0.5 },
  ],
};

const clone = (): typeof WHOLESALE & Record<string, unknown> => structuredClone(WHOLESALE) as typeof WHOLESALE & Record<string, unknown>;

/** The message parseCustomerSchema throws for a value (and that it is a one-line SchemaError). */
function errorOf(json: unknown): string {
  try {
    parseCustomerSchema(json, 'schema.json');
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    expect(error).toBeInstanceOf(InvalidOptionError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('no error thrown');
}

/** The wholesale schema with one feature's fields changed. */
function withFeature(index: number, change: Record<string, unknown>): unknown {
  const schema = clone();
  schema.features[index] = { ...schema.features[index]!, ...change } as (typeof WHOLESALE.features)[number];
  return schema;
}

describe('parseCustomerSchema rejects, in one line naming the field', () => {
  it('a column named twice, across id and features, aliases included, case-insensitively', () => {
    expect(errorOf(withFeature(1, { header: ' region ' }))).toBe(
      'schema.json: features[1].header: column "region" is already named by features[0].header',
    );
    expect(errorOf(withFeature(4, { aliases: ['CLIENT'] }))).toBe(
      'schema.json: features[4].aliases[0]: column "CLIENT" is already named by id.aliases[0]',
    );
    expect(errorOf(withFeature(5, { aliases: ['Fresh'] }))).toBe(
      'schema.json: features[5].aliases[0]: column "Fresh" is already named by features[5].header',
    );
  });

  it('an empty categorical list', () => {
    expect(errorOf(withFeature(0, { categories: [], missing: 'reject' }))).toBe(
      'schema.json: features[0].categories: must list at least one value (or be "learned")',
    );
  });

  it('a category listed twice', () => {
    expect(errorOf(withFeature(0, { categories: ['Lisbon', 'lisbon '] }))).toBe(
      'schema.json: features[0].categories[1]: "lisbon" is already listed as "Lisbon"',
    );
  });

  it('an identifier that is not a plain name, a reserved one, or one used twice', () => {
    for (const name of ['Monetary', 'spend 12m', '1st', 'a"; drop table customers; --', 'x'.repeat(64), '']) {
      expect(errorOf(withFeature(4, { name }))).toBe(
        'schema.json: features[4].name: must be a plain name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters',
      );
    }
    expect(errorOf(withFeature(4, { name: 'segment' }))).toBe(
      'schema.json: features[4].name: "segment" is a column the product keeps for itself',
    );
    for (const name of ['sq_distance', 'planted']) {
      expect(errorOf(withFeature(4, { name }))).toBe(`schema.json: features[4].name: "${name}" is a column the product keeps for itself`);
    }
    expect(errorOf(withFeature(4, { name: 'order' }))).toBe(
      'schema.json: features[4].name: "order" is a reserved word of SQL: choose another name',
    );
    expect(errorOf(withFeature(4, { formerly: 'select' }))).toBe(
      'schema.json: features[4].formerly: "select" is a reserved word of SQL: choose another name',
    );
    expect(errorOf(withFeature(4, { name: 'fresh' }))).toBe('schema.json: features[5].name: "fresh" is already the name of features[4]');
  });

  it('a weight ≤ 0', () => {
    for (const weight of [0, -1])
      expect(errorOf(withFeature(2, { weight }))).toBe('schema.json: features[2].weight: must be greater than 0');
  });

  it('bounds with min > max, and bounds that are not whole on an integer feature', () => {
    expect(errorOf(withFeature(2, { min: 10, max: 5 }))).toBe('schema.json: features[2].min: 10 is greater than max 5');
    expect(errorOf(withFeature(2, { min: 0.5 }))).toBe('schema.json: features[2].min: must be a whole number (the feature is integer)');
  });

  it('a fill value of the wrong type, outside the bounds or outside the categories', () => {
    expect(errorOf(withFeature(3, { missing: { fill: 'none' } }))).toBe(
      'schema.json: features[3].missing.fill: must be a number (the feature is numeric), got "none"',
    );
    expect(errorOf(withFeature(3, { missing: { fill: -1 } }))).toBe('schema.json: features[3].missing.fill: -1 is below min 0');
    expect(errorOf(withFeature(3, { max: 50, missing: { fill: 51 } }))).toBe('schema.json: features[3].missing.fill: 51 is above max 50');
    expect(errorOf(withFeature(3, { missing: { fill: 1.5 } }))).toBe(
      'schema.json: features[3].missing.fill: 1.5 is not a whole number (the feature is integer)',
    );
    expect(errorOf(withFeature(0, { missing: { fill: 3 } }))).toBe(
      'schema.json: features[0].missing.fill: must be a text value (the feature is categorical), got 3',
    );
    expect(errorOf(withFeature(0, { missing: { fill: 'Faro' } }))).toBe(
      'schema.json: features[0].missing.fill: "Faro" is not one of the categories',
    );
    expect(errorOf(withFeature(5, { missing: { fill: -2 } }))).toBe(
      'schema.json: features[5].missing.fill: -2 is negative, but log1p needs values ≥ 0',
    );
  });

  it('log1p with a negative min bound', () => {
    expect(errorOf(withFeature(4, { min: -1 }))).toBe('schema.json: features[4].min: -1 is negative, but log1p needs values ≥ 0');
  });

  it('value aliases that name no category or clash with one', () => {
    expect(errorOf(withFeature(0, { valueAliases: { L: 'Lisboa' } }))).toBe(
      'schema.json: features[0].valueAliases.L: "Lisboa" is not one of the categories',
    );
    expect(errorOf(withFeature(0, { valueAliases: { other: 'Lisbon' } }))).toBe(
      'schema.json: features[0].valueAliases.other: "other" already stands for "Other"',
    );
  });

  it("a learned feature: an alias that is another alias's value, a fill that could not be a value; more than 255 listed values", () => {
    const learned = { categories: 'learned' };
    expect(errorOf(withFeature(0, { ...learned, valueAliases: { x: 'b', b: 'c' } }))).toBe(
      'schema.json: features[0].valueAliases.b: "b" is a value another alias stands for; it cannot be an alias too',
    );
    expect(errorOf(withFeature(0, { ...learned, missing: { fill: 'z'.repeat(201) } }))).toBe(
      'schema.json: features[0].missing.fill: must be at most 200 characters',
    );
    expect(errorOf(withFeature(0, { ...learned, missing: { fill: '  ' } }))).toBe(
      'schema.json: features[0].missing.fill: must not be empty',
    );
    const many = Array.from({ length: 256 }, (_, i) => `c${i}`);
    expect(errorOf(withFeature(0, { categories: many }))).toBe(
      'schema.json: features[0].categories: lists 256 values; a categorical feature has at most 255',
    );
    const at255 = withFeature(0, { categories: many.slice(0, 255), missing: 'reject', valueAliases: {}, words: {} });
    expect(() => parseCustomerSchema(at255, 'schema.json')).not.toThrow();
  });

  it('shapes zod catches: unknown keys, a wrong kind, a missing label, log1p on a categorical, not an object', () => {
    expect(errorOf({ ...clone(), colour: 'red' })).toBe('schema.json: (top level): Unrecognized key: "colour"');
    expect(errorOf(withFeature(2, { kind: 'text' }))).toMatch(/^schema\.json: features\[2\]\.kind: /);
    const unlabeled = clone();
    delete (unlabeled.features[2] as { label?: string }).label;
    expect(errorOf(unlabeled)).toMatch(/^schema\.json: features\[2\]\.label: /);
    expect(errorOf(withFeature(0, { transform: 'log1p' }))).toBe('schema.json: features[0]: Unrecognized key: "transform"');
    expect(errorOf({ ...clone(), features: [] })).toBe('schema.json: features: must list at least one feature');
    expect(errorOf([])).toMatch(/^schema\.json: \(top level\): /);
    expect(errorOf(withFeature(2, { label: 'two\nlines' }))).toBe(
      'schema.json: features[2].label: must be one line without control characters',
    );
  });
});

describe('valid schemas', () => {
  it('the wholesale example parses with defaults filled in', () => {
    const schema = parseCustomerSchema(WHOLESALE, 'wholesale.json');
    expect(schema.features.map((f) => [f.name, f.kind, f.weight])).toEqual([
      ['region', 'categorical', 1],
      ['channel', 'categorical', 1],
      ['recency_days', 'numeric', 1],
      ['frequency', 'numeric', 1],
      ['monetary', 'numeric', 2],
      ['fresh', 'numeric', 0.5],
    ]);
    expect(schema.features[1]).toMatchObject({ categories: 'learned', missing: 'reject', aliases: [], valueAliases: {} });
    expect(schema.features[4]).toMatchObject({ transform: 'log1p', integer: false, missing: 'reject' });
    expect(schema.features[3]).toMatchObject({ missing: { fill: 0 } });
  });

  it('round-trips: parsing its own JSON gives the same schema', () => {
    for (const schema of [MALL_SCHEMA, parseCustomerSchema(WHOLESALE, 'wholesale.json')] as CustomerSchema[]) {
      expect(parseCustomerSchema(JSON.parse(JSON.stringify(schema)), 'again.json')).toEqual(schema);
    }
  });
});

describe('MALL_SCHEMA agrees with the CSV contract and the feature spec', () => {
  const headerOf = (field: string): string =>
    field === 'customer_id' ? MALL_SCHEMA.id.header : MALL_SCHEMA.features.find((f) => f.name === field)!.header;
  const fields = ['customer_id', ...MALL_SCHEMA.features.map((f) => f.name)];
  const accepted = (field: string): string[] => {
    const column = field === 'customer_id' ? MALL_SCHEMA.id : MALL_SCHEMA.features.find((f) => f.name === field)!;
    return [column.header, ...column.aliases];
  };

  it('gives the features models have always recorded, in order, with their kinds, categories and weights', () => {
    expect(resolveFeatures()).toEqual([
      { name: 'gender', kind: 'categorical', categories: ['Female', 'Male'], weight: 1 },
      { name: 'age', kind: 'numeric', weight: 1 },
      { name: 'annual_income_thousands', kind: 'numeric', weight: 1 },
      { name: 'spending_score', kind: 'numeric', weight: 1 },
    ]);
    expect(MALL_SCHEMA.features.filter((f) => f.kind === 'numeric').map((f) => f.name)).toEqual([...NUMERIC_FIELDS]);
    const gender = MALL_SCHEMA.features[0]!;
    expect(gender.kind === 'categorical' && gender.categories).toEqual([...GENDERS]);
  });

  it('accepts exactly the headers resolveHeader accepts, for every field', () => {
    for (const field of fields) {
      // the contract lists a missing field's accepted headers: the schema's must be the same list
      const others = fields.filter((f) => f !== field).map(headerOf);
      expect(() => resolveHeader(others)).toThrow(`missing required column: ${field} (accepted headers: ${accepted(field).join(', ')})`);
      for (const alias of accepted(field)) {
        const columns = fields.map((f) => (f === field ? ` ${alias.toUpperCase()} ` : headerOf(f)));
        expect(resolveHeader(columns).index[field as keyof ReturnType<typeof resolveHeader>['index']]).toBe(fields.indexOf(field));
      }
    }
  });

  it('has the bounds, integer rules and gender spellings checkRow enforces', () => {
    const byName = Object.fromEntries(MALL_SCHEMA.features.map((f) => [f.name, f]));
    expect(byName.age).toMatchObject({ integer: true, min: 0, max: 120, missing: 'reject' });
    expect(byName.spending_score).toMatchObject({ integer: true, min: 1, max: 100, missing: 'reject' });
    expect(byName.annual_income_thousands).toMatchObject({ integer: false, min: 0, missing: 'reject' });
    expect(byName.annual_income_thousands).not.toHaveProperty('max');
    expect(byName.gender).toMatchObject({ valueAliases: { F: 'Female', M: 'Male' }, missing: 'reject' });

    const header = resolveHeader(fields.map(headerOf));
    const row = (values: Record<string, string>): string | null => {
      const result = validateRow(
        fields.map(
          (f) => values[f] ?? { customer_id: 'c1', gender: 'Female', age: '30', annual_income_thousands: '50', spending_score: '50' }[f]!,
        ),
        header,
      );
      return result.ok ? null : result.reason;
    };
    // each numeric bound: the bound itself accepted, one step past it rejected
    for (const f of MALL_SCHEMA.features) {
      if (f.kind !== 'numeric') continue;
      const step = f.integer ? 1 : 0.5;
      if (f.min !== undefined) {
        expect(row({ [f.name]: String(f.min) })).toBeNull();
        expect(row({ [f.name]: String(f.min - step) })).not.toBeNull();
      }
      if (f.max !== undefined) {
        expect(row({ [f.name]: String(f.max) })).toBeNull();
        expect(row({ [f.name]: String(f.max + step) })).not.toBeNull();
      }
      expect(row({ [f.name]: '40.5' }) === null).toBe(!f.integer);
      expect(row({ [f.name]: '' })).toBe(`${f.name} is empty`);
    }
    for (const [alias, value] of Object.entries(byName.gender!.kind === 'categorical' ? byName.gender!.valueAliases : {})) {
      const result = validateRow(['c1', alias.toLowerCase(), '30', '50', '50'], header);
      expect(result.ok && result.customer.gender).toBe(value);
    }
    expect(row({ gender: 'Other' })).not.toBeNull();
  });
});
