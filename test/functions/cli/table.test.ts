// The segment table the CLI prints after training and assignment: the mall's columns for the
// mall's schema, and for any other schema each feature's mean or most common value, kept within
// 100 columns (names cut, then the features in a second table by id).

import { describe, expect, it } from 'vitest';
import { segmentTable, TABLE_WIDTH } from '../../../functions/cli/table.ts';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { profileSegments } from '../../../shared/profile/profile.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { WHOLESALE, wholesaleColumns } from '../../shared/report/wholesale-fixture.ts';
import { smallModel } from '../../shared/support/model-fixtures.ts';

/** The parts of a model the table reads: profiles of the customers by the labels, named. */
function modelOf(schema: CustomerSchema, customers: CustomerColumns, labels: Int32Array, k: number, names: readonly string[]): Model {
  const profiles = profileSegments(customers, labels, new Float64Array(labels.length), k);
  return { k, customerSchema: schema, segments: profiles.map((p, c) => ({ ...p, name: names[c]! })) } as unknown as Model;
}

const lines = (text: string): string[] => text.split('\n');

describe('segmentTable', () => {
  it('keeps the mall’s columns and numbers for the mall’s schema', () => {
    const { model } = smallModel();
    const text = segmentTable(model, { [model.segments[0]!.id]: 7 });
    expect(lines(text)[0]).toMatch(/^id {2}segment +customers {2}share {2}women {2}age {2}income k\$ {2}spending {2}labeled now$/);
    const s = model.segments[0]!;
    const cells = lines(text)[2]!.split(/ {2,}/);
    expect(cells).toEqual([
      String(s.id),
      s.name,
      String(s.size),
      `${(s.share * 100).toFixed(0)} %`,
      `${((s.categories.gender!.Female ?? 0) * 100).toFixed(0)} %`,
      s.stats.age!.mean.toFixed(0),
      s.stats.annual_income_thousands!.mean.toFixed(0),
      s.stats.spending_score!.mean.toFixed(0),
      '7',
    ]);
  });

  it('shows another schema’s features under their labels: means, and the most common value with its share', () => {
    const shop = parseCustomerSchema(
      {
        name: 'shop',
        id: { header: 'id' },
        features: [
          { name: 'visits', header: 'visits', label: 'Visits', kind: 'numeric' },
          { name: 'spend', header: 'spend', label: 'Spend', kind: 'numeric', transform: 'log1p', min: 0 },
          { name: 'channel', header: 'channel', label: 'Channel', kind: 'categorical', categories: ['web', 'store'] },
        ],
      },
      'shop.json',
    );
    const customers = CustomerColumns.from(
      [
        [1, 1200.5, 'web'],
        [3, 1800, 'web'],
        [12, 90, 'store'],
        [14, 110, 'web'],
        [10, 100, 'store'],
      ].map(([visits, spend, channel], i) => ({ customerId: String(i), visits: visits!, spend: spend!, channel: channel! })),
      shop,
    );
    const model = modelOf(shop, customers, Int32Array.from([0, 0, 1, 1, 1]), 2, ['High spend · web', 'Low spend']);
    expect(lines(segmentTable(model))).toEqual([
      'id  segment           customers  share  visits  spend  channel',
      '--  ----------------  ---------  -----  ------  -----  ----------',
      '0   High spend · web  2          40 %   2.0     1,500  web 100 %',
      '1   Low spend         3          60 %   12      100    store 67 %',
    ]);
    expect(lines(segmentTable(model, { 0: 4, 1: 0 }))[0]).toBe(
      'id  segment           customers  share  visits  spend  channel     labeled now',
    );
  });

  it('keeps nine features within 100 columns: names cut, the features in a second table by id', async () => {
    const customers = await wholesaleColumns(600, 5);
    const labels = Int32Array.from({ length: customers.length }, (_, i) => i % 6);
    const long = (c: number) => `Segment ${c} · high recency · low orders · high fresh · low milk · high grocery · retail · lisbon`;
    const model = modelOf(WHOLESALE, customers, labels, 6, [0, 1, 2, 3, 4, 5].map(long));
    const text = segmentTable(model, { 0: 1 });
    for (const line of lines(text)) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
    const [names, features] = text.split('\n\n') as [string, string];
    expect(lines(names)[0]).toMatch(/^id {2}segment +customers {2}share {2}labeled now$/);
    for (const [c, row] of lines(names).slice(2).entries()) {
      expect(row.startsWith(`${c}   ${long(c).slice(0, 40)}`)).toBe(true);
      expect(row).toContain('…');
      expect(row).toMatch(
        new RegExp(`\\s${model.segments[c]!.size}\\s+${(model.segments[c]!.share * 100).toFixed(0)} %\\s+${c === 0 ? 1 : 0}$`),
      );
    }
    // every feature of the schema, under its label (a long one may wrap onto two lines), by id
    const header = lines(features)
      .slice(
        0,
        lines(features).findIndex((l) => l.startsWith('--')),
      )
      .join(' ');
    for (const f of WHOLESALE.features) for (const word of f.label.toLowerCase().split(' ')) expect(header).toContain(word);
    const rows = lines(features).slice(lines(features).findIndex((l) => l.startsWith('--')) + 1);
    expect(rows.map((r) => r.split(/ {2,}/)[0])).toEqual(model.segments.map((s) => String(s.id)));
    rows.forEach((row, c) => {
      const s = model.segments[c]!;
      const cells = row.split(/ {2,}/);
      const fresh = s.stats.fresh!.mean;
      expect(cells).toContain(Math.round(fresh).toLocaleString('en-US'));
      const [value, share] = Object.entries(s.categories.channel!).sort((a, b) => b[1] - a[1])[0]!;
      expect(cells).toContain(`${value} ${(share * 100).toFixed(0)} %`);
    });
  });
});
