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

const MAX_AGE = 120;
/** Longest customer_id accepted: keeps every Data API request and response page within its limits. */
const MAX_ID_LENGTH = 128;
const MIN_SCORE = 1;
const MAX_SCORE = 100;

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

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseGender(raw: string): Gender | undefined {
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
  if (fields.length !== header.columns.length) {
    return { ok: false, reason: `expected ${header.columns.length} fields, found ${fields.length}` };
  }
  const value = (field: CustomerField): string => fields[header.index[field]] ?? '';
  const customerId = value('customer_id');
  if (customerId.trim() === '') return { ok: false, reason: 'customer_id is empty' };
  if (customerId.length > MAX_ID_LENGTH) return { ok: false, reason: `customer_id is longer than ${MAX_ID_LENGTH} characters` };

  const genderRaw = value('gender');
  const gender = parseGender(genderRaw);
  if (gender === undefined) {
    return { ok: false, reason: genderRaw.trim() === '' ? 'gender is empty' : `gender "${genderRaw}" is not Male/Female (or M/F)` };
  }
  const ageRaw = value('age').trim();
  if (!INTEGER.test(ageRaw)) return { ok: false, reason: ageRaw === '' ? 'age is empty' : `age "${ageRaw}" is not a whole number` };
  const age = Number(ageRaw);
  if (age < 0 || age > MAX_AGE) return { ok: false, reason: `age ${age} is outside 0–${MAX_AGE}` };

  const incomeRaw = value('annual_income_thousands').trim();
  if (!DECIMAL.test(incomeRaw)) {
    return {
      ok: false,
      reason: incomeRaw === '' ? 'annual_income_thousands is empty' : `annual_income_thousands "${incomeRaw}" is not a number`,
    };
  }
  const annualIncomeThousands = Number(incomeRaw);
  if (!Number.isFinite(annualIncomeThousands) || annualIncomeThousands < 0) {
    return { ok: false, reason: `annual_income_thousands ${incomeRaw} is negative or too large` };
  }
  const scoreRaw = value('spending_score').trim();
  if (!INTEGER.test(scoreRaw)) {
    return { ok: false, reason: scoreRaw === '' ? 'spending_score is empty' : `spending_score "${scoreRaw}" is not a whole number` };
  }
  const spendingScore = Number(scoreRaw);
  if (spendingScore < MIN_SCORE || spendingScore > MAX_SCORE) {
    return { ok: false, reason: `spending_score ${spendingScore} is outside ${MIN_SCORE}–${MAX_SCORE}` };
  }
  return { ok: true, customer: { customerId, gender, age, annualIncomeThousands, spendingScore } };
}
