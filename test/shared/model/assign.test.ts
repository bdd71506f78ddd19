// Labeling with a model: the nearest centroid, the Euclidean distance in model space, the
// outlier flag against the segment's threshold, and categories the model never saw.

import { describe, expect, it } from 'vitest';
import type { Customer, HeaderMap, KnownValues } from '../../../shared/csv/contract.ts';
import { parseCustomerRecords, type ParsedRow } from '../../../shared/csv/read-customers.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import { WHOLESALE, wholesaleModel } from '../report/wholesale-fixture.ts';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import { applyScaler, encodeRaw } from '../../../shared/features/encode.ts';
import {
  Assigner,
  assignCustomers,
  knownValuesOf,
  modelSpaceRows,
  nearestCentroids,
  numericColumns,
  unassignableReason,
} from '../../../shared/model/assign.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { asCustomers, generated, modelPoint, nearest, smallModel } from '../support/model-fixtures.ts';

const { customers, model } = smallModel();
const withThresholds = (m: Model, threshold: (segment: number) => number): Model => ({
  ...m,
  segments: m.segments.map((s) => ({ ...s, outlierThreshold: threshold(s.id) })),
});

describe('assignCustomers', () => {
  const assignments = assignCustomers(customers, model);

  it('labels each customer with the nearest centroid', () => {
    customers.forEach((c, i) => expect(assignments[i]!.segment).toBe(nearest(modelPoint(c, model), model.centroids.model).segment));
  });

  it('reports the Euclidean distance to that centroid in model space', () => {
    customers.forEach((c, i) => {
      const point = modelPoint(c, model);
      expect(assignments[i]!.distance).toBeCloseTo(nearest(point, model.centroids.model).distance, 10);
    });
  });

  it('gives the training customers back their training segments (segment sizes match the model)', () => {
    const sizes = new Array<number>(model.k).fill(0);
    for (const a of assignments) sizes[a.segment]!++;
    expect(sizes).toEqual(model.segments.map((s) => s.size));
  });

  it('flags as outliers exactly the customers farther than their segment threshold', () => {
    assignments.forEach((a) => expect(a.isOutlier).toBe(a.distance > model.segments[a.segment]!.outlierThreshold));
    // the threshold is the 99th percentile of training distances: a few training customers exceed it
    const outliers = assignments.filter((a) => a.isOutlier).length;
    expect(outliers).toBeGreaterThan(0);
    expect(outliers).toBeLessThanOrEqual(Math.ceil(customers.length * 0.02) + model.k);
  });

  it('does not flag a customer exactly at the threshold, and flags one just past it', () => {
    const first = assignments[0]!;
    const at = withThresholds(model, () => first.distance);
    expect(assignCustomers([customers[0]!], at)[0]!.isOutlier).toBe(false);
    const below = withThresholds(model, () => first.distance * (1 - 1e-9));
    expect(assignCustomers([customers[0]!], below)[0]!.isOutlier).toBe(true);
  });

  it('flags a customer far from every segment', () => {
    const far: Customer = { customerId: 'far', gender: 'Male', age: 120, annual_income_thousands: 900, spending_score: 1 };
    const [a] = assignCustomers([far], model);
    expect(a!.isOutlier).toBe(true);
    expect(a!.distance).toBeCloseTo(nearest(modelPoint(far, model), model.centroids.model).distance, 10);
  });

  it('labels a customer sitting on a centroid with distance 0', () => {
    // a one-column model: a customer at the centroid's original value is at distance 0
    const ageOnly: Model = {
      ...model,
      k: 2,
      features: [{ name: 'age', kind: 'numeric', weight: 1 }],
      scaler: { columns: ['age'], mean: [40], scale: [10], weight: [1] },
      centroids: { columns: ['age'], model: [[-1], [2]], original: [[30], [60]] },
      segments: model.segments.slice(0, 2),
    };
    const result = assignCustomers(
      [{ customerId: 'x', gender: 'Female', age: 60, annual_income_thousands: 1, spending_score: 1 }],
      ageOnly,
    );
    expect(result).toEqual([{ index: 1, segment: 1, distance: 0, isOutlier: false }]);
  });

  it('labels nobody when given nobody', () => {
    expect(assignCustomers([], model)).toEqual([]);
  });
});

describe('nearestCentroids', () => {
  // more rows than one block of the labeler, so block boundaries are crossed
  const many = asCustomers(generated(2500, 5));

  it('gives exactly the streaming Assigner’s labels and distances, for objects and for columns', () => {
    const assigner = new Assigner(model);
    const expected = many.map((c) => assigner.assign(c));
    for (const input of [many, CustomerColumns.from(many)]) {
      const { index, distance } = nearestCentroids(input, model, { distances: true });
      expect(Array.from(index)).toEqual(expected.map((a) => a.index));
      expect(Array.from(distance!)).toEqual(expected.map((a) => a.distance));
    }
  });

  it('computes distances only when asked, and takes numeric columns the caller holds', () => {
    const plain = nearestCentroids(many, model);
    expect(plain.distance).toBeNull();
    expect(Array.from(nearestCentroids(many, model, { values: numericColumns(many) }).index)).toEqual(Array.from(plain.index));
  });

  it('follows the model’s column order, whatever the features’ order', () => {
    // the same model with gender last: columns, scaler and centroids permuted alike
    const order = [2, 3, 4, 0, 1];
    const permute = <T>(row: readonly T[]): T[] => order.map((j) => row[j]!);
    expect(model.scaler.columns.slice(0, 2)).toEqual(['gender=Female', 'gender=Male']);
    const genderLast: Model = {
      ...model,
      features: [...model.features.slice(1), model.features[0]!],
      scaler: {
        columns: permute(model.scaler.columns),
        mean: permute(model.scaler.mean),
        scale: permute(model.scaler.scale),
        weight: permute(model.scaler.weight),
      },
      centroids: { ...model.centroids, columns: permute(model.centroids.columns), model: model.centroids.model.map(permute) },
    };
    const assigner = new Assigner(genderLast);
    expect(Array.from(nearestCentroids(many, genderLast).index)).toEqual(many.map((c) => assigner.assign(c).index));
    expect(Array.from(nearestCentroids(many, genderLast).index)).toEqual(Array.from(nearestCentroids(many, model).index));
  });

  it('gives a customer of an unseen category index 0 at an infinite distance, as assignCustomers always did', () => {
    const womenOnly: Model = {
      ...model,
      features: model.features.map((f) => (f.kind === 'categorical' ? { ...f, categories: ['Female'] } : f)),
      scaler: {
        ...model.scaler,
        columns: model.scaler.columns.slice(1),
        mean: model.scaler.mean.slice(1),
        scale: model.scaler.scale.slice(1),
        weight: model.scaler.weight.slice(1),
      },
      centroids: { ...model.centroids, columns: model.centroids.columns.slice(1), model: model.centroids.model.map((r) => r.slice(1)) },
    };
    const man: Customer = { customerId: 'm', gender: 'Male', age: 30, annual_income_thousands: 50, spending_score: 50 };
    const { index, distance } = nearestCentroids([man], womenOnly, { distances: true });
    expect([index[0], distance![0]]).toEqual([0, Number.POSITIVE_INFINITY]);
  });
});

describe('modelSpaceRows', () => {
  it('gives the chosen rows of encodeRaw + applyScaler, in the order asked, bit for bit', () => {
    const all = applyScaler(encodeRaw(customers, model.features), model.scaler);
    const rows = Int32Array.from([5, 0, 17, customers.length - 1, 5]);
    const some = modelSpaceRows(customers, model, rows);
    expect([some.rows, some.cols]).toEqual([rows.length, all.cols]);
    rows.forEach((i, r) =>
      expect(Array.from(some.data.subarray(r * all.cols, (r + 1) * all.cols))).toEqual(
        Array.from(all.data.subarray(i * all.cols, (i + 1) * all.cols)),
      ),
    );
  });
});

describe('unassignableReason', () => {
  it('accepts a customer whose categories the model knows', () => {
    expect(unassignableReason(customers[0]!, model)).toBeUndefined();
  });

  it('explains a category the model never saw, naming the model', () => {
    const womenOnly: Model = {
      ...model,
      features: model.features.map((f) => (f.kind === 'categorical' ? { ...f, categories: ['Female'] } : f)),
    };
    const man: Customer = { customerId: 'm', gender: 'Male', age: 30, annual_income_thousands: 50, spending_score: 50 };
    expect(unassignableReason(man, womenOnly)).toBe(`gender "Male" was not seen when model ${model.modelVersion} was trained`);
  });
});

describe('RowAssigner', () => {
  /** The accepted rows of a CSV as the reader gives them (values in blocks, no customer objects made). */
  async function parsedRows(
    csv: string,
    schema: CustomerSchema = MALL_SCHEMA,
    known: KnownValues = {},
  ): Promise<{ header: HeaderMap; rows: ParsedRow[] }> {
    let header: HeaderMap | undefined;
    const rows: ParsedRow[] = [];
    async function* chunks() {
      // small chunks: many batches, so many value blocks
      for (let i = 0; i < csv.length; i += 4096) yield csv.slice(i, i + 4096);
    }
    for await (const batch of parseCustomerRecords(chunks(), 1, schema, known)) {
      if (!Array.isArray(batch)) header = batch;
      else for (const item of batch) if (item.kind === 'accepted') rows.push(item.row);
    }
    return { header: header!, rows };
  }

  const mallCsv = async (n: number): Promise<string> => {
    let text = '';
    for await (const chunk of generateCsv({ rows: n, seed: 7 }))
      text += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    return text;
  };

  it("gives the mall's rows exactly the Assigner's labels and distances, bit for bit", async () => {
    const { header, rows } = await parsedRows(await mallCsv(2500));
    expect(rows).toHaveLength(2500);
    const assigner = new Assigner(model);
    const labeler = assigner.forHeader(header);
    for (const row of rows) {
      expect(labeler.unassignable(row.values, row.at)).toBeUndefined();
      expect(labeler.assign(row.values, row.at)).toEqual(new Assigner(model).assign(row.customer));
    }
  });

  it('gives a schema with log1p columns and learned categories the same labels as the Assigner, and the same reasons', async () => {
    const { model: trained } = await wholesaleModel(1500, 3);
    let csv = '';
    for await (const chunk of generateCsv({ schema: WHOLESALE, rows: 1200, seed: 4 })) csv += chunk;
    // read with channel learned (as a table's schema may have it): a value the model never saw is
    // learned by the reader as it goes, then refused by the model
    csv += 'x-unseen,Kiosk,' + csv.split('\n')[1]!.split(',').slice(2).join(',') + '\n';
    const learned: CustomerSchema = {
      ...trained.customerSchema,
      features: trained.customerSchema.features.map((f) => (f.name === 'channel' ? { ...f, categories: 'learned' } : f)),
    };
    const { header, rows } = await parsedRows(csv, learned);
    const labeler = new Assigner(trained).forHeader(header);
    let unseen = 0;
    for (const row of rows) {
      const reason = labeler.unassignable(row.values, row.at);
      expect(reason).toBe(unassignableReason(row.customer, trained));
      if (reason !== undefined) {
        unseen++;
        continue;
      }
      expect(labeler.assign(row.values, row.at)).toEqual(new Assigner(trained).assign(row.customer));
    }
    expect(unseen).toBe(1);
  });

  it("reads a learned feature's values in the model's spelling, whatever the file's first spelling", async () => {
    const { model: trained } = await wholesaleModel(1500, 3);
    let csv = '';
    for await (const chunk of generateCsv({ schema: WHOLESALE, rows: 600, seed: 5 })) csv += chunk;
    // the file spells the channels in capitals ("HORECA"), the model as trained ("horeca")
    const shouted = csv.replace(/^([^,\n]*),(horeca|retail),/gm, (_, id: string, channel: string) => `${id},${channel.toUpperCase()},`);
    expect(shouted).not.toBe(csv);
    // learned, and without the value aliases that would name the model's spellings anyway
    const learned: CustomerSchema = {
      ...trained.customerSchema,
      features: trained.customerSchema.features.map((f) => (f.name === 'channel' ? { ...f, categories: 'learned', valueAliases: {} } : f)),
    };
    const plain = await parsedRows(csv, learned, knownValuesOf(trained));
    const read = await parsedRows(shouted, learned, knownValuesOf(trained));
    expect(read.rows).toHaveLength(600);
    const labeler = new Assigner(trained).forHeader(read.header);
    const expected = new Assigner(trained).forHeader(plain.header);
    read.rows.forEach((row, i) => {
      expect(row.customer.channel).toBe(plain.rows[i]!.customer.channel);
      expect(labeler.unassignable(row.values, row.at)).toBeUndefined();
      expect(labeler.assign(row.values, row.at)).toEqual(expected.assign(plain.rows[i]!.values, plain.rows[i]!.at));
    });
    // without the model's values the file's first spelling would stand, and the model would not know it
    const alone = await parsedRows(shouted, learned);
    const first = alone.rows[0]!;
    expect(new Assigner(trained).forHeader(alone.header).unassignable(first.values, first.at)).toMatch(/was not seen when model/);
  });

  it('reads a feature the header lacks as a customer without it: NaN distance, not a wrong label', async () => {
    const { header, rows } = await parsedRows(await mallCsv(3));
    const noAge: HeaderMap = { ...header, rules: header.rules.filter((r) => r.name !== 'age') };
    const labeler = new Assigner(model).forHeader(noAge);
    const { age: _age, ...without } = rows[0]!.customer;
    expect(labeler.assign(rows[0]!.values, rows[0]!.at)).toEqual(new Assigner(model).assign(without as Customer));
  });
});
