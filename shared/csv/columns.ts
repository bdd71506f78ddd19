// Customers as columns: what training keeps of a million rows. One typed array per field (age and
// spending score are whole numbers of at most 120 by the contract, so one byte each; gender is an
// index into GENDERS; income in blocks of rows, never copied as it grows) and the ids packed,
// instead of an object and a string per customer: 11 bytes a customer plus the ids, where
// Customer objects took about 150 bytes.

import { GENDERS, type Customer, type Gender, type NumericField } from './contract.ts';
import { ByteBlocks, Float64Blocks } from './typed-arrays.ts';

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
    private readonly incomes: Float64Blocks,
    private readonly scores: Uint8Array,
    /** The rows' fingerprint when the reader took it as it read them (see fingerprint.ts). */
    readonly fingerprint?: string,
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
        return this.incomes.toArray(n);
      case 'spending_score':
        return Float64Array.from(this.scores.subarray(0, n));
    }
  }

  /** Writes a numeric field's values into `target[offset + i * stride]` (no intermediate array). */
  copyNumeric(field: NumericField, target: Float64Array, offset: number, stride: number): void {
    if (field === 'annual_income_thousands') {
      this.incomes.copyTo(this.length, target, offset, stride);
      return;
    }
    const values = field === 'age' ? this.ages : this.scores;
    for (let i = 0; i < this.length; i++) target[offset + i * stride] = values[i]!;
  }

  /**
   * A column of bytes (gender codes, age, spending score) as stored, without a copy, in consecutive
   * blocks of `blockRows` rows (the last one shorter).
   */
  byteBlocks(column: 'gender' | 'age' | 'spending_score'): Uint8Array[] {
    const values = column === 'gender' ? this.genderCodes : column === 'age' ? this.ages : this.scores;
    const out: Uint8Array[] = [];
    for (let start = 0; start < this.length; start += this.blockRows)
      out.push(values.subarray(start, Math.min(this.length, start + this.blockRows)));
    return out;
  }

  /** Income as stored, without a copy, in the blocks of byteBlocks. */
  incomeBlocks(): Float64Array[] {
    const out: Float64Array[] = [];
    for (let b = 0, start = 0; start < this.length; b++, start += this.blockRows) {
      out.push(this.incomes.blocks[b]!.subarray(0, Math.min(this.blockRows, this.length - start)));
    }
    return out;
  }

  /** Rows per block of byteBlocks and incomeBlocks. */
  get blockRows(): number {
    return 1 << this.incomes.bits;
  }

  /** One customer as an object. */
  at(row: number): Customer {
    return {
      customerId: this.customerId(row),
      gender: this.gender(row),
      age: this.ages[row]!,
      annualIncomeThousands: this.incomes.get(row),
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
/** Rows per block: 2^14 (128 KiB of incomes), or fewer when the builder is told it holds fewer. */
const BLOCK_BITS = 14;

/** Appends customers' values row by row (the ids are kept by the caller); `compact` then drops rows. */
export class CustomerColumnsBuilder {
  private readonly genders: ByteBlocks;
  private readonly ages: ByteBlocks;
  private readonly incomes: Float64Blocks;
  private readonly scores: ByteBlocks;
  private readonly blockRows: number;
  private rows = 0;
  // the last block of each column, and the next row's place in it
  private genderBlock: Uint8Array = new Uint8Array(0);
  private ageBlock: Uint8Array = new Uint8Array(0);
  private incomeBlock: Float64Array = new Float64Array(0);
  private scoreBlock: Uint8Array = new Uint8Array(0);
  private at = 0;

  /** `expectedRows`, when known, sizes the blocks for a small table. */
  constructor(expectedRows?: number) {
    const bits = expectedRows === undefined ? BLOCK_BITS : Math.min(BLOCK_BITS, Math.ceil(Math.log2(Math.max(1, expectedRows))));
    this.blockRows = 1 << bits;
    this.genders = new ByteBlocks(bits);
    this.ages = new ByteBlocks(bits);
    this.incomes = new Float64Blocks(bits);
    this.scores = new ByteBlocks(bits);
    this.at = this.blockRows;
  }

  get length(): number {
    return this.rows;
  }

  /** Appends a customer that passed the contract (age and spending score are whole numbers ≤ 120). */
  push(customer: Customer): void {
    if (!(isByte(customer.age) && isByte(customer.spendingScore))) {
      throw new RangeError(`customer ${customer.customerId}: age and spending score must be whole numbers 0–255 in columns`);
    }
    this.pushValues(GENDER_CODE[customer.gender], customer.age, customer.annualIncomeThousands, customer.spendingScore);
  }

  /** push, of values already known to fit: a gender code, age and spending score in 0–255. */
  pushValues(genderCode: number, age: number, income: number, score: number): void {
    if (this.at === this.blockRows) this.nextBlock();
    const at = this.at++;
    this.genderBlock[at] = genderCode;
    this.ageBlock[at] = age;
    this.incomeBlock[at] = income;
    this.scoreBlock[at] = score;
    this.rows++;
  }

  private nextBlock(): void {
    const row = this.rows;
    this.genders.ensure(row);
    this.ages.ensure(row);
    this.incomes.ensure(row);
    this.scores.ensure(row);
    this.lastBlocks();
    this.at = 0;
  }

  private lastBlocks(): void {
    this.genderBlock = this.genders.blocks.at(-1) ?? new Uint8Array(0);
    this.ageBlock = this.ages.blocks.at(-1) ?? new Uint8Array(0);
    this.incomeBlock = this.incomes.blocks.at(-1) ?? new Float64Array(0);
    this.scoreBlock = this.scores.blocks.at(-1) ?? new Uint8Array(0);
  }

  /** Keeps only the rows for which `keep(row)` holds, in order. */
  compact(keep: (row: number) => boolean): void {
    let kept = 0;
    for (let row = 0; row < this.rows; row++) {
      if (!keep(row)) continue;
      this.genders.set(kept, this.genders.get(row));
      this.ages.set(kept, this.ages.get(row));
      this.incomes.set(kept, this.incomes.get(row));
      this.scores.set(kept, this.scores.get(row));
      kept++;
    }
    this.rows = kept;
    const blocks = Math.ceil(kept / this.blockRows);
    for (const column of [this.genders, this.ages, this.incomes, this.scores]) column.blocks.length = blocks;
    this.lastBlocks();
    this.at = kept === 0 ? this.blockRows : kept - (blocks - 1) * this.blockRows;
  }

  /** The columns, with the rows' fingerprint when the caller took it as it pushed them (see fingerprint.ts). */
  build(ids: IdColumn, fingerprint?: string): CustomerColumns {
    const n = this.rows;
    return new CustomerColumns(n, ids, this.genders.toArray(n), this.ages.toArray(n), this.incomes, this.scores.toArray(n), fingerprint);
  }
}
