// The drift observation over every SqlClient (pg, and the Data API through the emulator): the
// population a model serves, counted in one pass in PostgreSQL, equals the same counts taken in
// JavaScript from the rows; fields left out; statements split for the widest baselines.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Customer } from '../../../shared/csv/contract.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import type { ObservedPopulation } from '../../../shared/model/drift.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { SqlCustomers } from '../../../shared/sql/customers.ts';
import { populationStatements } from '../../../shared/sql/drift.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const customers = (rows: number, seed: number, firstId = 1): Customer[] =>
  [...generateCustomers({ rows, seed, firstId })].map(({ planted: _planted, ...c }) => c);

const clients = useSqlClients('drift_sql', ['customers', 'training_members']);

/** The observation computed in JavaScript from the table's rows: each value's bin found by scanning the edges. */
async function expected(model: Model): Promise<ObservedPopulation> {
  const { rows } = await clients.db.repo.pool.query(
    `SELECT segment_origin, is_outlier, segment_distance, gender, age, CAST(annual_income_thousands AS double precision) AS annual_income_thousands,
       spending_score FROM customers WHERE model_version = $1`,
    [model.modelVersion],
  );
  const assigned = rows.filter((r) => r.segment_origin === 'assigned');
  const bins = Object.fromEntries(
    Object.entries(model.baseline.bins).map(([field, { edges }]) => {
      const counts = new Array<number>(edges.length + 1).fill(0);
      for (const r of assigned) counts[edges.filter((e) => e <= r[field]).length]!++;
      return [field, counts];
    }),
  );
  const categories = Object.fromEntries(
    Object.entries(model.baseline.categories!).map(([field, { values }]) => {
      const counts = new Array<number>(values.length + 1).fill(0);
      for (const r of assigned) counts[values.includes(r[field]) ? values.indexOf(r[field]) : values.length]!++;
      return [field, counts];
    }),
  );
  return {
    assigned: assigned.length,
    created: rows.length - assigned.length,
    outliers: assigned.filter((r) => r.is_outlier).length,
    distanceSum: assigned.reduce((s, r) => s + r.segment_distance, 0),
    bins,
    categories,
  };
}

describe.each(SQL_CLIENTS)('observePopulation over %s', (name) => {
  let table: SqlCustomers;
  let model: Model;
  beforeEach(async () => {
    table = new SqlCustomers(clients.client(name));
    model = trainModel(
      { source: 'f', customers: customers(400, 31), rowsRead: 400, rowsRejected: 0, duplicates: 0 },
      { k: 3, maxK: 3, restarts: 1 },
      new Date(),
    );
    await table.upsertCustomers(customers(700, 32));
    expect((await table.labelNextBatch(model, '', 50_000))?.labeled).toBe(700);
    await clients.db.repo.pool.query("UPDATE customers SET segment_origin = 'created' WHERE customer_id <= '0000100'");
  });

  it('counts the assigned customers per training bin and category in one pass, as JavaScript counts them', async () => {
    const observed = await table.observePopulation(model);
    const reference = await expected(model);
    expect({ ...observed, distanceSum: 0 }).toEqual({ ...reference, distanceSum: 0 });
    expect(observed.distanceSum).toBeCloseTo(reference.distanceSum, 9);
    expect(Object.keys(observed.bins).sort()).toEqual(['age', 'annual_income_thousands', 'spending_score']);
  });

  it('counts the values not seen at training apart', async () => {
    // a baseline that knows women only: the men are the unseen values
    const womenOnly = { ...model, baseline: { ...model.baseline, categories: { gender: { values: ['Female'], shares: [1] } } } };
    const observed = await table.observePopulation(womenOnly);
    const { rows } = await clients.db.repo.pool.query(
      "SELECT count(*) FILTER (WHERE gender = 'Female')::int AS women, count(*) FILTER (WHERE gender = 'Male')::int AS men FROM customers WHERE segment_origin = 'assigned'",
    );
    expect(observed.categories).toEqual({ gender: [rows[0].women, rows[0].men] });
    expect(rows[0].men).toBeGreaterThan(0);
  });

  it('leaves out the fields it is told to (columns no longer in the table)', async () => {
    const observed = await table.observePopulation(model, new Set(['age', 'gender']));
    expect(Object.keys(observed.bins).sort()).toEqual(['annual_income_thousands', 'spending_score']);
    expect(observed.categories).toEqual({});
    expect(observed.assigned).toBe(600);
  });
});

describe('populationStatements', () => {
  it('splits a baseline of more counts than a select list takes into several statements, the totals in the first', () => {
    const model = trainModel(
      { source: 'f', customers: customers(200, 33), rowsRead: 200, rowsRejected: 0, duplicates: 0 },
      { k: 2, maxK: 2, restarts: 1 },
      new Date(),
    );
    const edges = Array.from({ length: 9 }, (_, e) => e);
    const bins = Object.fromEntries(Array.from({ length: 150 }, (_, f) => [`f${f}`, { edges, shares: new Array<number>(10).fill(0.1) }]));
    const statements = populationStatements({ ...model, baseline: { ...model.baseline, bins } });
    expect(statements).toHaveLength(2);
    expect(statements.flatMap((s) => s.fields.map((f) => f.field))).toEqual([...Object.keys(bins), 'gender']);
    expect(statements[0]!.sql).toContain('AS assigned');
    expect(statements[1]!.sql).not.toContain('AS assigned');
    for (const s of statements) expect(s.fields.reduce((n, f) => n + f.bins, 0)).toBeLessThanOrEqual(1000);
  });
});
