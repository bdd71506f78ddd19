// A compact index from customer_id to a row number: open addressing over an Int32Array, the ids
// themselves kept only by the caller. About 8 bytes a customer instead of a Map's ~60, which is
// what keeps a million-row file's duplicate check small.

const EMPTY = -1;
const DELETED = -2;
const INITIAL_CAPACITY = 1024;
const MAX_LOAD = 0.5;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of a string. */
function hash(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

export class IdIndex {
  private slots = new Int32Array(INITIAL_CAPACITY).fill(EMPTY);
  private used = 0; // live entries and tombstones

  /** @param idOf the id of row `n` (the index stores row numbers only). */
  constructor(private readonly idOf: (row: number) => string) {}

  /** The row number stored for `id`, or -1. */
  get(id: string): number {
    const mask = this.slots.length - 1;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const row = this.slots[i]!;
      if (row === EMPTY) return -1;
      if (row !== DELETED && this.idOf(row) === id) return row;
    }
  }

  /** Removes `id` if present; returns its row number, or -1. */
  delete(id: string): number {
    const mask = this.slots.length - 1;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const row = this.slots[i]!;
      if (row === EMPTY) return -1;
      if (row !== DELETED && this.idOf(row) === id) {
        this.slots[i] = DELETED;
        return row;
      }
    }
  }

  /** Stores `row` under the id `idOf(row)`; the id must not be present. */
  add(row: number): void {
    if ((this.used + 1) / this.slots.length > MAX_LOAD) this.grow();
    const mask = this.slots.length - 1;
    let i = hash(this.idOf(row)) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = row;
    this.used++;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(EMPTY);
    this.used = 0;
    for (const row of old) if (row >= 0) this.add(row);
  }
}
