// Stable segment identities across retrains: matching to the active model keeps ids and names,
// new segments get fresh ids, vanished ones are reported, and ids are never given out twice.

import { describe, expect, it } from 'vitest';
import type { Customer } from '../../../shared/csv/contract.ts';
import { matchSegments, SAME_SEGMENT_DISTANCE, type ReferenceSegments } from '../../../shared/model/lineage.ts';
import { assignCustomers } from '../../../shared/model/assign.ts';
import { generateCustomers, PLANTED_SEGMENTS, type PlantedSegment } from '../../../shared/sample/generate.ts';
import { trainModel } from '../../../shared/workflows/train.ts';

const customers = (rows: number, seed: number, segments: readonly PlantedSegment[] = PLANTED_SEGMENTS): Customer[] =>
  [...generateCustomers({ rows, seed, segments })].map(({ planted: _p, ...c }) => c);

const train = (data: Customer[], seed: number, reference: ReturnType<typeof trainModel> | null, k: number) =>
  trainModel(
    { source: 'test', customers: data, rowsRead: data.length, rowsRejected: 0, duplicates: 0 },
    { k, maxK: 2, seed, exclude: ['gender'] },
    new Date('2026-01-01T00:00:00Z'),
    reference,
  );

describe('matchSegments', () => {
  const reference: ReferenceSegments = {
    modelVersion: '20260101T000000Z-aaaaaaaaaaaa',
    ids: [0, 1, 4],
    names: ['A', 'B', 'C'],
    columns: ['age', 'spending_score'],
    original: [
      [20, 80],
      [60, 20],
      [40, 50],
    ],
    scale: [10, 10],
    nextId: 5,
  };

  it('keeps the id and name of the nearest reference segment, whatever the order', () => {
    const m = matchSegments(
      {
        columns: ['age', 'spending_score'],
        original: [
          [41, 50],
          [21, 79],
          [59, 21],
        ],
        scale: [1, 1],
      },
      reference,
    );
    expect(m.ids).toEqual([4, 0, 1]);
    expect(m.names).toEqual(['C', 'A', 'B']);
    expect(m.lineage).toMatchObject({ parent: reference.modelVersion, added: [], vanished: [], nextId: 5 });
  });

  it('gives a segment farther than the cap a fresh id and reports the one it replaced as vanished', () => {
    const far = 40 + 10 * (SAME_SEGMENT_DISTANCE + 0.5);
    const m = matchSegments(
      {
        columns: ['age', 'spending_score'],
        original: [
          [20, 80],
          [60, 20],
          [far, 50],
        ],
        scale: [1, 1],
      },
      reference,
    );
    expect(m.ids).toEqual([0, 1, 5]);
    expect(m.lineage.added).toEqual([5]);
    expect(m.lineage.vanished).toEqual([4]);
    expect(m.lineage.nextId).toBe(6);
  });

  it('compares only the columns both models have, in the reference units', () => {
    const m = matchSegments(
      {
        columns: ['gender=Female', 'age', 'spending_score'],
        original: [
          [1, 60, 20],
          [0, 20, 80],
        ],
        scale: [1, 1, 1],
      },
      reference,
    );
    expect(m.ids).toEqual([1, 0]);
    expect(m.lineage.vanished).toEqual([4]);
  });

  it('numbers a first model 0..k−1', () => {
    expect(matchSegments({ columns: ['age'], original: [[1], [2], [3]], scale: [1] }, null)).toMatchObject({
      ids: [0, 1, 2],
      lineage: { parent: null, nextId: 3 },
    });
  });
});

describe('retraining with the active model as reference', () => {
  it('keeps every segment id and name when the same data is trained with another seed', () => {
    const data = customers(1500, 21);
    const first = train(data, 1, null, 5);
    const second = train(data, 2, first, 5);
    expect(second.lineage.matched).toHaveLength(5);
    expect(second.lineage.added).toEqual([]);
    // the same customer lands in the segment with the same id and name under both models
    const a = assignCustomers(data, first);
    const b = assignCustomers(data, second);
    const agree = a.filter((x, i) => x.segment === b[i]!.segment).length / data.length;
    expect(agree).toBeGreaterThan(0.99);
    const names = (m: typeof first) => Object.fromEntries(m.segments.map((s) => [s.id, s.name]));
    expect(names(second)).toEqual(names(first));
  });

  it('keeps the old ids and adds one when a planted segment is added', () => {
    const four = PLANTED_SEGMENTS.slice(0, 4);
    const before = train(customers(1200, 31, four), 1, null, 4);
    const after = train(customers(1500, 32, PLANTED_SEGMENTS), 1, before, 5);
    expect(after.lineage.matched.map((m) => m.id).sort()).toEqual([0, 1, 2, 3]);
    expect(after.lineage.added).toEqual([4]);
    expect(after.lineage.vanished).toEqual([]);
    const added = after.segments.find((s) => s.id === 4)!;
    // the new segment is the older, thrifty one the first model never saw
    expect(added.stats.age!.mean).toBeGreaterThan(55);
  });
});
