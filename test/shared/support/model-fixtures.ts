// Shared fixtures for model tests: generated training data and a small trained model, plus an
// independent encoding of a customer into a model's space to check assignments against.

import type { Customer, MallCustomer } from '../../../shared/csv/contract.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { generateCustomers, type GeneratedCustomer } from '../../../shared/sample/generate.ts';
import { trainModel, type TrainingData, type TrainOptions } from '../../../shared/workflows/train.ts';

export const TRAINED_AT = new Date('2026-11-26T15:30:00.000Z');

/** Generated customers (with their planted segment) for a seed. */
export function generated(rows: number, seed = 1): GeneratedCustomer[] {
  return [...generateCustomers({ rows, seed })];
}

/** Strips the planted segment: what a CSV would have given. */
export function asCustomers(rows: readonly GeneratedCustomer[]): Customer[] {
  return rows.map(({ planted: _planted, ...customer }) => customer);
}

/** Training data as if read from a clean file. */
export function trainingData(customers: readonly Customer[], source = 'generated.csv'): TrainingData {
  return { source, customers, rowsRead: customers.length, rowsRejected: 0, duplicates: 0 };
}

/** Small, quick training options (the sweep and restarts dominate the cost). */
export const QUICK: TrainOptions = { maxK: 6, restarts: 3 };

let small: { customers: Customer[]; model: Model } | undefined;

/** A model trained once per test file on 240 generated customers with default features. */
export function smallModel(): { customers: Customer[]; model: Model } {
  if (small === undefined) {
    const customers = asCustomers(generated(240, 5));
    small = { customers, model: trainModel(trainingData(customers), QUICK, TRAINED_AT) };
  }
  return small;
}

/** The customer in the model's space, computed here independently of shared/features. */
export function modelPoint(customer: Customer, model: Model): number[] {
  const c = customer as MallCustomer;
  const raw: number[] = [];
  for (const f of model.features) {
    if (f.kind === 'categorical') for (const category of f.categories ?? []) raw.push(customer.gender === category ? 1 : 0);
    else if (f.name === 'age') raw.push(c.age);
    else if (f.name === 'annual_income_thousands') raw.push(c.annual_income_thousands);
    else raw.push(c.spending_score);
  }
  return raw.map((v, j) => ((v - model.scaler.mean[j]!) / model.scaler.scale[j]!) * model.scaler.weight[j]!);
}

/** Euclidean distance between two points. */
export function euclidean(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0));
}

/** Index of the centroid nearest to the point, and the distance to it. */
export function nearest(point: readonly number[], centroids: readonly (readonly number[])[]): { segment: number; distance: number } {
  let segment = 0;
  let distance = Number.POSITIVE_INFINITY;
  centroids.forEach((c, i) => {
    const d = euclidean(point, c);
    if (d < distance) {
      distance = d;
      segment = i;
    }
  });
  return { segment, distance };
}
