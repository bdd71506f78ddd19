// Growing typed arrays for the columns and id tables that hold a million-row file.

type Growable = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** `array` if it holds `needed` elements, else a copy with room for at least that many (× `factor`). */
export function grown<T extends Growable>(array: T, needed: number, factor = 2): T {
  if (needed <= array.length) return array;
  const next = new (array.constructor as new (length: number) => T)(Math.max(needed, Math.ceil(array.length * factor)));
  next.set(array);
  return next;
}

/**
 * Numbers appended in fixed blocks of 2^bits: growing copies nothing and touches each block once
 * (fresh memory is not free: a megabyte's first touch costs about 3 ms of page faults on the
 * reference machine, and a growing array's copies touch three times the final size).
 */
export class Float64Blocks {
  readonly blocks: Float64Array[] = [];
  private readonly mask: number;

  constructor(readonly bits: number) {
    this.mask = (1 << bits) - 1;
  }

  /** Room for `row` (rows are added in order). */
  ensure(row: number): void {
    while (row >>> this.bits >= this.blocks.length) this.blocks.push(new Float64Array(1 << this.bits));
  }

  get(row: number): number {
    return this.blocks[row >>> this.bits]![row & this.mask]!;
  }

  set(row: number, value: number): void {
    this.blocks[row >>> this.bits]![row & this.mask] = value;
  }

  /** Writes rows 0..n-1 into `target[offset + i * stride]`. */
  copyTo(n: number, target: Float64Array, offset: number, stride: number): void {
    const size = 1 << this.bits;
    for (let b = 0, row = 0; row < n; b++) {
      const block = this.blocks[b]!;
      const end = Math.min(size, n - row);
      for (let i = 0; i < end; i++, row++) target[offset + row * stride] = block[i]!;
    }
  }

  /** Rows 0..n-1 in one new array. */
  toArray(n: number): Float64Array {
    const out = new Float64Array(n);
    const size = 1 << this.bits;
    for (let b = 0; b * size < n; b++) out.set(this.blocks[b]!.subarray(0, Math.min(size, n - b * size)), b * size);
    return out;
  }
}

/** Bytes appended in fixed blocks of 2^bits, concatenated once at the end (see Float64Blocks). */
export class ByteBlocks {
  readonly blocks: Uint8Array[] = [];
  private readonly mask: number;

  constructor(readonly bits: number) {
    this.mask = (1 << bits) - 1;
  }

  ensure(row: number): void {
    while (row >>> this.bits >= this.blocks.length) this.blocks.push(new Uint8Array(1 << this.bits));
  }

  get(row: number): number {
    return this.blocks[row >>> this.bits]![row & this.mask]!;
  }

  set(row: number, value: number): void {
    this.blocks[row >>> this.bits]![row & this.mask] = value;
  }

  /** Rows 0..n-1 in one array: the block itself when there is one. */
  toArray(n: number): Uint8Array {
    if (this.blocks.length === 1) return this.blocks[0]!.subarray(0, n);
    const out = new Uint8Array(n);
    const size = 1 << this.bits;
    for (let b = 0; b * size < n; b++) out.set(this.blocks[b]!.subarray(0, Math.min(size, n - b * size)), b * size);
    return out;
  }
}
