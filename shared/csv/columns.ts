// Customers as columns: what training keeps of a million rows. One typed array per field (age and
// spending score are whole numbers of at most 120 by the contract, so one byte each; gender is an
// index into GENDERS) and the ids packed, instead of an object and a string per customer:
// 11 bytes a customer plus the ids, where Customer objects took about 150 bytes.

import { GENDERS, type Customer, type Gender, type NumericField } from './contract.ts';
import { grown } from './typed-arrays.ts';

/** Ids by row number. */
export interface IdColumn {
  get(row: number): string;
}

/** The customers of a training, in training order. */
export class CustomerColumns {
  constructor(
    readonly length: number,
    private readonly ids: IdColumn,
    /** index into GENDERS */
    readonly genderCodes: Uint8Array,
    private readonly ages: Uint8Array,
    private readonly incomes: Float64Array,
    private readonly scores: Uint8Array,
  ) {}

  /** Columns of customers held as objects (tests, the customers table, small files). */
  static from(customers: readonly Customer[]): CustomerColumns {
    const cached = fromArrays.get(customers);
    if (cached !== undefined) return cached;
    const builder = new CustomerColumnsBuilder(customers.length);
    const ids = customers.map((c) => c.customerId);
    for (const c of customers) builder.push(c);
    const columns = builder.build({ get: (row) => ids[row]! });
    fromArrays.set(customers, columns);
    return columns;
  }

  customerId(row: number): string {
    return this.ids.get(row);
  }

  gender(row: number): Gender {
    return GENDERS[this.genderCodes[row]!]!;
  }

  /** A numeric field's values in row order (a new array each call). */
  numeric(field: NumericField): Float64Array {
    const n = this.length;
    switch (field) {
      case 'age':
        return Float64Array.from(this.ages.subarray(0, n));
      case 'annual_income_thousands':
        return this.incomes.slice(0, n);
      case 'spending_score':
        return Float64Array.from(this.scores.subarray(0, n));
    }
  }

  /** Writes a numeric field's values into `target[offset + i * stride]` (no intermediate array). */
  copyNumeric(field: NumericField, target: Float64Array, offset: number, stride: number): void {
    const values = field === 'age' ? this.ages : field === 'spending_score' ? this.scores : this.incomes;
    for (let i = 0; i < this.length; i++) target[offset + i * stride] = values[i]!;
  }

  /** One customer as an object. */
  at(row: number): Customer {
    return {
      customerId: this.customerId(row),
      gender: this.gender(row),
      age: this.ages[row]!,
      annualIncomeThousands: this.incomes[row]!,
      spendingScore: this.scores[row]!,
    };
  }
}

const fromArrays = new WeakMap<readonly Customer[], CustomerColumns>();

/** Customers held as objects or as columns: what the training and report functions take. */
export type Customers = readonly Customer[] | CustomerColumns;

/**
 * The customers as columns. An array's columns are built once and remembered, so an array must not
 * change after it is first used as training or report data (none does: they come from a read).
 */
export function columnsOf(customers: Customers): CustomerColumns {
  return customers instanceof CustomerColumns ? customers : CustomerColumns.from(customers);
}

const isByte = (value: number): boolean => Number.isInteger(value) && value >= 0 && value <= 255;
const GENDER_CODE: Readonly<Record<Gender, number>> = Object.fromEntries(GENDERS.map((g, i) => [g, i])) as Record<Gender, number>;
const GROWTH = 1.5;
const INITIAL_ROWS = 1024;

/** Appends customers' values row by row (the ids are kept by the caller); `keep` then compacts. */
export class CustomerColumnsBuilder {
  private genders: Uint8Array;
  private ages: Uint8Array;
  private incomes: Float64Array;
  private scores: Uint8Array;
  private rows = 0;

  constructor(expectedRows = INITIAL_ROWS) {
    const capacity = Math.max(1, expectedRows);
    this.genders = new Uint8Array(capacity);
    this.ages = new Uint8Array(capacity);
    this.incomes = new Float64Array(capacity);
    this.scores = new Uint8Array(capacity);
  }

  get length(): number {
    return this.rows;
  }

  /** Appends a customer that passed the contract (age and spending score are whole numbers ≤ 120). */
  push(customer: Customer): void {
    if (!(isByte(customer.age) && isByte(customer.spendingScore))) {
      throw new RangeError(`customer ${customer.customerId}: age and spending score must be whole numbers 0–255 in columns`);
    }
    const row = this.rows++;
    if (row >= this.ages.length) {
      this.genders = grown(this.genders, row + 1, GROWTH);
      this.ages = grown(this.ages, row + 1, GROWTH);
      this.incomes = grown(this.incomes, row + 1, GROWTH);
      this.scores = grown(this.scores, row + 1, GROWTH);
    }
    this.genders[row] = GENDER_CODE[customer.gender];
    this.ages[row] = customer.age;
    this.incomes[row] = customer.annualIncomeThousands;
    this.scores[row] = customer.spendingScore;
  }

  /** Keeps only the rows for which `keep(row)` holds, in order. */
  compact(keep: (row: number) => boolean): void {
    let kept = 0;
    for (let row = 0; row < this.rows; row++) {
      if (!keep(row)) continue;
      this.genders[kept] = this.genders[row]!;
      this.ages[kept] = this.ages[row]!;
      this.incomes[kept] = this.incomes[row]!;
      this.scores[kept] = this.scores[row]!;
      kept++;
    }
    this.rows = kept;
  }

  build(ids: IdColumn): CustomerColumns {
    const n = this.rows;
    return new CustomerColumns(n, ids, this.genders.subarray(0, n), this.ages, this.incomes, this.scores);
  }
}
