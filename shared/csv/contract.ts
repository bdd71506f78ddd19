// The customer CSV contract (design.md "CSV contract"): required fields, accepted headers,
// and the validation of one row's values into a typed customer.

import { InvalidFileError } from '../errors.ts';

export const GENDERS = ['Female', 'Male'] as const;
export type Gender = (typeof GENDERS)[number];

/** One accepted customer, with the values the contract guarantees. */
export interface Customer {
  readonly customerId: string;
  readonly gender: Gender;
  readonly age: number;
  readonly annualIncomeThousands: number;
  readonly spendingScore: number;
}

/** The numeric customer fields, in contract order: what features scale, profiles summarise and drift bins. */
export const NUMERIC_FIELDS = ['age', 'annual_income_thousands', 'spending_score'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

export type CustomerField = 'customer_id' | 'gender' | NumericField;

/** Required fields in contract order, each with the headers accepted for it (compared case-insensitively). */
const REQUIRED_FIELDS: ReadonlyArray<{ field: CustomerField; headers: readonly string[] }> = [
  { field: 'customer_id', headers: ['customer_id', 'CustomerID', 'id'] },
  { field: 'gender', headers: ['gender', 'Genre'] },
  { field: 'age', headers: ['age'] },
  { field: 'annual_income_thousands', headers: ['annual_income_thousands', 'Annual Income (k$)'] },
  { field: 'spending_score', headers: ['spending_score', 'Spending Score (1-100)'] },
];

/**
 * The columns labeling appends to each row of labeled output, in order (the labels, never features).
 * An input file's columns of these names are dropped from labeled output, all six of them, so a
 * labeled.csv fed back in does not get them twice.
 */
export const OUTPUT_COLUMNS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'] as const;

export const MAX_AGE = 120;
/** Longest customer_id accepted: keeps every Data API request and response page within its limits. */
export const MAX_ID_LENGTH = 128;
export const MIN_SCORE = 1;
export const MAX_SCORE = 100;

/** Where each required field sits in a file's header, and which columns are passed through. */
export interface HeaderMap {
  readonly columns: readonly string[];
  readonly index: Readonly<Record<CustomerField, number>>;
  /** Indexes of the input columns kept in labeled output: all but those named in OUTPUT_COLUMNS. */
  readonly passThrough: readonly number[];
}

const normalise = (header: string): string => header.trim().toLowerCase();

/** Resolves a header row against the contract; a missing required column makes the file unreadable. */
export function resolveHeader(columns: readonly string[]): HeaderMap {
  const normalised = columns.map(normalise);
  const index = {} as Record<CustomerField, number>;
  const missing: string[] = [];
  for (const { field, headers } of REQUIRED_FIELDS) {
    const accepted = new Set(headers.map(normalise));
    const found = normalised.findIndex((h) => accepted.has(h));
    if (found < 0) missing.push(`${field} (accepted headers: ${headers.join(', ')})`);
    else index[field] = found;
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
  return { columns, index, passThrough };
}

export type RowResult = { ok: true; customer: Customer } | { ok: false; reason: string };

/** A row's values as checkRow writes them: one object the caller reuses for every row. */
export type RowValues = { -readonly [K in keyof Customer]: Customer[K] };

/** A RowValues to hand to checkRow. */
export function emptyRowValues(): RowValues {
  return { customerId: '', gender: GENDERS[0], age: 0, annualIncomeThousands: 0, spendingScore: 0 };
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DIGIT_0 = 0x30;
const DOT = 0x2e;
const SPACE = 0x20;
const DEL = 0x7f;
/** Longest digit string whose value the digit loop gives exactly (below 2^53, as Number() gives it). */
const MAX_PLAIN_DIGITS = 15;

/**
 * The value of a field of ASCII digits only (no sign, space or point), or -1: the common form of
 * every numeric field, read without a regular expression. Exactly Number(raw) for such a field.
 */
function plainWhole(raw: string): number {
  const n = raw.length;
  if (n === 0 || n > MAX_PLAIN_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const digit = raw.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Digits with at most one point and at least one digit (`15.5`, `3.`, `.5`): a form DECIMAL accepts. */
function isPlainDecimal(raw: string): boolean {
  let digits = 0;
  let points = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === DOT) points++;
    else if (c - DIGIT_0 >= 0 && c - DIGIT_0 <= 9) digits++;
    else return false;
  }
  return digits > 0 && points <= 1;
}

/** Blank after trimming; a field starting with a visible ASCII character is not, without trimming it. */
function isBlankField(raw: string): boolean {
  const first = raw.charCodeAt(0);
  return !(first > SPACE && first < DEL) && raw.trim() === '';
}

function parseGender(raw: string): Gender | undefined {
  switch (raw) {
    case 'Female':
    case 'F':
      return 'Female';
    case 'Male':
    case 'M':
      return 'Male';
  }
  switch (raw.trim().toLowerCase()) {
    case 'female':
    case 'f':
      return 'Female';
    case 'male':
    case 'm':
      return 'Male';
    default:
      return undefined;
  }
}

/** Validates one row's fields; the reason names the first broken rule in words a person understands. */
export function validateRow(fields: readonly string[], header: HeaderMap): RowResult {
  const customer = emptyRowValues();
  const reason = checkRow(fields, header, customer);
  return reason === null ? { ok: true, customer } : { ok: false, reason };
}

/**
 * validateRow without an object per row (the reader of a million rows): writes a valid row's
 * values into `into` and returns null, or returns the reason (then `into` holds no meaning). Each
 * numeric field in its common form (digits, for income also one point) is read without a regular
 * expression, to the same value.
 */
export function checkRow(fields: readonly string[], header: HeaderMap, into: RowValues): string | null {
  if (fields.length !== header.columns.length) return `expected ${header.columns.length} fields, found ${fields.length}`;
  const index = header.index;
  const customerId = fields[index.customer_id] ?? '';
  if (isBlankField(customerId)) return 'customer_id is empty';
  if (customerId.length > MAX_ID_LENGTH) return `customer_id is longer than ${MAX_ID_LENGTH} characters`;

  const genderRaw = fields[index.gender] ?? '';
  const gender = parseGender(genderRaw);
  if (gender === undefined) return genderRaw.trim() === '' ? 'gender is empty' : `gender "${genderRaw}" is not Male/Female (or M/F)`;

  let age = plainWhole(fields[index.age] ?? '');
  if (age < 0) {
    const ageRaw = (fields[index.age] ?? '').trim();
    if (!INTEGER.test(ageRaw)) return ageRaw === '' ? 'age is empty' : `age "${ageRaw}" is not a whole number`;
    age = Number(ageRaw);
  }
  if (age < 0 || age > MAX_AGE) return `age ${age} is outside 0–${MAX_AGE}`;

  let incomeRaw = fields[index.annual_income_thousands] ?? '';
  let annualIncomeThousands = plainWhole(incomeRaw);
  if (annualIncomeThousands < 0) {
    if (!isPlainDecimal(incomeRaw)) {
      incomeRaw = incomeRaw.trim();
      if (!DECIMAL.test(incomeRaw)) {
        return incomeRaw === '' ? 'annual_income_thousands is empty' : `annual_income_thousands "${incomeRaw}" is not a number`;
      }
    }
    annualIncomeThousands = Number(incomeRaw);
    if (!Number.isFinite(annualIncomeThousands) || annualIncomeThousands < 0) {
      return `annual_income_thousands ${incomeRaw} is negative or too large`;
    }
  }

  let spendingScore = plainWhole(fields[index.spending_score] ?? '');
  if (spendingScore < 0) {
    const scoreRaw = (fields[index.spending_score] ?? '').trim();
    if (!INTEGER.test(scoreRaw)) return scoreRaw === '' ? 'spending_score is empty' : `spending_score "${scoreRaw}" is not a whole number`;
    spendingScore = Number(scoreRaw);
  }
  if (spendingScore < MIN_SCORE || spendingScore > MAX_SCORE) return `spending_score ${spendingScore} is outside ${MIN_SCORE}–${MAX_SCORE}`;

  into.customerId = customerId;
  into.gender = gender;
  into.age = age;
  into.annualIncomeThousands = annualIncomeThousands;
  into.spendingScore = spendingScore;
  return null;
}
