// Customers as columns: what training keeps of a million rows. One typed array per feature — a
// byte per row for a categorical feature's codes and for whole numbers within 0–255 by the schema
// (the mall's age and spending score), a double per row in blocks for other numbers (never copied
// as they grow) — and the ids packed, instead of an object and a string per customer: the mall's
// 11 bytes a customer plus the ids, where Customer objects took about 150 bytes.

import type { CustomerSchema } from '../schema/customer-schema.ts';
import { MALL_SCHEMA } from '../schema/customer-schema.ts';
import { resolveHeader, type Customer, type FeatureValue, type HeaderMap } from './contract.ts';
import { ByteBlocks, Float64Blocks } from './typed-arrays.ts';

/** Ids by row number. */
export interface IdColumn {
  get(row: number): string;
}

/** One feature's values as stored: bytes (codes or small whole numbers) or doubles in blocks. */
export type FeatureColumn =
  { readonly kind: 'bytes'; readonly values: Uint8Array } | { readonly kind: 'numbers'; readonly blocks: Float64Blocks };

/** The customers of a training, in training order. */
export class CustomerColumns {
  private readonly positions: ReadonlyMap<string, number>;

  constructor(
    readonly length: number,
    private readonly ids: IdColumn,
    /** The header the rows were read with: the schema, and each categorical feature's values by code. */
    readonly header: HeaderMap,
    private readonly columns: readonly FeatureColumn[],
    /** Rows per block of the number columns (and of byteBlocks). */
    readonly blockRows: number,
    /** The rows' fingerprint when the reader took it as it read them (see fingerprint.ts). */
    readonly fingerprint?: string,
  ) {
    this.positions = new Map(header.rules.map((r) => [r.name, r.position]));
  }

  /** Columns of customers held as objects (tests, the customers table, small files). */
  static from(customers: readonly Customer[], schema: CustomerSchema = MALL_SCHEMA): CustomerColumns {
    const cached = fromArrays.get(customers);
    if (cached !== undefined && cached.schema === schema) return cached;
    const header = resolveHeader([schema.id.header, ...schema.features.map((f) => f.header)], schema);
    const builder = new CustomerColumnsBuilder(header, customers.length);
    const ids = customers.map((c) => c.customerId);
    for (const c of customers) builder.pushCustomer(c);
    const columns = builder.build({ get: (row) => ids[row]! });
    fromArrays.set(customers, columns);
    return columns;
  }

  get schema(): CustomerSchema {
    return this.header.schema;
  }

  /** A feature's position in the schema (and in these columns). */
  position(name: string): number {
    const at = this.positions.get(name);
    if (at === undefined) throw new RangeError(`no feature "${name}" in schema ${this.schema.name}`);
    return at;
  }

  customerId(row: number): string {
    return this.ids.get(row);
  }

  /** A feature's column as stored. */
  column(name: string): FeatureColumn {
    return this.columns[this.position(name)]!;
  }

  /** A categorical feature's values, by code. */
  categories(name: string): readonly string[] {
    const rule = this.header.rules[this.position(name)]!;
    if (rule.kind !== 'categorical') throw new RangeError(`feature "${name}" is not categorical`);
    return rule.categories.values;
  }

  /** A categorical feature's codes (index into categories(name)), as stored. */
  codes(name: string): Uint8Array {
    const column = this.column(name);
    if (column.kind !== 'bytes' || this.header.rules[this.position(name)]!.kind !== 'categorical') {
      throw new RangeError(`feature "${name}" is not categorical`);
    }
    return column.values;
  }

  /** A numeric feature's values in row order (a new array each call). */
  numeric(name: string): Float64Array {
    const column = this.column(name);
    return column.kind === 'numbers' ? column.blocks.toArray(this.length) : Float64Array.from(column.values.subarray(0, this.length));
  }

  /** Writes a numeric feature's values into `target[offset + i * stride]` (no intermediate array). */
  copyNumeric(name: string, target: Float64Array, offset: number, stride: number): void {
    const column = this.column(name);
    if (column.kind === 'numbers') {
      column.blocks.copyTo(this.length, target, offset, stride);
      return;
    }
    const values = column.values;
    for (let i = 0; i < this.length; i++) target[offset + i * stride] = values[i]!;
  }

  /** A byte column as stored, without a copy, in consecutive blocks of `blockRows` rows (the last one shorter). */
  byteBlocks(name: string): Uint8Array[] {
    const column = this.column(name);
    if (column.kind !== 'bytes') throw new RangeError(`feature "${name}" is not kept as bytes`);
    const out: Uint8Array[] = [];
    for (let start = 0; start < this.length; start += this.blockRows) {
      out.push(column.values.subarray(start, Math.min(this.length, start + this.blockRows)));
    }
    return out;
  }

  /** A number column as stored, without a copy, in the blocks of byteBlocks. */
  numberBlocks(name: string): Float64Array[] {
    const column = this.column(name);
    if (column.kind !== 'numbers') throw new RangeError(`feature "${name}" is not kept as numbers`);
    const out: Float64Array[] = [];
    for (let b = 0, start = 0; start < this.length; b++, start += this.blockRows) {
      out.push(column.blocks.blocks[b]!.subarray(0, Math.min(this.blockRows, this.length - start)));
    }
    return out;
  }

  /** One feature's value of one row: a category's text or a number. */
  value(name: string, row: number): FeatureValue {
    const at = this.position(name);
    return this.valueAt(at, row);
  }

  private valueAt(position: number, row: number): FeatureValue {
    const column = this.columns[position]!;
    const raw = column.kind === 'bytes' ? column.values[row]! : column.blocks.get(row);
    const rule = this.header.rules[position]!;
    return rule.kind === 'categorical' ? rule.categories.values[raw]! : raw;
  }

  /** One customer as an object. */
  at(row: number): Customer {
    const customer: Record<string, FeatureValue> = { customerId: this.customerId(row) };
    for (const rule of this.header.rules) customer[rule.name] = this.valueAt(rule.position, row);
    return customer as Customer;
  }
}

const fromArrays = new WeakMap<readonly Customer[], CustomerColumns>();

/** Customers held as objects or as columns: what the training and report functions take. */
export type Customers = readonly Customer[] | CustomerColumns;

/**
 * The customers as columns. An array's columns are built once and remembered, so an array must not
 * change after it is first used as training or report data (none does: they come from a read).
 * Columns carry their own schema; an array is read with `schema` (the mall's by default).
 */
export function columnsOf(customers: Customers, schema?: CustomerSchema): CustomerColumns {
  return customers instanceof CustomerColumns ? customers : CustomerColumns.from(customers, schema);
}

/** Rows per block: 2^14 (128 KiB of doubles), or fewer when the builder is told it holds fewer. */
const BLOCK_BITS = 14;

/** Appends customers' values row by row (the ids are kept by the caller); `compact` then drops rows. */
export class CustomerColumnsBuilder {
  private readonly blockRows: number;
  private readonly bits: number;
  /** schema positions of the byte columns and of the number columns */
  private readonly bytePositions: Int32Array;
  private readonly numberPositions: Int32Array;
  private readonly bytes: ByteBlocks[];
  private readonly numbers: Float64Blocks[];
  private rows = 0;
  // the last block of each column, and the next row's place in it
  private byteBlock: Uint8Array[];
  private numberBlock: Float64Array[];
  private at = 0;

  /** `expectedRows`, when known, sizes the blocks for a small table. */
  constructor(
    readonly header: HeaderMap,
    expectedRows?: number,
  ) {
    this.bits = expectedRows === undefined ? BLOCK_BITS : Math.min(BLOCK_BITS, Math.ceil(Math.log2(Math.max(1, expectedRows))));
    this.blockRows = 1 << this.bits;
    this.bytePositions = Int32Array.from(header.rules.filter((r) => r.byte).map((r) => r.position));
    this.numberPositions = Int32Array.from(header.rules.filter((r) => !r.byte).map((r) => r.position));
    this.bytes = Array.from(this.bytePositions, () => new ByteBlocks(this.bits));
    this.numbers = Array.from(this.numberPositions, () => new Float64Blocks(this.bits));
    this.byteBlock = this.bytes.map(() => new Uint8Array(0));
    this.numberBlock = this.numbers.map(() => new Float64Array(0));
    this.at = this.blockRows;
  }

  get length(): number {
    return this.rows;
  }

  /** Appends a customer that passed the contract (a category of its schema, numbers that fit their columns). */
  pushCustomer(customer: Customer): void {
    const values = new Float64Array(this.header.rules.length);
    for (const rule of this.header.rules) {
      const value = customer[rule.name];
      if (rule.kind === 'categorical') {
        const code = rule.categories.code(String(value));
        if (code < 0) throw new RangeError(`customer ${customer.customerId}: ${rule.name} "${String(value)}" is not one of its categories`);
        values[rule.position] = code;
      } else {
        if (typeof value !== 'number' || (rule.byte && !(Number.isInteger(value) && value >= 0 && value <= 255))) {
          throw new RangeError(`customer ${customer.customerId}: ${rule.name} ${String(value)} does not fit its column`);
        }
        values[rule.position] = value;
      }
    }
    this.push(values);
  }

  /** Appends a row's values by schema position: numbers, category codes (as checkRow writes them). */
  push(values: Float64Array): void {
    if (this.at === this.blockRows) this.nextBlock();
    const at = this.at++;
    const { bytePositions, numberPositions, byteBlock, numberBlock } = this;
    for (let c = 0; c < bytePositions.length; c++) byteBlock[c]![at] = values[bytePositions[c]!]!;
    for (let c = 0; c < numberPositions.length; c++) numberBlock[c]![at] = values[numberPositions[c]!]!;
    this.rows++;
  }

  private nextBlock(): void {
    const row = this.rows;
    for (const column of this.bytes) column.ensure(row);
    for (const column of this.numbers) column.ensure(row);
    this.lastBlocks();
    this.at = 0;
  }

  private lastBlocks(): void {
    this.byteBlock = this.bytes.map((c) => c.blocks.at(-1) ?? new Uint8Array(0));
    this.numberBlock = this.numbers.map((c) => c.blocks.at(-1) ?? new Float64Array(0));
  }

  /** Keeps only the rows for which `keep(row)` holds, in order. */
  compact(keep: (row: number) => boolean): void {
    let kept = 0;
    for (let row = 0; row < this.rows; row++) {
      if (!keep(row)) continue;
      for (const column of this.bytes) column.set(kept, column.get(row));
      for (const column of this.numbers) column.set(kept, column.get(row));
      kept++;
    }
    this.rows = kept;
    const blocks = Math.ceil(kept / this.blockRows);
    for (const column of [...this.bytes, ...this.numbers]) column.blocks.length = blocks;
    this.lastBlocks();
    this.at = kept === 0 ? this.blockRows : kept - (blocks - 1) * this.blockRows;
  }

  /** The columns, with the rows' fingerprint when the caller took it as it pushed them (see fingerprint.ts). */
  build(ids: IdColumn, fingerprint?: string): CustomerColumns {
    const n = this.rows;
    const columns: FeatureColumn[] = new Array(this.header.rules.length);
    this.bytePositions.forEach((p, c) => (columns[p] = { kind: 'bytes', values: this.bytes[c]!.toArray(n) }));
    this.numberPositions.forEach((p, c) => (columns[p] = { kind: 'numbers', blocks: this.numbers[c]! }));
    return new CustomerColumns(n, ids, this.header, columns, this.blockRows, fingerprint);
  }
}
