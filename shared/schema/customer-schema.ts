// The customer schema: which columns a customer file has and how each becomes a feature, as a
// validated value. The mall's (MALL_SCHEMA) is the built-in default.

import * as z from 'zod';
import { SchemaError } from '../errors.ts';

/**
 * A feature's name: the column it gets in the customers table and in model-space names. Plain
 * lower-case words only, so that generated SQL can quote it without any escaping question.
 */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Columns of the product's own: the customers table's and labeled output's, those of table
 * training's scratch tables a feature column sits beside, and a generated customer's `planted`.
 * No feature may take these names.
 */
export const PRODUCT_COLUMNS: ReadonlySet<string> = new Set([
  'customer_id',
  'segment',
  'segment_origin',
  'segment_name',
  'segment_distance',
  'is_outlier',
  'model_version',
  'segmented_at',
  'created_at',
  'updated_at',
  'run_id',
  'part',
  'sample_key',
  'taken_at',
  'customers',
  'sq_distance',
  'planted',
]);

/**
 * PostgreSQL's reserved key words (pg_get_keywords() categories R and T in PostgreSQL 16; a test
 * keeps the list equal to the server's). Quoted, they would work; unquoted, in a query an analyst
 * writes against the customers table, they would not, so no feature is named one.
 */
export const SQL_RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation ' +
    'column concurrently constraint create cross current_catalog current_date current_role current_schema current_time ' +
    'current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze ' +
    'from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit ' +
    'localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references ' +
    'returning right select session_user similar some symmetric system_user table tablesample then to trailing true ' +
    'union unique user using variadic verbose when where window with'
  ).split(' '),
);

const MAX_HEADER_LENGTH = 200;
/** Longest categorical value, listed or learned: the Data API page sizes assume it (shared/sql/rows.ts). */
export const MAX_VALUE_LENGTH = 200;
/** Most distinct values of a categorical feature, listed or learned (its codes are bytes). */
export const MAX_CATEGORIES = 255;
const MAX_LABEL_LENGTH = 80;
const DEFAULT_WEIGHT = 1;

/** One line of visible text: a header, alias, label or category (nothing a CSV or a report would split). */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'must be one line without control characters');

const identifier = z
  .string()
  .regex(IDENTIFIER, 'must be a plain name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters');

const finite = z.number().finite();

/** `"reject"` drops a row with the field empty (a reason in rejects.csv); `{ "fill": v }` uses v instead. */
const missing = z.union([z.literal('reject'), z.strictObject({ fill: z.union([finite, z.string()]) })]).default('reject');

const column = {
  /** The header written by generated files and looked for first. */
  header: text(MAX_HEADER_LENGTH),
  /** Other headers accepted for the column; all compared trimmed and case-insensitively, as the CSV contract does. */
  aliases: z.array(text(MAX_HEADER_LENGTH)).default([]),
};

const common = {
  name: identifier,
  /**
   * The feature's previous name, when a deployment renames its column: the schema change renames
   * the table column instead of dropping one and adding another (see customer-table.ts).
   */
  formerly: identifier.optional(),
  ...column,
  label: text(MAX_LABEL_LENGTH),
  missing,
  weight: finite.positive('must be greater than 0').default(DEFAULT_WEIGHT),
};

const NumericFeatureSchema = z.strictObject({
  ...common,
  kind: z.literal('numeric'),
  /** Whole numbers only (age, a score): a decimal is rejected as the contract rejects it today. */
  integer: z.boolean().default(false),
  /** Applied before scaling; `log1p` is for skewed money columns and needs values ≥ 0. */
  transform: z.literal('log1p').optional(),
  min: finite.optional(),
  max: finite.optional(),
  /** The values' unit for people (`years`, `k$`): reports title the feature `Label (unit)`. */
  unit: text(MAX_LABEL_LENGTH).optional(),
  /**
   * How segment names say that a segment's mean stands out (below, above the population's) or sits
   * near it; default from the label: `low fresh`, `high fresh`, `average fresh`.
   */
  words: z.strictObject({ low: text(MAX_LABEL_LENGTH), high: text(MAX_LABEL_LENGTH), mid: text(MAX_LABEL_LENGTH) }).optional(),
});

const CategoricalFeatureSchema = z.strictObject({
  ...common,
  kind: z.literal('categorical'),
  /** The allowed values in one-hot order, or `"learned"`: the values seen at training, sorted. */
  categories: z.union([z.array(text(MAX_VALUE_LENGTH)).min(1, 'must list at least one value (or be "learned")'), z.literal('learned')]),
  /** Other spellings of a value (`"F": "Female"`), compared trimmed and case-insensitively like the values. */
  valueAliases: z.record(text(MAX_VALUE_LENGTH), text(MAX_VALUE_LENGTH)).default({}),
  /** How segment names say that (almost) all of a segment has one value (`"Female": "women"`); default the value itself. */
  words: z.record(text(MAX_VALUE_LENGTH), text(MAX_LABEL_LENGTH)).default({}),
});

const FeatureSchema = z.discriminatedUnion('kind', [NumericFeatureSchema, CategoricalFeatureSchema]);

export const CustomerSchemaSchema = z.strictObject({
  /** The format of this file; a later format gets a new number. */
  version: z.literal(1).default(1),
  /** A short name for people (shown in reports and `--help`), e.g. `mall`. */
  name: text(MAX_LABEL_LENGTH),
  id: z.strictObject(column),
  features: z.array(FeatureSchema).min(1, 'must list at least one feature'),
});

export type CustomerSchema = z.infer<typeof CustomerSchemaSchema>;
export type SchemaFeature = CustomerSchema['features'][number];
export type NumericSchemaFeature = Extract<SchemaFeature, { kind: 'numeric' }>;
export type CategoricalSchemaFeature = Extract<SchemaFeature, { kind: 'categorical' }>;

/** A numeric feature's words for segment names: the schema's, or from its label. */
export function numericWords(f: NumericSchemaFeature): { low: string; high: string; mid: string } {
  const label = f.label.toLowerCase();
  return f.words ?? { low: `low ${label}`, high: `high ${label}`, mid: `average ${label}` };
}

/** How headers and category values are compared: as resolveHeader compares headers. */
export const normaliseHeader = (header: string): string => header.trim().toLowerCase();

/** `features[2].weight` from zod's path. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(top level)' : out;
}

function fail(source: string, path: readonly PropertyKey[], message: string): never {
  throw new SchemaError(`${source}: ${pathText(path)}: ${message}`);
}

/** Every column header (id and features, aliases included) appears once, as the CSV header would match it. */
function checkColumns(schema: CustomerSchema, source: string): void {
  const seen = new Map<string, string>();
  const claim = (header: string, path: PropertyKey[]): void => {
    const key = normaliseHeader(header);
    const before = seen.get(key);
    if (before !== undefined) fail(source, path, `column "${header}" is already named by ${before}`);
    seen.set(key, pathText(path));
  };
  claim(schema.id.header, ['id', 'header']);
  schema.id.aliases.forEach((a, j) => claim(a, ['id', 'aliases', j]));
  schema.features.forEach((f, i) => {
    claim(f.header, ['features', i, 'header']);
    f.aliases.forEach((a, j) => claim(a, ['features', i, 'aliases', j]));
  });
}

function checkNumeric(f: NumericSchemaFeature, at: PropertyKey[], source: string): void {
  if (f.integer) {
    if (f.min !== undefined && !Number.isInteger(f.min)) fail(source, [...at, 'min'], `must be a whole number (the feature is integer)`);
    if (f.max !== undefined && !Number.isInteger(f.max)) fail(source, [...at, 'max'], `must be a whole number (the feature is integer)`);
  }
  if (f.min !== undefined && f.max !== undefined && f.min > f.max) fail(source, [...at, 'min'], `${f.min} is greater than max ${f.max}`);
  if (f.transform === 'log1p' && f.min !== undefined && f.min < 0) {
    fail(source, [...at, 'min'], `${f.min} is negative, but log1p needs values ≥ 0`);
  }
  if (f.missing === 'reject') return;
  const fill = f.missing.fill;
  const where = [...at, 'missing', 'fill'];
  if (typeof fill !== 'number') fail(source, where, `must be a number (the feature is numeric), got "${fill}"`);
  if (f.integer && !Number.isInteger(fill)) fail(source, where, `${fill} is not a whole number (the feature is integer)`);
  if (f.min !== undefined && fill < f.min) fail(source, where, `${fill} is below min ${f.min}`);
  if (f.max !== undefined && fill > f.max) fail(source, where, `${fill} is above max ${f.max}`);
  if (f.transform === 'log1p' && fill < 0) fail(source, where, `${fill} is negative, but log1p needs values ≥ 0`);
}

function checkCategorical(f: CategoricalSchemaFeature, at: PropertyKey[], source: string): void {
  const values = new Map<string, string>();
  if (f.categories !== 'learned') {
    if (f.categories.length > MAX_CATEGORIES) {
      fail(source, [...at, 'categories'], `lists ${f.categories.length} values; a categorical feature has at most ${MAX_CATEGORIES}`);
    }
    f.categories.forEach((c, j) => {
      const before = values.get(normaliseHeader(c));
      if (before !== undefined) fail(source, [...at, 'categories', j], `"${c}" is already listed as "${before}"`);
      values.set(normaliseHeader(c), c);
    });
  }
  // an alias names a value; a spelling that is itself a value (an alias's target) cannot also be an alias
  const targets = new Set(Object.values(f.valueAliases).map(normaliseHeader));
  for (const [alias, value] of Object.entries(f.valueAliases)) {
    const where = [...at, 'valueAliases', alias];
    if (f.categories !== 'learned' && !f.categories.includes(value)) fail(source, where, `"${value}" is not one of the categories`);
    const before = values.get(normaliseHeader(alias));
    if (before !== undefined) fail(source, where, `"${alias}" already stands for "${before}"`);
    if (targets.has(normaliseHeader(alias)))
      fail(source, where, `"${alias}" is a value another alias stands for; it cannot be an alias too`);
    values.set(normaliseHeader(alias), value);
  }
  for (const value of Object.keys(f.words)) {
    if (f.categories !== 'learned' && !f.categories.includes(value))
      fail(source, [...at, 'words', value], `"${value}" is not one of the categories`);
  }
  if (f.missing === 'reject') return;
  const fill = f.missing.fill;
  const where = [...at, 'missing', 'fill'];
  if (typeof fill !== 'string') fail(source, where, `must be a text value (the feature is categorical), got ${fill}`);
  if (f.categories !== 'learned' && !f.categories.includes(fill)) fail(source, where, `"${fill}" is not one of the categories`);
  // a learned feature's fill becomes one of its values: the rules of a value
  const problem = text(MAX_VALUE_LENGTH).safeParse(fill).error?.issues[0]?.message;
  if (problem !== undefined) fail(source, where, problem);
}

/**
 * Validates a parsed JSON value as a customer schema, defaults filled in. `source` (a file name)
 * starts the message of the SchemaError thrown for the first problem found, which names its field.
 */
export function parseCustomerSchema(json: unknown, source: string): CustomerSchema {
  const parsed = CustomerSchemaSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const more = parsed.error.issues.length - 1;
    fail(source, issue.path, `${issue.message.replace(/\s+/g, ' ')}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}`);
  }
  const schema = parsed.data;
  const names = new Map<string, number>();
  schema.features.forEach((f, i) => {
    for (const [name, key] of [[f.name, 'name'], ...(f.formerly === undefined ? [] : [[f.formerly, 'formerly']])] as const) {
      if (PRODUCT_COLUMNS.has(name)) fail(source, ['features', i, key], `"${name}" is a column the product keeps for itself`);
      if (SQL_RESERVED_WORDS.has(name)) fail(source, ['features', i, key], `"${name}" is a reserved word of SQL: choose another name`);
    }
    const before = names.get(f.name);
    if (before !== undefined) fail(source, ['features', i, 'name'], `"${f.name}" is already the name of features[${before}]`);
    names.set(f.name, i);
    if (f.formerly === f.name) fail(source, ['features', i, 'formerly'], `is the feature's own name`);
  });
  checkColumns(schema, source);
  schema.features.forEach((f, i) =>
    f.kind === 'numeric' ? checkNumeric(f, ['features', i], source) : checkCategorical(f, ['features', i], source),
  );
  return schema;
}

/**
 * Today's mall file as a schema: the built-in default. Headers, bounds and weights are those of
 * csv/contract.ts and features/spec.ts (a test keeps them equal); labels those the report shows.
 */
export const MALL_SCHEMA: CustomerSchema = parseCustomerSchema(
  {
    version: 1,
    name: 'mall',
    id: { header: 'customer_id', aliases: ['CustomerID', 'id'] },
    features: [
      {
        name: 'gender',
        header: 'gender',
        aliases: ['Genre'],
        label: 'Gender',
        kind: 'categorical',
        categories: ['Female', 'Male'],
        valueAliases: { F: 'Female', M: 'Male' },
        words: { Female: 'women', Male: 'men' },
      },
      {
        name: 'age',
        header: 'age',
        label: 'Age',
        kind: 'numeric',
        integer: true,
        min: 0,
        max: 120,
        unit: 'years',
        words: { low: 'young', high: 'older', mid: 'middle-aged' },
      },
      {
        name: 'annual_income_thousands',
        header: 'annual_income_thousands',
        aliases: ['Annual Income (k$)'],
        label: 'Annual income',
        kind: 'numeric',
        min: 0,
        unit: 'k$',
        words: { low: 'low income', high: 'high income', mid: 'mid income' },
      },
      {
        name: 'spending_score',
        header: 'spending_score',
        aliases: ['Spending Score (1-100)'],
        label: 'Spending score',
        kind: 'numeric',
        integer: true,
        min: 1,
        max: 100,
        unit: '1–100',
        words: { low: 'low spending', high: 'high spending', mid: 'average spending' },
      },
    ],
  },
  'built-in mall schema',
);
