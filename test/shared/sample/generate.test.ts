// The synthetic customer generator: the mall's output pinned byte for byte (the hashes were taken
// from the generator before it served any schema), and generated files of other schemas.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kmeans } from 'ml-kmeans';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { GENDERS } from '../../../shared/csv/contract.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';
import {
  generateCsv,
  generateCustomers,
  generateSchemaCustomers,
  plantedSegmentsFor,
  PLANTED_SEGMENTS,
  type GenerateOptions,
  type PlantedSegment,
} from '../../../shared/sample/generate.ts';
import { MALL_SCHEMA, parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { adjustedRandIndex } from '../support/ari.ts';

const WHOLESALE = join(import.meta.dirname, '../../../shared/schema/examples/wholesale.json');

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('generateCsv for the mall', () => {
  // Computed with the mall-only generator of commit ec5891f; the 10⁶-row file of seed 1 hashes to
  // 215ac0de5b831d9d701d57f181c4bffd5fcbeb2a450a435d67fdb6a2dfb89add (checked by hand, too slow for a test).
  const pins: [GenerateOptions, string][] = [
    [{ rows: 0 }, '081e2d034b799ccacb25cfd2ce1197fc6e3d5cca4b5fd9bdaf8de5153597fb60'],
    [{ rows: 1, seed: 0 }, '5b5b8405f4c25b78066280bba047bbce13b86f85cde7649693e7863f4b697ce3'],
    [{ rows: 1000, seed: 1 }, 'e11085030d72ce5e874d89539a96732b53cac1224fe25e9b919467588d7f42c0'],
    [{ rows: 12_345, seed: 7, firstId: 100_000 }, '3490eb22b01f3c0faae1a1e3fb8405239a050ed65ce0f85977c04dd91a358378'],
    [{ rows: 3000, seed: 42, firstId: 5, ageShift: 15 }, 'a85ca58864972888e54bb6cbbb2cc26cb5becc0ecff06c1d603fa3250c297888'],
    [{ rows: 2000, seed: 3, ageShift: -30 }, 'e14f3a7682e8048e0ae6f8ec7f9f7c2bdad7ef5448e76205a824ec5825218164'],
    [{ rows: 100_000, seed: 1 }, '73d5063a0035a0165977cfa1b7225b91e2c177736d4c49d51fcea3105e7309f7'],
    [{ rows: 3000, seed: 32, segments: PLANTED_SEGMENTS.slice(0, 4) }, '4f7a4f75d2e823313be2d511ac545aaa13195cc80e26b5f7de81ff11337a2d87'],
  ];

  it.each(pins)('writes the same bytes as before for option set %#', (options, hash) => {
    expect(sha256([...generateCsv(options)].join(''))).toBe(hash);
  });

  it('yields the same customers as before, under the schema’s feature names', () => {
    // before issue 15 the keys were camelCase (annualIncomeThousands, spendingScore): the first
    // hash is of the JSON the mall-only generator gave, the second of the same under the new names
    const pin = '5ae004c4ebec5ff959a581081990aaabcff27fe2ec1fe79b8c8e7d20834657f3';
    const customers = [...generateCustomers({ rows: 2000, seed: 9, ageShift: 4 })];
    const camel = customers.map((c) => ({
      customerId: c.customerId,
      gender: c.gender,
      age: c.age,
      annualIncomeThousands: c.annual_income_thousands,
      spendingScore: c.spending_score,
      planted: c.planted,
    }));
    expect(sha256(JSON.stringify(camel))).toBe('3e270b83c968469b1e5df35ae7e0247ae20ac99a27275317cb23127bc07bb6ff');
    expect(sha256(JSON.stringify(customers))).toBe(pin);
    expect(sha256(JSON.stringify([...generateSchemaCustomers(MALL_SCHEMA, { rows: 2000, seed: 9, ageShift: 4 })]))).toBe(pin);
  });
});

const wholesale = parseCustomerSchema(JSON.parse(readFileSync(WHOLESALE, 'utf8')), 'wholesale.json');

/** Every problem of a generated file against its schema, with a second CSV parser reading it. */
function problems(text: string, schema: CustomerSchema): string[] {
  const { data, meta } = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  const found: string[] = [];
  if (meta.fields?.join('|') !== [schema.id.header, ...schema.features.map((f) => f.header)].join('|')) found.push(`header ${meta.fields}`);
  data.forEach((row, i) => {
    if (!/^\d{7}$/.test(row[schema.id.header]!)) found.push(`row ${i}: id ${row[schema.id.header]}`);
    for (const f of schema.features) {
      const text = row[f.header]!;
      if (f.kind === 'categorical') {
        if (f.categories !== 'learned' && !f.categories.includes(text)) found.push(`row ${i}: ${f.name} "${text}"`);
        continue;
      }
      const v = Number(text);
      const ok =
        /^-?\d+(\.\d{1,2})?$/.test(text) &&
        (!f.integer || /^-?\d+$/.test(text)) &&
        (f.min === undefined || v >= f.min) &&
        (f.max === undefined || v <= f.max) &&
        (f.transform !== 'log1p' || v >= 0);
      if (!ok) found.push(`row ${i}: ${f.name} "${text}"`);
    }
  });
  return found;
}

describe('the wholesale example schema', () => {
  it('parses, with nine features, labels for names and a fill value', () => {
    expect(wholesale.features).toHaveLength(9);
    expect(wholesale.id).toEqual({ header: 'client_code', aliases: ['customer_id'] });
    expect(wholesale.features.map((f) => f.label)).toContain('Fresh');
    expect(wholesale.features.some((f) => f.missing !== 'reject')).toBe(true);
    expect(wholesale.features.filter((f) => f.kind === 'numeric' && f.transform === 'log1p')).toHaveLength(6);
  });

  it('generates 5,000 rows that all pass its bounds, integer rules, cents and categories', () => {
    const text = [...generateCsv({ rows: 5000, seed: 3, schema: wholesale })].join('');
    expect(text.split('\n')[0]).toBe('client_code,Channel,Region,Recency_Days,Orders_Per_Year,Fresh,Milk,Grocery,Frozen,Detergents_Paper');
    expect(text.trimEnd().split('\n')).toHaveLength(5001);
    expect(problems(text, wholesale)).toEqual([]);
    // money columns are not all whole: cents are written
    expect(text).toMatch(/,\d+\.\d{1,2}\n/);
    // the file holds the values of the customers generateSchemaCustomers gives for the same seed
    const rows = Papa.parse<string[]>(text, { skipEmptyLines: true }).data.slice(1);
    const customers = [...generateSchemaCustomers(wholesale, { rows: 5000, seed: 3 })];
    expect(rows).toEqual(customers.map((c) => [c.customerId, ...wholesale.features.map((f) => String(c[f.name]))]));
  });
});

describe('segments derived from a schema', () => {
  it('are 4 to 6, the same whatever the seed, and differ between schemas', () => {
    const segments = plantedSegmentsFor(wholesale);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    expect(segments.length).toBeLessThanOrEqual(6);
    expect(plantedSegmentsFor(parseCustomerSchema(JSON.parse(readFileSync(WHOLESALE, 'utf8')), 'again'))).toEqual(segments);
    const other = { ...wholesale, features: wholesale.features.slice(0, 8) };
    expect(plantedSegmentsFor(other)).not.toEqual(segments);
    // money columns log-normal with medians apart; categories with varying shares
    const fresh = segments.map((s) => (s.features.fresh as { logNormal: [number, number] }).logNormal[0]);
    expect(Math.max(...fresh) / Math.min(...fresh)).toBeGreaterThan(10);
    const retail = segments.map((s) => (s.features.channel as { shares: Record<string, number> }).shares.retail!);
    expect(Math.max(...retail) - Math.min(...retail)).toBeGreaterThan(0.3);
  });

  it('give the same rows for the same seed and other rows of the same population for another', () => {
    const a = [...generateSchemaCustomers(wholesale, { rows: 300, seed: 5 })];
    expect([...generateSchemaCustomers(wholesale, { rows: 300, seed: 5 })]).toEqual(a);
    const b = [...generateSchemaCustomers(wholesale, { rows: 300, seed: 6 })];
    expect(b).not.toEqual(a);
    expect(a[0]).toMatchObject({ customerId: '0000001', channel: expect.stringMatching(/^(horeca|retail)$/) });
    expect(Object.keys(a[0]!)).toEqual(['customerId', ...wholesale.features.map((f) => f.name), 'planted']);
  });

  it('are found again by k-means on log1p, one-hot, standardised values', () => {
    const k = plantedSegmentsFor(wholesale).length;
    const customers = [...generateSchemaCustomers(wholesale, { rows: 5000, seed: 11 })];
    const columns: number[][] = [];
    for (const f of wholesale.features) {
      if (f.kind === 'categorical') {
        for (const c of f.categories as string[]) columns.push(customers.map((x) => (x[f.name] === c ? 1 : 0)));
      } else columns.push(customers.map((x) => (f.transform === 'log1p' ? Math.log1p(x[f.name] as number) : (x[f.name] as number))));
    }
    const scaled = columns.map((col) => {
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length) || 1;
      return col.map((v) => (v - mean) / sd);
    });
    const rows = customers.map((_, i) => scaled.map((col) => col[i]!));
    // the best of 5 k-means++ starts, as training keeps the best of its restarts
    const inertia = (fit: { clusters: number[]; centroids: number[][] }): number =>
      rows.reduce((sum, row, i) => sum + row.reduce((s, v, j) => s + (v - fit.centroids[fit.clusters[i]!]![j]!) ** 2, 0), 0);
    const fits = [1, 2, 3, 4, 5].map((seed) => kmeans(rows, k, { seed, initialization: 'kmeans++' }));
    const best = fits.reduce((a, b) => (inertia(b) < inertia(a) ? b : a));
    expect(
      adjustedRandIndex(
        best.clusters,
        customers.map((c) => c.planted),
      ),
    ).toBeGreaterThan(0.9);
  });
});

describe('generateSchemaCustomers and generateCsv for any schema', () => {
  it('gives, for the mall, customers of the fixed shape generateCustomers is typed with', () => {
    // generateCustomers is this generator with MALL_SCHEMA under a type: the keys and value types it claims
    const customers = [...generateCustomers({ rows: 500, seed: 4, ageShift: 3 })];
    for (const c of customers) {
      expect(Object.keys(c)).toEqual(['customerId', 'gender', 'age', 'annual_income_thousands', 'spending_score', 'planted']);
      expect(GENDERS).toContain(c.gender);
      for (const v of [c.age, c.annual_income_thousands, c.spending_score, c.planted]) expect(Number.isInteger(v)).toBe(true);
    }
  });

  it('shifts a numeric feature (drift) before rounding and clamping', () => {
    const base = [...generateSchemaCustomers(wholesale, { rows: 200, seed: 2 })];
    const shifted = [...generateSchemaCustomers(wholesale, { rows: 200, seed: 2, shift: { recency_days: 30 } })];
    shifted.forEach((c, i) => expect(c.recency_days).toBe(Math.min(730, (base[i]!.recency_days as number) + 30)));
    expect(shifted.map((c) => c.fresh)).toEqual(base.map((c) => c.fresh));
    expect(() => generateCsv({ rows: 1, schema: wholesale, ageShift: 5 }).next()).toThrow(
      new InvalidOptionError('the schema has no numeric feature "age" to shift'),
    );
  });

  it('draws given segments, quotes headers and categories a CSV would split, and learns categories from the draws', () => {
    const schema = parseCustomerSchema(
      {
        name: 'tiny',
        id: { header: 'id' },
        features: [
          { name: 'plan', header: 'Plan, tier', label: 'Plan', kind: 'categorical', categories: 'learned' },
          { name: 'seats', header: 'Seats', label: 'Seats', kind: 'numeric', integer: true, min: 1, max: 50 },
        ],
      },
      'tiny',
    );
    const segments: PlantedSegment[] = [
      { name: 'small', weight: 1, features: { plan: { shares: { 'Basic, monthly': 1 } }, seats: { normal: [2, 1] } } },
      { name: 'big', weight: 1, features: { plan: { shares: { 'Pro "annual"': 1 } }, seats: { normal: [45, 10] } } },
    ];
    const text = [...generateCsv({ rows: 400, seed: 1, schema, segments })].join('');
    expect(text.startsWith('id,"Plan, tier",Seats\n')).toBe(true);
    const rows = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true }).data;
    expect(new Set(rows.map((r) => r['Plan, tier']))).toEqual(new Set(['Basic, monthly', 'Pro "annual"']));
    expect(rows.every((r) => Number(r.Seats) >= 1 && Number(r.Seats) <= 50 && /^\d+$/.test(r.Seats!))).toBe(true);
    expect(rows.some((r) => r.Seats === '50')).toBe(true); // clamped to the schema's max
  });

  it('refuses segments that do not fit the schema, naming the segment and feature', () => {
    const draw = (features: PlantedSegment['features']) => () =>
      generateSchemaCustomers(MALL_SCHEMA, { rows: 1, segments: [{ name: 'x', weight: 1, features }] }).next();
    const mall = PLANTED_SEGMENTS[0]!.features;
    expect(draw({ ...mall, gender: { shares: { Other: 1 } } })).toThrow(
      'planted segment "x": gender: "Other" is not one of the categories',
    );
    expect(draw({ ...mall, age: { shares: { Female: 1 } } })).toThrow('planted segment "x": age: needs { normal } or { logNormal }');
    expect(draw({ ...mall, spending_score: { normal: [50, 5], round: false } })).toThrow('its values must be rounded');
    expect(draw({ ...mall, height: { normal: [170, 5] } })).toThrow('planted segment "x": the schema has no feature "height"');
    const learned = {
      ...MALL_SCHEMA,
      features: MALL_SCHEMA.features.map((f) => (f.kind === 'categorical' ? { ...f, categories: 'learned' as const } : f)),
    };
    const { gender: _gender, ...noGender } = mall;
    expect(() => generateCsv({ rows: 1, schema: learned, segments: [{ name: 'y', weight: 1, features: noGender }] })).toThrow(
      'planted segment "y": gender: needs { shares }',
    );
    const { age: _age, ...noAge } = mall;
    expect(draw(noAge)).toThrow('planted segment "x": age: needs { normal } or { logNormal }');
  });
});
