// The report as the workflows write it: who moved where between the previous model and a retrain.

import { describe, expect, it } from 'vitest';
import type { Customer } from '../../../shared/csv/contract.ts';
import { renderReport } from '../../../shared/report/index.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { movementOf } from '../../../shared/workflows/report.ts';
import { trainModel } from '../../../shared/workflows/train.ts';

const customers: Customer[] = [...generateCustomers({ rows: 600, seed: 51 })].map(({ planted: _p, ...c }) => c);
const train = (k: number, seed: number, reference: ReturnType<typeof trainModel> | null) =>
  trainModel(
    { source: 'test', customers, rowsRead: 600, rowsRejected: 0, duplicates: 0 },
    { k, maxK: 3, seed, exclude: ['gender'] },
    new Date('2026-02-01T00:00:00Z'),
    reference,
  );

describe('movementOf and the "who moved where" section', () => {
  it('counts every customer once, and a retrain with another seed keeps nearly everyone in the same id', async () => {
    const before = train(5, 1, null);
    const after = train(5, 2, before);
    const movement = movementOf(before, after, customers);
    expect(movement.counts.flat().reduce((a, b) => a + b, 0)).toBe(600);
    const stayed = movement.from.reduce(
      (sum, f, i) => sum + movement.to.reduce((s, t, j) => s + (t.id === f.id ? movement.counts[i]![j]! : 0), 0),
      0,
    );
    expect(stayed / 600).toBeGreaterThan(0.99);
    const html = await renderReport({ model: after, customers, movement });
    expect(html).toContain('<section id="movement">');
    expect(html).toContain(`data-stat="stayed">${stayed.toLocaleString('en-US')}`);
  });

  it('shows a split segment as customers moving from one previous id to two new ones', () => {
    const before = train(4, 1, null);
    const after = train(5, 1, before);
    const movement = movementOf(before, after, customers);
    expect(movement.to.map((t) => t.id).sort()).toEqual([...after.lineage.matched.map((m) => m.id), ...after.lineage.added].sort());
    const spread = movement.counts.map((row) => row.filter((n) => n > 0).length);
    expect(Math.max(...spread)).toBeGreaterThanOrEqual(2);
  });
});
