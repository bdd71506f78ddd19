// The example schemas the benchmarks use (test/bench/schemas/*.json) stay valid customer schemas:
// each parses, is named after its file, and parses again to itself.

import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';

const SCHEMAS = fileURLToPath(new URL('../../bench/schemas/', import.meta.url));
const files = readdirSync(SCHEMAS)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('example customer schemas', () => {
  it('exist (the wholesale benchmark schema among them)', () => {
    expect(files).toContain('uci-wholesale.json');
  });

  it.each(files)('%s parses, is named after its file, and round-trips', (file) => {
    const json: unknown = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
    const schema = parseCustomerSchema(json, file);
    expect(schema.name).toBe(basename(file, '.json'));
    expect(parseCustomerSchema(JSON.parse(JSON.stringify(schema)), file)).toEqual(schema);
  });
});

describe('uci-wholesale.json', () => {
  const schema = parseCustomerSchema(JSON.parse(readFileSync(join(SCHEMAS, 'uci-wholesale.json'), 'utf8')), 'uci-wholesale.json');

  it('has the UCI file’s columns: two coded categoricals, six log1p spend columns', () => {
    expect(schema.features.map((f) => f.header)).toEqual([
      'Channel',
      'Region',
      'Fresh',
      'Milk',
      'Grocery',
      'Frozen',
      'Detergents_Paper',
      'Delicassen',
    ]);
    expect(schema.features.map((f) => (f.kind === 'categorical' ? f.categories : f.transform))).toEqual([
      ['1', '2'],
      ['1', '2', '3'],
      'log1p',
      'log1p',
      'log1p',
      'log1p',
      'log1p',
      'log1p',
    ]);
    for (const f of schema.features) if (f.kind === 'numeric') expect([f.integer, f.min, f.weight]).toEqual([true, 0, 1]);
  });
});
