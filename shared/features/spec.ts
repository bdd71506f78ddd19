// Feature configuration: which of a schema's features become model columns, how, and with what
// weight — the `features` a model records.

import * as z from 'zod';
import { columnsOf, type CustomerColumns, type Customers } from '../csv/columns.ts';
import { InvalidOptionError } from '../errors.ts';
import { IDENTIFIER, MALL_SCHEMA, type CustomerSchema } from '../schema/customer-schema.ts';

export const FeatureSpecSchema = z.object({
  name: z.string().regex(IDENTIFIER),
  kind: z.enum(['numeric', 'categorical']),
  /** A categorical feature's values in one-hot order: listed by the schema, or learned at training (sorted). */
  categories: z.array(z.string()).optional(),
  /** Applied to a numeric feature's values before scaling. */
  transform: z.literal('log1p').optional(),
  weight: z.number().positive().finite(),
});
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;

export interface FeatureOptions {
  /** Features to use, in order (default: all of the schema's). */
  readonly features?: readonly string[];
  /** Features to drop from the list. */
  readonly exclude?: readonly string[];
  /** Per-feature weights applied after scaling (default: the schema's, 1 unless it says). */
  readonly weights?: Readonly<Record<string, number>>;
}

/**
 * Resolves feature options against a schema into the ordered feature list saved in the model. A
 * categorical feature whose categories the schema leaves to training has none yet: see
 * learnCategories.
 */
export function resolveFeatures(options: FeatureOptions = {}, schema: CustomerSchema = MALL_SCHEMA): FeatureSpec[] {
  const names = schema.features.map((f) => f.name);
  const checkName = (name: string, what: string): string => {
    if (!names.includes(name)) throw new InvalidOptionError(`unknown feature "${name}" in ${what}; features are ${names.join(', ')}`);
    return name;
  };
  const chosen = (options.features ?? names).map((n) => checkName(n, '--features'));
  const excluded = new Set((options.exclude ?? []).map((n) => checkName(n, '--exclude')));
  const weights = options.weights ?? {};
  for (const [name, weight] of Object.entries(weights)) {
    checkName(name, '--weight');
    if (!(Number.isFinite(weight) && weight > 0)) {
      throw new InvalidOptionError(`weight for ${name} must be a positive number (exclude the feature to drop it)`);
    }
  }
  const specs = schema.features
    .filter((f) => chosen.includes(f.name) && !excluded.has(f.name))
    .sort((a, b) => chosen.indexOf(a.name) - chosen.indexOf(b.name))
    .map((f): FeatureSpec => {
      const weight = weights[f.name] ?? f.weight;
      if (f.kind === 'numeric') return { name: f.name, kind: 'numeric', ...(f.transform ? { transform: f.transform } : {}), weight };
      return { name: f.name, kind: 'categorical', ...(f.categories === 'learned' ? {} : { categories: [...f.categories] }), weight };
    });
  if (specs.length === 0) throw new InvalidOptionError('no features left to cluster on');
  return specs;
}

/**
 * The features with every categorical one's categories: those the schema lists, or for a learned
 * one the values its training customers have, sorted (code-unit order, as Array.prototype.sort).
 */
export function learnCategories(features: readonly FeatureSpec[], columns: CustomerColumns): FeatureSpec[] {
  if (features.every((f) => f.kind !== 'categorical' || f.categories !== undefined)) return [...features];
  return features.map((f) =>
    f.kind === 'categorical' && f.categories === undefined ? { ...f, categories: seenValues(columns, f.name) } : f,
  );
}

/** A categorical feature's values that some row has, sorted. */
function seenValues(columns: CustomerColumns, name: string): string[] {
  const codes = columns.codes(name);
  const values = columns.categories(name);
  const seen = new Uint8Array(values.length);
  for (let i = 0; i < columns.length; i++) seen[codes[i]!] = 1;
  return values.filter((_, code) => seen[code] === 1).sort();
}

/** Names of the model-space columns, e.g. `gender=Female`, `age`. */
export function columnNames(features: readonly FeatureSpec[]): string[] {
  return features.flatMap((f) => (f.kind === 'categorical' ? (f.categories ?? []).map((c) => `${f.name}=${c}`) : [f.name]));
}

/** A numeric feature's values, in customer order (a new array). */
export function numericValues(customers: Customers, field: string): Float64Array {
  return columnsOf(customers).numeric(field);
}
