// Feature configuration: which customer fields become model columns, how, and with what weight.

import * as z from 'zod';
import { columnsOf, type Customers } from '../csv/columns.ts';
import { GENDERS, NUMERIC_FIELDS, type Customer, type NumericField } from '../csv/contract.ts';
import { InvalidOptionError } from '../errors.ts';

/** The customer fields a model can cluster on: gender and the numeric fields. */
const FEATURE_NAMES = ['gender', ...NUMERIC_FIELDS] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export const FeatureSpecSchema = z.object({
  name: z.enum(FEATURE_NAMES),
  kind: z.enum(['numeric', 'categorical']),
  categories: z.array(z.string()).optional(),
  weight: z.number().positive().finite(),
});
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;

const DEFAULT_WEIGHT = 1;

/** The original analysis: both genders one-hot, then the three numerics; all weight 1. */
export const DEFAULT_FEATURES: readonly FeatureSpec[] = [
  { name: 'gender', kind: 'categorical', categories: [...GENDERS], weight: DEFAULT_WEIGHT },
  { name: 'age', kind: 'numeric', weight: DEFAULT_WEIGHT },
  { name: 'annual_income_thousands', kind: 'numeric', weight: DEFAULT_WEIGHT },
  { name: 'spending_score', kind: 'numeric', weight: DEFAULT_WEIGHT },
];

export interface FeatureOptions {
  /** Features to use, in order (default: all four). */
  readonly features?: readonly string[];
  /** Features to drop from the list. */
  readonly exclude?: readonly string[];
  /** Per-feature weights applied after scaling (default 1). */
  readonly weights?: Readonly<Record<string, number>>;
}

function checkName(name: string, what: string): FeatureName {
  if (!(FEATURE_NAMES as readonly string[]).includes(name)) {
    throw new InvalidOptionError(`unknown feature "${name}" in ${what}; features are ${FEATURE_NAMES.join(', ')}`);
  }
  return name as FeatureName;
}

/** Resolves feature options into the ordered feature list saved in the model. */
export function resolveFeatures(options: FeatureOptions = {}): FeatureSpec[] {
  const chosen = (options.features ?? FEATURE_NAMES).map((n) => checkName(n, '--features'));
  const excluded = new Set((options.exclude ?? []).map((n) => checkName(n, '--exclude')));
  const weights = options.weights ?? {};
  for (const [name, weight] of Object.entries(weights)) {
    checkName(name, '--weight');
    if (!(Number.isFinite(weight) && weight > 0)) {
      throw new InvalidOptionError(`weight for ${name} must be a positive number (exclude the feature to drop it)`);
    }
  }
  const specs = DEFAULT_FEATURES.filter((f) => chosen.includes(f.name) && !excluded.has(f.name))
    .sort((a, b) => chosen.indexOf(a.name) - chosen.indexOf(b.name))
    .map((f) => ({ ...f, weight: weights[f.name] ?? DEFAULT_WEIGHT }));
  if (specs.length === 0) throw new InvalidOptionError('no features left to cluster on');
  return specs;
}

/** Names of the model-space columns, e.g. `gender=Female`, `age`. */
export function columnNames(features: readonly FeatureSpec[]): string[] {
  return features.flatMap((f) => (f.kind === 'categorical' ? (f.categories ?? []).map((c) => `${f.name}=${c}`) : [f.name]));
}

/** Each numeric field's value of a customer. */
export const NUMERIC_VALUE: Readonly<Record<NumericField, (c: Customer) => number>> = {
  age: (c) => c.age,
  annual_income_thousands: (c) => c.annualIncomeThousands,
  spending_score: (c) => c.spendingScore,
};

/** The raw value of a feature for one customer (a category string or a number). */
export function featureValue(customer: Customer, name: FeatureName): string | number {
  return name === 'gender' ? customer.gender : NUMERIC_VALUE[name](customer);
}

/** A numeric field's values, in customer order (a new array). */
export function numericValues(customers: Customers, field: NumericField): Float64Array {
  return customers instanceof Array ? Float64Array.from(customers, NUMERIC_VALUE[field]) : columnsOf(customers).numeric(field);
}
