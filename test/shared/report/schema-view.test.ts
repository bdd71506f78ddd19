// How the report names a schema's features: labels in sentences, units after numbers, and which
// schemas keep the mall's wording.

import { describe, expect, it } from 'vitest';
import { inSentence, isMallSchema, isMallShaped, numericViews, reportSchema } from '../../../shared/report/schema-view.ts';
import { MALL_SCHEMA, parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import { WHOLESALE } from './wholesale-fixture.ts';

describe('schema views', () => {
  it('puts a label in a sentence in lower case, unless it starts with an acronym', () => {
    expect(inSentence('Annual income')).toBe('annual income');
    expect(inSentence('Detergents & paper')).toBe('detergents & paper');
    expect(inSentence('RFM score')).toBe('RFM score');
    expect(inSentence('A')).toBe('a');
  });

  it('titles a numeric feature “Label (unit)” and puts a unit after numbers unless it is a scale', () => {
    expect(numericViews(MALL_SCHEMA).map((f) => [f.title, f.unitSuffix])).toEqual([
      ['Age (years)', ' years'],
      ['Annual income (k$)', ' k$'],
      ['Spending score (1–100)', ''],
    ]);
    const fresh = numericViews(WHOLESALE).find((f) => f.name === 'fresh')!;
    expect(fresh).toMatchObject({ short: 'Fresh', title: 'Fresh (€ per year)', words: 'fresh', unitSuffix: ' € per year', log1p: true });
  });

  it('keeps the mall’s findings for a schema with its numeric features, its table only for exactly its features', () => {
    expect(isMallShaped(MALL_SCHEMA)).toBe(true);
    expect(isMallSchema(MALL_SCHEMA)).toBe(true);
    expect(isMallShaped(WHOLESALE)).toBe(false);
    expect(isMallSchema(WHOLESALE)).toBe(false);
    const more = parseCustomerSchema(
      {
        ...MALL_SCHEMA,
        features: [...MALL_SCHEMA.features, { name: 'visits', header: 'visits', label: 'Visits', kind: 'numeric' }],
      },
      'mall-plus.json',
    );
    expect(isMallShaped(more)).toBe(true);
    expect(isMallSchema(more)).toBe(false);
    const renamed = parseCustomerSchema(
      { ...MALL_SCHEMA, features: MALL_SCHEMA.features.map((f) => ({ ...f, label: `${f.label}!` })) },
      'mall-labels.json',
    );
    expect(isMallSchema(renamed)).toBe(true);
  });

  it('reads customers with their columns’ schema, else the model’s', () => {
    const model = { customerSchema: WHOLESALE } as unknown as Model;
    expect(reportSchema(model, [])).toBe(WHOLESALE);
    expect(reportSchema(model, CustomerColumns.from([], MALL_SCHEMA))).toBe(MALL_SCHEMA);
    expect(reportSchema({} as Model, [])).toBe(MALL_SCHEMA);
  });
});
