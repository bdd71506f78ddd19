// How the report and the CLI's table speak of a customer schema's features: labels and units
// for people, which features are numeric or categorical, and whether the schema is the mall's
// (whose page, findings and table keep their own wording).

import type { Customers } from '../csv/columns.ts';
import { CustomerColumns } from '../csv/columns.ts';
import type { Model } from '../model/artifact.ts';
import { MALL_SCHEMA, type CategoricalSchemaFeature, type CustomerSchema, type NumericSchemaFeature } from '../schema/customer-schema.ts';

/** A numeric feature as the page names it. */
export interface NumericView {
  readonly name: string;
  /** The schema's label: `Annual income`. */
  readonly short: string;
  /** The label with its unit: `Annual income (k$)`. */
  readonly title: string;
  /** The label as words inside a sentence: `annual income`. */
  readonly words: string;
  /** The unit as it follows a number in a sentence (` k$`), or '' for none or a scale such as 1–100. */
  readonly unitSuffix: string;
  /** Log-transformed before scaling: model-space values (centroids.original) are log1p of the values. */
  readonly log1p: boolean;
}

/** A categorical feature as the page names it. */
export interface CategoricalView {
  readonly name: string;
  readonly short: string;
  readonly words: string;
}

/**
 * A label inside a sentence: its first letter lower-cased (`Annual income` → `annual income`),
 * unless its first word is an acronym (`RFM score` stays).
 */
export function inSentence(label: string): string {
  const first = label.split(/\s/, 1)[0]!;
  if (first.length > 1 && first === first.toUpperCase() && first !== first.toLowerCase()) return label;
  return label.charAt(0).toLowerCase() + label.slice(1);
}

/** A unit that reads after a number (`k$`, `years`, `€`): not a scale such as `1–100`. */
const unitSuffix = (unit: string | undefined): string => (unit === undefined || /^[\d.−-]/.test(unit) ? '' : ` ${unit}`);

export function numericView(f: NumericSchemaFeature): NumericView {
  return {
    name: f.name,
    short: f.label,
    title: f.unit === undefined ? f.label : `${f.label} (${f.unit})`,
    words: inSentence(f.label),
    unitSuffix: unitSuffix(f.unit),
    log1p: f.transform === 'log1p',
  };
}

export function categoricalView(f: CategoricalSchemaFeature): CategoricalView {
  return { name: f.name, short: f.label, words: inSentence(f.label) };
}

/** Every numeric feature of the schema, in schema order. */
export function numericViews(schema: CustomerSchema): NumericView[] {
  return schema.features.filter((f): f is NumericSchemaFeature => f.kind === 'numeric').map(numericView);
}

/** Every categorical feature of the schema, in schema order. */
export function categoricalViews(schema: CustomerSchema): CategoricalView[] {
  return schema.features.filter((f): f is CategoricalSchemaFeature => f.kind === 'categorical').map(categoricalView);
}

/** The mall's numeric features: a schema with all three gets the mall's findings and table. */
export const MALL_NUMERIC = ['age', 'annual_income_thousands', 'spending_score'] as const;

/** True when the schema has the mall's numeric features (by name and kind), whatever else it has. */
export function isMallShaped(schema: CustomerSchema): boolean {
  return MALL_NUMERIC.every((name) => schema.features.some((f) => f.name === name && f.kind === 'numeric'));
}

/**
 * True when the schema's features are exactly the mall's, by name and kind (in any order, with any
 * labels): the CLI's segment table keeps the mall's columns then.
 */
export function isMallSchema(schema: CustomerSchema): boolean {
  const kinds = new Map<string, string>(MALL_SCHEMA.features.map((f) => [f.name, f.kind]));
  return schema.features.length === kinds.size && schema.features.every((f) => kinds.get(f.name) === f.kind);
}

/**
 * The schema of a model's customers: their columns' own, else the model's (a model read from
 * model.json always has one; a hand-built one in tests may not: the mall's then).
 */
export function reportSchema(model: Pick<Model, 'customerSchema'>, customers: Customers): CustomerSchema {
  if (customers instanceof CustomerColumns) return customers.schema;
  return (model.customerSchema as CustomerSchema | undefined) ?? MALL_SCHEMA;
}
