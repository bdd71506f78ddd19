// Training end to end on generated customers: the artifact's content, reproducibility apart from
// the clock, explicit k over the sweep's suggestion, recovery of planted segments, and warnings.

import { describe, expect, it } from 'vitest';
import { columnsOf } from '../../../shared/csv/columns.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import { InvalidOptionError } from '../../../shared/errors.ts';
import { toOriginalUnits } from '../../../shared/features/encode.ts';
import { parseModel, serializeModel } from '../../../shared/model/artifact.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { fingerprint } from '../../../shared/csv/fingerprint.ts';
import { QUICK_SWEEP } from '../../../shared/clustering/sweep.ts';
import { clusterMetrics } from '../../../shared/clustering/metrics.ts';
import { sampleOrder } from '../../../shared/clustering/sample-order.ts';
import { sampleOrderRows, trainingDataFromCsv, trainModel } from '../../../shared/workflows/train.ts';
import { adjustedRandIndex } from '../support/ari.ts';
import { asCustomers, generated, modelPoint, nearest, QUICK, smallModel, TRAINED_AT, trainingData } from '../support/model-fixtures.ts';

const { customers, model } = smallModel();

/** The artifact text without what the clock decides: createdAt and the time part of modelVersion. */
const withoutClock = (text: string): string =>
  text.replace(/"createdAt": "[^"]*"/, '"createdAt": "…"').replace(/"modelVersion": "\d{8}T\d{6}Z-/, '"modelVersion": "…-');

describe('trainModel', () => {
  it('produces an artifact that passes its own schema', () => {
    expect(parseModel(serializeModel(model), 'model.json')).toEqual(model);
  });

  it('records features, scaler, k, seed, restarts and iterations', () => {
    expect(model.features.map((f) => f.name)).toEqual(['gender', 'age', 'annual_income_thousands', 'spending_score']);
    expect(model.scaler.columns).toEqual(['gender=Female', 'gender=Male', 'age', 'annual_income_thousands', 'spending_score']);
    expect(model.centroids.columns).toEqual(model.scaler.columns);
    expect(model).toMatchObject({ seed: 42, restarts: 3, maxIterations: 300 });
    expect(model.k).toBe(model.metrics.sweep.suggestedK);
    expect(model.centroids.model).toHaveLength(model.k);
  });

  it('gives centroids in original units consistent with the model-space ones', () => {
    model.centroids.model.forEach((c, i) => expect(model.centroids.original[i]).toEqual(toOriginalUnits(c, model.scaler)));
  });

  it('orders segments largest first, with ids 0..k−1 and sizes adding up to the customers', () => {
    expect(model.segments.map((s) => s.id)).toEqual(Array.from({ length: model.k }, (_, i) => i));
    const sizes = model.segments.map((s) => s.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(customers.length);
    expect(model.segments.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 12);
  });

  it('gives every segment a distinct, non-empty name', () => {
    const names = model.segments.map((s) => s.name);
    expect(new Set(names).size).toBe(model.k);
    for (const name of names) expect(name).not.toBe('');
  });

  it('computes inertia itself, as the squared distances of customers to their nearest centroid', () => {
    const inertia = customers.reduce((sum, c) => sum + nearest(modelPoint(c, model), model.centroids.model).distance ** 2, 0);
    expect(model.metrics.inertia).toBeCloseTo(inertia, 8);
    expect(model.metrics.sweep.entries.find((e) => e.k === model.k)!.inertia).toBeCloseTo(inertia, 8);
  });

  it('records the sweep for k = 1..maxK with the rule that chose k', () => {
    expect(model.metrics.sweep).toMatchObject({ mode: 'full', rows: 240, restarts: 3, silhouetteRows: 240 });
    expect(model.metrics.sweep.entries.map((e) => e.k)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(model.metrics.sweep.rule).toMatch(/^highest mean silhouette among k = 2\.\.6 /);
    expect(model.metrics.silhouette).not.toBeNull();
  });

  it('describes where the training data came from', () => {
    expect(model.training).toEqual({
      source: 'generated.csv',
      rowsRead: 240,
      rowsAccepted: 240,
      rowsRejected: 0,
      duplicates: 0,
      fingerprint: fingerprint(customers),
    });
  });

  it('is byte-identical for the same input, options and seed apart from the clock', () => {
    const data = trainingData(customers);
    const a = trainModel(data, QUICK, new Date('2026-01-01T00:00:00Z'));
    const b = trainModel(data, QUICK, new Date('2027-07-15T23:59:59.999Z'));
    expect(a.createdAt).not.toBe(b.createdAt);
    expect(a.modelVersion.slice(0, 16)).not.toBe(b.modelVersion.slice(0, 16));
    expect(a.modelVersion.slice(17)).toBe(b.modelVersion.slice(17));
    expect(withoutClock(serializeModel(a))).toBe(withoutClock(serializeModel(b)));
    expect(withoutClock(serializeModel(a))).not.toContain('2026-01-01');
  });

  it('gives another version hash for another seed', () => {
    const data = trainingData(customers);
    const a = trainModel(data, { ...QUICK, seed: 1 }, new Date('2026-01-01T00:00:00Z'));
    expect(a.seed).toBe(1);
    expect(a.modelVersion.slice(17)).not.toBe(model.modelVersion.slice(17));
  });

  it('lets an explicit k win over the suggested one', () => {
    const other = model.metrics.sweep.suggestedK === 3 ? 4 : 3;
    const fixed = trainModel(trainingData(customers), { ...QUICK, k: other, sweep: 'full' }, new Date());
    expect(fixed.k).toBe(other);
    expect(fixed.metrics.sweep).toEqual(model.metrics.sweep);
    expect(fixed.segments).toHaveLength(other);
    expect(fixed.metrics.inertia).toBe(fixed.metrics.sweep.entries.find((e) => e.k === other)!.inertia);
  });

  describe('beside an explicit k', () => {
    const data = trainingData(customers);
    const byMode = {
      full: trainModel(data, { ...QUICK, k: 4, sweep: 'full' }, TRAINED_AT),
      quick: trainModel(data, { ...QUICK, k: 4 }, TRAINED_AT),
      none: trainModel(data, { ...QUICK, k: 4, sweep: 'none' }, TRAINED_AT),
    };

    it('runs the quick sweep by default: few starts per k, on at most QUICK_SWEEP.rows rows', () => {
      expect(byMode.quick.metrics.sweep).toMatchObject({
        mode: 'quick',
        rows: 240,
        restarts: QUICK_SWEEP.restarts,
        silhouetteRows: 240,
      });
      expect(byMode.quick.metrics.sweep.entries.map((e) => e.k)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(byMode.quick.metrics.sweep.rule).toMatch(/^highest mean silhouette among k = 2\.\.6 /);
      expect(byMode.quick.restarts).toBe(3);
    });

    it('with no sweep, records the given k alone, measured as the model is, and says that no sweep ran', () => {
      const { metrics } = byMode.none;
      expect(metrics.sweep).toEqual({
        mode: 'none',
        entries: [
          {
            k: 4,
            inertia: metrics.inertia,
            silhouette: metrics.silhouette,
            daviesBouldin: metrics.daviesBouldin,
            calinskiHarabasz: metrics.calinskiHarabasz,
          },
        ],
        suggestedK: 4,
        elbowK: 4,
        rule: 'k = 4 was given and no sweep ran',
        rows: 240,
        restarts: 3,
        silhouetteRows: 240,
      });
    });

    it('fits the same segments whichever sweep ran', () => {
      expect(byMode.quick.centroids).toEqual(byMode.full.centroids);
      expect(byMode.none.centroids).toEqual(byMode.full.centroids);
      expect(byMode.none.metrics.inertia).toBe(byMode.full.metrics.inertia);
      expect(byMode.none.segments).toEqual(byMode.full.segments);
    });
  });

  it('refuses to run without a sweep when k is to be chosen, and an unknown sweep', () => {
    expect(() => trainModel(trainingData(customers), { ...QUICK, sweep: 'none' }, TRAINED_AT)).toThrow('without a sweep, k must be given');
    expect(() => trainModel(trainingData(customers), { ...QUICK, k: 3, sweep: 'most' as 'full' }, TRAINED_AT)).toThrow(InvalidOptionError);
  });

  it('fits an explicit k beyond the sweep', () => {
    const fixed = trainModel(trainingData(customers), { maxK: 3, restarts: 2, k: 5 }, new Date());
    expect(fixed.k).toBe(5);
    expect(fixed.metrics.sweep.entries.map((e) => e.k)).toEqual([1, 2, 3]);
    expect(fixed.centroids.model).toHaveLength(5);
  });

  it('refuses a k that is not a whole number ≥ 1', () => {
    for (const k of [0, -1, 2.5])
      expect(() => trainModel(trainingData(customers), { ...QUICK, k }, new Date())).toThrow(InvalidOptionError);
  });

  it('refuses unknown features', () => {
    expect(() => trainModel(trainingData(customers), { ...QUICK, exclude: ['income'] }, new Date())).toThrow(InvalidOptionError);
  });

  it('reports progress once per k of the sweep', () => {
    const seen: number[] = [];
    trainModel(trainingData(customers.slice(0, 60)), { maxK: 4, restarts: 1, onSweep: (e) => seen.push(e.k) }, new Date());
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('recovers the planted segments without gender (adjusted Rand index ≥ 0.95)', () => {
    const rows = generated(1500, 11);
    const trained = trainModel(trainingData(asCustomers(rows)), { exclude: ['gender'], k: 5, maxK: 5, restarts: 4 }, new Date());
    expect(trained.scaler.columns).toEqual(['age', 'annual_income_thousands', 'spending_score']);
    const labels = rows.map((c) => nearest(modelPoint(c, trained), trained.centroids.model).segment);
    expect(
      adjustedRandIndex(
        labels,
        rows.map((c) => c.planted),
      ),
    ).toBeGreaterThanOrEqual(0.95);
    expect(trained.warnings).toEqual([]);
  });

  it('above the sample size, sweeps on a sample and fits the chosen k on every row', () => {
    const many = asCustomers(generated(500, 9));
    const model = trainModel(trainingData(many), { ...QUICK, sampleSize: 100 }, TRAINED_AT);
    expect(model.metrics.sweep.rows).toBe(100);
    expect(model.segments.reduce((a, s) => a + s.size, 0)).toBe(500);
    const inertia = many.reduce((sum, c) => sum + nearest(modelPoint(c, model), model.centroids.model).distance ** 2, 0);
    expect(model.metrics.inertia).toBeCloseTo(inertia, 8);
    // the sweep's figure for the chosen k is the sample's (100 rows), the model's is all 500 rows'
    expect(model.metrics.sweep.entries.find((e) => e.k === model.k)!.inertia).toBeLessThan(model.metrics.inertia);
    expect(trainModel(trainingData(many), QUICK, TRAINED_AT).metrics.sweep.rows).toBe(500);
  });

  it('trains the same model from the same customers in any order (every sample is a prefix of the sample order)', () => {
    const close = (a: number | null, b: number | null): void => (a === null ? expect(b).toBeNull() : expect(b).toBeCloseTo(a, 9));
    for (const [rows, options] of [
      [300, { ...QUICK, k: 'auto' as const }],
      [500, { ...QUICK, sampleSize: 100 }],
      [500, { ...QUICK, k: 4, sampleSize: 100 }],
    ] as const) {
      const many = asCustomers(generated(rows, 4));
      const a = trainModel(trainingData(many), options, TRAINED_AT);
      const b = trainModel(trainingData([...many].reverse()), options, TRAINED_AT);
      expect(b.k).toBe(a.k);
      expect(b.metrics.sweep.entries.map((e) => e.k)).toEqual(a.metrics.sweep.entries.map((e) => e.k));
      a.metrics.sweep.entries.forEach((e, i) => {
        close(e.inertia, b.metrics.sweep.entries[i]!.inertia);
        close(e.silhouette, b.metrics.sweep.entries[i]!.silhouette);
      });
      close(a.metrics.inertia, b.metrics.inertia);
      close(a.metrics.silhouette, b.metrics.silhouette);
      expect(b.segments.map((s) => s.size)).toEqual(a.segments.map((s) => s.size));
      a.centroids.model.forEach((c, i) => c.forEach((v, j) => close(v, b.centroids.model[i]![j]!)));
    }
  });

  it("measures the model's silhouette on rows of the restarts' sample: what the sample alone and its labels give", () => {
    const many = asCustomers(generated(500, 6));
    const model = trainModel(trainingData(many), { ...QUICK, k: 4, sampleSize: 100 }, TRAINED_AT);
    // the first 100 rows of the sample order, in that order, labelled by the model
    const sample = Array.from(
      sampleOrder(
        many.map((c) => c.customerId),
        model.seed,
        100,
      ),
      (row) => many[row]!,
    );
    const points = sample.map((c) => modelPoint(c, model));
    const labels = Int32Array.from(points, (p) => nearest(p, model.centroids.model).segment);
    const x = { data: Float64Array.from(points.flat()), rows: points.length, cols: points[0]!.length };
    const centroids = Float64Array.from(model.centroids.model.flat());
    expect(model.metrics.silhouette).toBeCloseTo(clusterMetrics(x, labels, centroids, 4, model.seed).silhouette!, 12);
  });

  it('takes the first max(sampleSize, QUICK_SWEEP.rows) rows of the sample order at most', () => {
    expect(sampleOrderRows(1_000_000)).toBe(20_000);
    expect(sampleOrderRows(1_000_000, 100)).toBe(QUICK_SWEEP.rows);
    expect(sampleOrderRows(300)).toBe(300);
  });

  it('refuses a sample size that is not a whole number ≥ 1', () => {
    const data = trainingData(asCustomers(generated(20, 1)));
    expect(() => trainModel(data, { ...QUICK, sampleSize: 0 }, TRAINED_AT)).toThrow('the sample size must be a whole number ≥ 1 (got 0)');
  });

  it('warns that gender alone splits the customers with the default features', () => {
    const trained = trainModel(trainingData(asCustomers(generated(300, 2))), { restarts: 3 }, new Date());
    expect(trained.warnings.some((w) => w.startsWith('gender alone splits the customers'))).toBe(true);
  });
});

describe('trainingDataFromCsv', () => {
  it('takes the accepted customers and the read counts from a parsed file', async () => {
    async function* source(): AsyncGenerator<string> {
      yield* generateCsv({ rows: 5, seed: 3 });
      yield '0000001,Male,30,40,50\nbad,X,1,1,1\n';
    }
    const csv = await readCustomerColumns(source());
    const data = trainingDataFromCsv(csv, 'upload.csv');
    expect(data).toMatchObject({ source: 'upload.csv', rowsRead: 7, rowsRejected: 2, duplicates: 1 });
    expect(data.customers).toHaveLength(5);
    const columns = columnsOf(data.customers);
    const customers = Array.from({ length: columns.length }, (_, i) => columns.at(i));
    expect(customers.find((c) => c.customerId === '0000001')).toMatchObject({ age: 30, annual_income_thousands: 40 });
  });
});

describe('fingerprint', () => {
  it('depends on every value and on the order of the customers', () => {
    const base = fingerprint(customers);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint([...customers])).toBe(base);
    expect(
      fingerprint([{ ...customers[0]!, spending_score: (customers[0]!.spending_score as number) + 1 }, ...customers.slice(1)]),
    ).not.toBe(base);
    expect(fingerprint([customers[1]!, customers[0]!, ...customers.slice(2)])).not.toBe(base);
  });
});
