// Growing typed arrays for the columns and id tables that hold a million-row file.

type Growable = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** `array` if it holds `needed` elements, else a copy with room for at least that many (× `factor`). */
export function grown<T extends Growable>(array: T, needed: number, factor = 2): T {
  if (needed <= array.length) return array;
  const next = new (array.constructor as new (length: number) => T)(Math.max(needed, Math.ceil(array.length * factor)));
  next.set(array);
  return next;
}
