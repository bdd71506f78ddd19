// The customer CSV contract (design.md "CSV contract") for a customer schema: which header names
// which column, and the validation of one row's values into a typed customer. The mall's schema
// (MALL_SCHEMA) is the default.

import { InvalidFileError } from '../errors.ts';
import {
  MALL_SCHEMA,
  MAX_CATEGORIES,
  MAX_VALUE_LENGTH,
  normaliseHeader,
  type CustomerSchema,
  type SchemaFeature,
} from '../schema/customer-schema.ts';

/** A feature's value: a categorical one's canonical category, a numeric one's number (before any transform). */
export type FeatureValue = string | number;

/** One accepted customer: its id and each feature's value, keyed by the schema's feature names. */
export type Customer = { readonly customerId: string } & { readonly [feature: string]: FeatureValue };

export const GENDERS = ['Female', 'Male'] as const;
export type Gender = (typeof GENDERS)[number];

/** A customer of the mall's schema. */
export type MallCustomer = {
  readonly customerId: string;
  readonly gender: Gender;
  readonly age: number;
  readonly annual_income_thousands: number;
  readonly spending_score: number;
};

/** The mall's numeric fields, in contract order: what its report's mall-only findings read. */
export const NUMERIC_FIELDS = ['age', 'annual_income_thousands', 'spending_score'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

/**
 * The columns labeling appends to each row of labeled output, in order (the labels, never features).
 * An input file's columns of these names are dropped from labeled output, all six of them, so a
 * labeled.csv fed back in does not get them twice.
 */
export const OUTPUT_COLUMNS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'] as const;

/** Longest customer_id accepted: keeps every Data API request and response page within its limits. */
export const MAX_ID_LENGTH = 128;
export { MAX_CATEGORIES };
/** The id's name in reasons, output and the table, whatever its header. */
export const ID_NAME = 'customer_id';

/**
 * A categorical feature's values, each with a code (its position): the listed categories, or for
 * `"learned"` the values as they are first seen (the first spelling kept, later ones matched
 * trimmed and case-insensitively, as listed values are).
 */
export class Categories {
  readonly values: string[];
  /** Spellings as written (values, value aliases, learned values as first seen) and their codes. */
  private readonly exact = new Map<string, number>();
  /** The same, as lists, while there are few (matched in place, without a string). */
  private spellings: string[] = [];
  private spellingCodes: number[] = [];
  private readonly lookup = new Map<string, number>();

  /** `known`: a learned feature's values to start from, in order (a model's, so its spellings win). */
  constructor(
    readonly feature: Extract<SchemaFeature, { kind: 'categorical' }>,
    known: readonly string[] = [],
  ) {
    this.values = [];
    for (const value of feature.categories === 'learned' ? known.slice(0, MAX_CATEGORIES) : feature.categories) this.add(value);
    for (const [alias, value] of Object.entries(feature.valueAliases)) {
      const code = this.lookup.get(normaliseHeader(value)) ?? this.add(value);
      this.lookup.set(normaliseHeader(alias), code);
      this.remember(alias, code);
    }
  }

  get learned(): boolean {
    return this.feature.categories === 'learned';
  }

  /** The code of a value (trimmed, any case), a learned feature's new value added; -1 if not a value. */
  code(raw: string): number {
    // few spellings (the common case): compared in turn, cheaper than hashing a fresh string for the map
    const spellings = this.spellings;
    if (spellings.length <= MAX_SCANNED_SPELLINGS) {
      for (let s = 0; s < spellings.length; s++) if (spellings[s] === raw) return this.spellingCodes[s]!;
    } else {
      const exact = this.exact.get(raw);
      if (exact !== undefined) return exact;
    }
    const known = this.lookup.get(normaliseHeader(raw));
    if (known !== undefined) return known;
    const value = raw.trim();
    if (!this.learned || value === '' || value.length > MAX_VALUE_LENGTH || this.values.length >= MAX_CATEGORIES) return -1;
    return this.add(value);
  }

  /**
   * The code of text[from, to) if it is a spelling seen before exactly as written (the common
   * field), else -1 (code() then reads it). No string is made while there are few spellings.
   */
  exactCode(text: string, from: number, to: number): number {
    const spellings = this.spellings;
    if (spellings.length > MAX_SCANNED_SPELLINGS) return this.exact.get(text.substring(from, to)) ?? -1;
    const n = to - from;
    for (let s = 0; s < spellings.length; s++) {
      const spelling = spellings[s]!;
      if (spelling.length === n && text.startsWith(spelling, from)) return this.spellingCodes[s]!;
    }
    return -1;
  }

  private add(value: string): number {
    const code = this.values.length;
    this.values.push(value);
    this.lookup.set(normaliseHeader(value), code);
    this.remember(value, code);
    return code;
  }

  private remember(spelling: string, code: number): void {
    this.exact.set(spelling, code);
    this.spellings.push(spelling);
    this.spellingCodes.push(code);
  }

  private description: string | undefined;

  /**
   * What a rejected value should have been, for the reason: the values (and aliases), the first
   * DESCRIBED of each when there are more. Made once: a listed feature's values do not change.
   */
  describe(): string {
    const some = (items: readonly string[]): string =>
      items.length > DESCRIBED ? `${items.slice(0, DESCRIBED).join('/')}/… (${items.length} in all)` : items.join('/');
    const aliases = Object.keys(this.feature.valueAliases);
    return (this.description ??= `${some(this.values)}${aliases.length > 0 ? ` (or ${some(aliases)})` : ''}`);
  }
}

/** Values (and aliases) a reason lists at most: a reason is one line of rejects.csv, not the schema. */
const DESCRIBED = 10;

/** Spellings matched in place by exactCode; beyond them, through a string and a map. */
const MAX_SCANNED_SPELLINGS = 8;

/** How one feature's field is read and where its values are kept. */
export type FieldRule = NumericRule | CategoricalRule;

interface RuleBase {
  /** The feature's name (its table column, and the name in reasons). */
  readonly name: string;
  /** The feature's position in the schema. */
  readonly position: number;
  /** The field's index in the file's rows. */
  readonly column: number;
  /** Kept as one byte per row: codes, or whole numbers within 0–255. */
  readonly byte: boolean;
}

export interface NumericRule extends RuleBase {
  readonly kind: 'numeric';
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** log1p needs values ≥ 0. */
  readonly nonNegative: boolean;
  readonly fill: number | undefined;
}

export interface CategoricalRule extends RuleBase {
  readonly kind: 'categorical';
  readonly categories: Categories;
  /** The fill's code, or undefined (an empty field is rejected). */
  readonly fill: number | undefined;
}

/** Where each column sits in a file's header, how each feature's field is read, and which columns are passed through. */
export interface HeaderMap {
  readonly schema: CustomerSchema;
  readonly columns: readonly string[];
  /** Field index of the id and of each feature, by name. */
  readonly index: Readonly<Record<string, number>>;
  /** The id's field index. */
  readonly idColumn: number;
  /** One per feature, in schema order. */
  readonly rules: readonly FieldRule[];
  /** Indexes of the input columns kept in labeled output: all but those named in OUTPUT_COLUMNS. */
  readonly passThrough: readonly number[];
}

const MAX_BYTE = 255;

/** Whether a numeric feature's values all fit one byte: whole numbers within 0–255 by its bounds. */
export function isByteFeature(feature: SchemaFeature): boolean {
  return feature.kind === 'categorical' || (feature.integer && (feature.min ?? -1) >= 0 && (feature.max ?? MAX_BYTE + 1) <= MAX_BYTE);
}

function ruleOf(feature: SchemaFeature, position: number, column: number, known: KnownValues): FieldRule {
  const base = { name: feature.name, position, column, byte: isByteFeature(feature) };
  if (feature.kind === 'categorical') {
    const categories = new Categories(feature, known[feature.name]);
    const fill = feature.missing === 'reject' ? undefined : categories.code(String(feature.missing.fill));
    return { ...base, kind: 'categorical', categories, fill };
  }
  return {
    ...base,
    kind: 'numeric',
    integer: feature.integer,
    min: feature.min ?? Number.NEGATIVE_INFINITY,
    max: feature.max ?? Number.POSITIVE_INFINITY,
    nonNegative: feature.transform === 'log1p',
    fill: feature.missing === 'reject' ? undefined : Number(feature.missing.fill),
  };
}

/** Per learned categorical feature, the values a file's reading starts from (see Categories). */
export type KnownValues = Readonly<Record<string, readonly string[]>>;

/**
 * Resolves a header row against a schema's contract; a missing required column makes the file
 * unreadable. Each call gives learned categorical features a fresh list of values, starting from
 * `known` (a model's: a file read for it spells its values as the model does, whatever the file's
 * first spelling).
 */
export function resolveHeader(columns: readonly string[], schema: CustomerSchema = MALL_SCHEMA, known: KnownValues = {}): HeaderMap {
  const normalised = columns.map(normaliseHeader);
  const index: Record<string, number> = {};
  const missing: string[] = [];
  const required = [{ name: ID_NAME, header: schema.id.header, aliases: schema.id.aliases }, ...schema.features];
  for (const { name, header, aliases } of required) {
    const accepted = [header, ...aliases];
    const keys = new Set(accepted.map(normaliseHeader));
    const found = normalised.findIndex((h) => keys.has(h));
    if (found < 0) missing.push(`${name} (accepted headers: ${accepted.join(', ')})`);
    else index[name] = found;
  }
  if (missing.length > 0) {
    throw new InvalidFileError(`missing required column${missing.length > 1 ? 's' : ''}: ${missing.join('; ')}`);
  }
  const seen = new Map<string, number>();
  for (const [i, h] of normalised.entries()) {
    const before = seen.get(h);
    if (before !== undefined && h !== '') {
      throw new InvalidFileError(`column "${columns[i]?.trim()}" appears twice in the header (columns ${before + 1} and ${i + 1})`);
    }
    seen.set(h, i);
  }
  const outputs = new Set<string>(OUTPUT_COLUMNS);
  const passThrough = normalised.flatMap((h, i) => (outputs.has(h) ? [] : [i]));
  const rules = schema.features.map((f, position) => ruleOf(f, position, index[f.name]!, known));
  return { schema, columns, index, idColumn: index[ID_NAME]!, rules, passThrough };
}

export type RowResult = { ok: true; customer: Customer } | { ok: false; reason: string };

/**
 * A row's values as checkRow writes them, one object the caller reuses for every row: the id, and
 * per feature its number or its category's code.
 */
export interface RowValues {
  customerId: string;
  readonly values: Float64Array;
}

/** A RowValues for a header's features, to hand to checkRow. */
export function emptyRowValues(header: HeaderMap): RowValues {
  return { customerId: '', values: new Float64Array(header.rules.length) };
}

/** The customer a row's values stand for. */
export function customerOf(row: RowValues, header: HeaderMap): Customer {
  return customerAt(header, row.customerId, row.values, 0);
}

/** The customer whose values checkRow wrote at values[at + position] (a block of several rows' values). */
export function customerAt(header: HeaderMap, customerId: string, values: Float64Array, at: number): Customer {
  const customer: Record<string, FeatureValue> = { customerId };
  for (const rule of header.rules) {
    const value = values[at + rule.position]!;
    customer[rule.name] = rule.kind === 'categorical' ? rule.categories.values[value]! : value;
  }
  return customer as Customer;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DIGIT_0 = 0x30;
const DOT = 0x2e;
const SPACE = 0x20;
const DEL = 0x7f;
/** Longest digit string whose value the digit loop gives exactly (below 2^53, as Number() gives it). */
export const MAX_PLAIN_DIGITS = 15;

/**
 * The value of text[from, to) if it is 1 to 15 ASCII digits (no sign, space or point), else -1:
 * the common form of every numeric field, read without a regular expression. Exactly Number() of it.
 */
export function plainWhole(text: string, from = 0, to = text.length): number {
  if (to <= from || to - from > MAX_PLAIN_DIGITS) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Whether text[from, to) is digits with at most one point and at least one digit (`15.5`, `3.`, `.5`): a form DECIMAL accepts. */
export function isPlainDecimal(text: string, from = 0, to = text.length): boolean {
  let digits = 0;
  let points = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) points++;
    else if (c - DIGIT_0 >= 0 && c - DIGIT_0 <= 9) digits++;
    else return false;
  }
  return digits > 0 && points <= 1;
}

/** Blank after trimming; a field starting with a visible ASCII character is not, without trimming it. */
export function isBlankField(raw: string): boolean {
  const first = raw.charCodeAt(0);
  return !(first > SPACE && first < DEL) && raw.trim() === '';
}

/** Why a number breaks a numeric feature's bounds, or null. */
export function boundsReason(rule: NumericRule, value: number): string | null {
  if (value >= rule.min && value <= rule.max) {
    return rule.nonNegative && value < 0 ? `${rule.name} ${value} is negative, but its log1p transform needs values ≥ 0` : null;
  }
  if (Number.isFinite(rule.min) && Number.isFinite(rule.max)) return `${rule.name} ${value} is outside ${rule.min}–${rule.max}`;
  if (value < rule.min) return rule.min === 0 ? `${rule.name} ${value} is negative` : `${rule.name} ${value} is below ${rule.min}`;
  return `${rule.name} ${value} is above ${rule.max}`;
}

/** Reads a numeric field into `values[rule.position]`, or returns why it cannot. */
function readNumber(rule: NumericRule, raw: string, values: Float64Array): string | null {
  let value = plainWhole(raw);
  if (value < 0) {
    let text = raw;
    if (rule.integer || !isPlainDecimal(text)) {
      text = raw.trim();
      if (text === '') {
        if (rule.fill === undefined) return `${rule.name} is empty`;
        values[rule.position] = rule.fill;
        return null;
      }
      if (rule.integer ? !INTEGER.test(text) : !DECIMAL.test(text)) {
        return `${rule.name} "${text}" is not ${rule.integer ? 'a whole number' : 'a number'}`;
      }
    }
    value = Number(text);
    if (!Number.isFinite(value)) return `${rule.name} ${text} is too large`;
  }
  const reason = boundsReason(rule, value);
  if (reason !== null) return reason;
  values[rule.position] = value;
  return null;
}

/** Reads a categorical field's code into `values[rule.position]`, or returns why it cannot. */
function readCategory(rule: CategoricalRule, raw: string, values: Float64Array): string | null {
  const { categories } = rule;
  let code = categories.code(raw);
  if (code < 0) {
    if (raw.trim() !== '') {
      if (!categories.learned) return `${rule.name} "${raw}" is not ${categories.describe()}`;
      return raw.trim().length > MAX_VALUE_LENGTH
        ? `${rule.name} is longer than ${MAX_VALUE_LENGTH} characters`
        : `${rule.name} "${raw}" would be its value number ${MAX_CATEGORIES + 1} (at most ${MAX_CATEGORIES})`;
    }
    if (rule.fill === undefined) return `${rule.name} is empty`;
    code = rule.fill;
  }
  values[rule.position] = code;
  return null;
}

/** Validates one row's fields; the reason names the first broken rule in words a person understands. */
export function validateRow(fields: readonly string[], header: HeaderMap): RowResult {
  const row = emptyRowValues(header);
  const reason = checkRow(fields, header, row);
  return reason === null ? { ok: true, customer: customerOf(row, header) } : { ok: false, reason };
}

/**
 * validateRow without an object per row (the reader of a million rows): writes a valid row's
 * values into `into` and returns null, or returns the reason (then `into` holds no meaning). The
 * features are checked in schema order; each numeric field in its common form (digits, or digits
 * with one point) is read without a regular expression, to the same value.
 */
export function checkRow(fields: readonly string[], header: HeaderMap, into: RowValues): string | null {
  if (fields.length !== header.columns.length) return `expected ${header.columns.length} fields, found ${fields.length}`;
  const customerId = fields[header.idColumn] ?? '';
  if (isBlankField(customerId)) return `${ID_NAME} is empty`;
  if (customerId.length > MAX_ID_LENGTH) return `${ID_NAME} is longer than ${MAX_ID_LENGTH} characters`;
  for (const rule of header.rules) {
    const raw = fields[rule.column] ?? '';
    const reason = rule.kind === 'numeric' ? readNumber(rule, raw, into.values) : readCategory(rule, raw, into.values);
    if (reason !== null) return reason;
  }
  into.customerId = customerId;
  return null;
}
