// Descriptive statistics used by segment profiles: quantiles with linear interpolation
// (as pandas' default), and the six-number summary the analysts read. Large columns are put in
// ascending order without a comparison sort — counted when they hold whole numbers of a small
// range, radix-sorted otherwise — with results bit-identical to sorting a copy and reading it.

import * as z from 'zod';

export const SummarySchema = z.object({
  min: z.number(),
  p25: z.number(),
  median: z.number(),
  mean: z.number(),
  p75: z.number(),
  max: z.number(),
});
export type Summary = z.infer<typeof SummarySchema>;

/** Values in ascending order, however they are held: what quantiles and summaries read. */
export interface Ascending {
  readonly length: number;
  /** The value of the given rank (0 = the smallest), as sorted[rank] would be. */
  at(rank: number): number;
  /** The values' sum, added in ascending order (as a loop over the sorted values adds them). */
  sum(): number;
  /** How many values are below x (x must be a number, not NaN). */
  countBelow(x: number): number;
}

/** Quantile q ∈ [0, 1] at ranks of ascending values, interpolating linearly between ranks. */
function quantileAt(n: number, q: number, at: (rank: number) => number): number {
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, n - 1);
  const lowValue = at(low);
  return lowValue + (at(high) - lowValue) * (position - low);
}

/** Quantile q ∈ [0, 1] of ascending-sorted values, interpolating linearly between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  return quantileAt(sorted.length, q, (rank) => sorted[rank]!);
}

/** Quantile q ∈ [0, 1] of values in ascending order, interpolating linearly between ranks. */
export function quantile(values: Ascending, q: number): number {
  return quantileAt(values.length, q, (rank) => values.at(rank));
}

/** min, p25, median, mean, p75 and max of values in ascending order. */
export function summarizeAscending(values: Ascending): Summary {
  const n = values.length;
  return {
    min: values.at(0),
    p25: quantile(values, 0.25),
    median: quantile(values, 0.5),
    mean: values.sum() / n,
    p75: quantile(values, 0.75),
    max: values.at(n - 1),
  };
}

/** min, p25, median, mean, p75 and max of the values (which must be non-empty). */
export function summarize(values: Float64Array): Summary {
  return summarizeAscending(sortedAscending(sortNumbers(values.slice())));
}

/** Mean and population standard deviation. */
export function meanStd(values: Float64Array): { mean: number; std: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = n > 0 ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) * (values[i]! - mean);
  return { mean, std: n > 0 ? Math.sqrt(sq / n) : 0 };
}

/** Sorted values as Ascending. */
export function sortedAscending(sorted: Float64Array): Ascending {
  return {
    length: sorted.length,
    at: (rank) => sorted[rank]!,
    sum: () => {
      let sum = 0;
      for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
      return sum;
    },
    countBelow: (x) => {
      // first index whose value is not below x
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    },
  };
}

/** Below this many values the built-in sort is as fast as the radix sort's fixed costs. */
const RADIX_MIN = 2048;
/** Bits of a radix key: two passes of at most 14 bits, with counters that stay in cache. */
const KEY_BITS = 28;
/** Moves an insertion sort of a run may make per value of the run before the built-in sort takes over. */
const INSERTION_BUDGET_PER_VALUE = 8;
/** Whether a double's high 32 bits are the second word of its bytes (so the radix sort reads them). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The high word of a double's bits (as a signed 32-bit integer) turned into a key whose order is
 * the numbers' order: negatives have their other 31 bits flipped, so −0 comes just before +0.
 */
function highKey(word: number): number {
  return word ^ ((word >> 31) & 0x7fffffff);
}

/**
 * Sorts the values ascending in place, in exactly the order of Float64Array.prototype.sort
 * (−0 before +0), through `scratch` (as long as they, not overlapping them). A value's key is the
 * high 32 bits of its bits (sign, exponent, 20 bits of mantissa) in an order that is the numbers'
 * order (highKey), less the smallest, shifted right as far as needed to fit 28 bits: a
 * least-significant-digit radix sort in two passes of at most 14 bits puts the values in key
 * order, then each run of equal keys — values within about a millionth of each other, mostly one
 * or a few — is ordered by insertion, or by the built-in sort when that would cost more. Returns
 * false, having changed nothing, when a value is NaN.
 */
function radixSort(values: Float64Array, scratch: Float64Array): boolean {
  const n = values.length;
  const words = new Int32Array(values.buffer, values.byteOffset, 2 * n);
  let low = 0x7fffffff;
  let high = -0x80000000;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) return false;
    const key = highKey(words[2 * i + 1]!);
    if (key < low) low = key;
    if (key > high) high = key;
  }
  const valueBits = 32 - Math.clz32(high - low);
  const shift = Math.max(0, valueBits - KEY_BITS);
  const bits = valueBits - shift;
  const lowBits = bits >>> 1;
  const lowMask = (1 << lowBits) - 1;
  const lowCounts = new Int32Array(1 << lowBits);
  const highCounts = new Int32Array(1 << (bits - lowBits));
  for (let i = 0; i < n; i++) {
    const key = (highKey(words[2 * i + 1]!) - low) >>> shift;
    lowCounts[key & lowMask]!++;
    highCounts[key >>> lowBits]!++;
  }
  toStarts(lowCounts);
  toStarts(highCounts);
  for (let i = 0; i < n; i++) scratch[lowCounts[((highKey(words[2 * i + 1]!) - low) >>> shift) & lowMask]!++] = values[i]!;
  const scratchWords = new Int32Array(scratch.buffer, scratch.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) values[highCounts[((highKey(scratchWords[2 * i + 1]!) - low) >>> shift) >>> lowBits]!++] = scratch[i]!;
  settleRuns(values, words, low, shift);
  return true;
}

/** Counts to the positions where each digit's values start. */
function toStarts(counts: Int32Array): void {
  let start = 0;
  for (let d = 0; d < counts.length; d++) {
    const c = counts[d]!;
    counts[d] = start;
    start += c;
  }
}

/** Whether a comes after b in the built-in sort's order (numbers ascending, −0 before +0). */
function goesAfter(a: number, b: number): boolean {
  return a > b || (a === 0 && b === 0 && 1 / a > 1 / b);
}

/**
 * Orders each run of values with the same key ((high key − low) >>> shift), runs being already in
 * place relative to each other: insertion sort, which costs nothing on equal values, falling back
 * to the built-in sort for a run once its moves exceed a budget per value.
 */
function settleRuns(values: Float64Array, words: Int32Array, low: number, shift: number): void {
  const n = values.length;
  let start = 0;
  let runKey = (highKey(words[1]!) - low) >>> shift;
  for (let end = 1; end <= n; end++) {
    const key = end < n ? (highKey(words[2 * end + 1]!) - low) >>> shift : -1;
    if (key === runKey) continue;
    let budget = INSERTION_BUDGET_PER_VALUE * (end - start);
    for (let j = start + 1; j < end; j++) {
      const v = values[j]!;
      let m = j - 1;
      while (m >= start && goesAfter(values[m]!, v)) {
        values[m + 1] = values[m]!;
        m--;
      }
      values[m + 1] = v;
      budget -= j - 1 - m;
      if (budget < 0) {
        values.subarray(start, end).sort();
        break;
      }
    }
    start = end;
    runKey = key;
  }
}

/**
 * Sorts the values ascending in place, in exactly the order of Float64Array.prototype.sort
 * (−0 before +0): by radixSort for large arrays, by the built-in sort for short ones, ones
 * holding a NaN, and on big-endian machines. `scratch` (at least as long) saves an allocation.
 */
export function sortNumbers(values: Float64Array, scratch?: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN || !LITTLE_ENDIAN) return values.sort();
  if (!radixSort(values, scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n))) values.sort();
  return values;
}

/** Widest range of whole numbers counted rather than sorted. */
const MAX_COUNTED_RANGE = 1 << 16;
/** Most counters held at once (groups × range). */
const MAX_COUNTERS = 1 << 22;

/** Each group's values in ascending order, and all of them when that costs nothing more. */
export interface GroupsAscending {
  readonly byGroup: Ascending[];
  /** Every value in ascending order: there when the values were counted, null when sorted. */
  readonly all: Ascending | null;
}

/**
 * Each group's values in ascending order, held as counts, when every value is a whole number
 * (not −0) and the range is small — ages, scores, incomes in whole thousands —, else null.
 * Whole numbers are added exactly in any order while the sum stays below 2⁵³ (checked), so the
 * counted sum is the sorted loop's sum, bit for bit. `groups[i]` is value i's group (0..k−1);
 * null puts every value in group 0.
 */
export function countWholeNumbers(values: Float64Array, groups: Int32Array | null, k: number): GroupsAscending | null {
  const n = values.length;
  if (n === 0) return null;
  const bytes = countBytes(values, groups, k);
  if (bytes !== null) return countedGroups(bytes, BYTE_RANGE, 0, k);
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if ((v | 0) !== v || (v === 0 && 1 / v < 0)) return null;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const range = high - low + 1;
  if (range > MAX_COUNTED_RANGE || range * k > MAX_COUNTERS) return null;
  if (Math.max(Math.abs(low), Math.abs(high)) * n > Number.MAX_SAFE_INTEGER) return null;
  const counts = new Int32Array(range * k);
  if (groups === null) for (let i = 0; i < n; i++) counts[values[i]! - low]!++;
  else for (let i = 0; i < n; i++) counts[groups[i]! * range + values[i]! - low]!++;
  return countedGroups(counts, range, low, k);
}

/** Groups from counts[g × range + v − low], and their sum. */
function countedGroups(counts: Int32Array, range: number, low: number, k: number): GroupsAscending {
  const byGroup = Array.from({ length: k }, (_, g) => countedAscending(counts.subarray(g * range, (g + 1) * range), low));
  if (k === 1) return { byGroup, all: byGroup[0]! };
  const total = new Int32Array(range);
  for (let g = 0; g < k; g++) for (let v = 0; v < range; v++) total[v]! += counts[g * range + v]!;
  return { byGroup, all: countedAscending(total, low) };
}

const BYTE_RANGE = 256;

/** Counts per group of values that are all whole numbers 0..255 (ages, scores): one pass; else null. */
function countBytes(values: Float64Array, groups: Int32Array | null, k: number): Int32Array | null {
  const n = values.length;
  if (k * BYTE_RANGE > MAX_COUNTERS || BYTE_RANGE * n > Number.MAX_SAFE_INTEGER) return null;
  const counts = new Int32Array(k * BYTE_RANGE);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const b = v & 0xff;
    if (b !== v || (b === 0 && 1 / v < 0)) return null;
    counts[(groups === null ? 0 : groups[i]! * BYTE_RANGE) + b]!++;
  }
  return counts;
}

/** Ascending values from counts[v − low] of each whole number v. */
function countedAscending(counts: Int32Array, low: number): Ascending {
  // below[v] = how many values are below low + v
  const below = new Float64Array(counts.length + 1);
  let sum = 0;
  for (let v = 0; v < counts.length; v++) {
    below[v + 1] = below[v]! + counts[v]!;
    sum += (low + v) * counts[v]!;
  }
  const length = below[counts.length]!;
  return {
    length,
    at: (rank) => {
      if (rank < 0 || rank >= length) return Number.NaN;
      // the last v with below[v] <= rank
      let lo = 0;
      let hi = counts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (below[mid]! <= rank) lo = mid;
        else hi = mid - 1;
      }
      return low + lo;
    },
    sum: () => sum,
    countBelow: (x) => {
      const v = Math.ceil(x) - low;
      return v <= 0 ? 0 : v >= counts.length ? length : below[v]!;
    },
  };
}

/**
 * Each group's values in ascending order: counted when they are small whole numbers, else
 * copied out group by group (in value order within a group) and radix-sorted.
 */
export function ascendingByGroup(values: Float64Array, groups: Int32Array | null, k: number): GroupsAscending {
  const counted = countWholeNumbers(values, groups, k);
  if (counted !== null) return counted;
  if (groups === null) {
    const all = sortedAscending(sortNumbers(values.slice()));
    return { byGroup: [all], all };
  }
  return { byGroup: sortedByGroup(values, groups, k).map(sortedAscending), all: null };
}

/** The values in ascending order, as ascendingByGroup in one group, but reordering `values` (a copy of the caller's). */
export function ascendingInPlace(values: Float64Array): Ascending {
  return countWholeNumbers(values, null, 1)?.all ?? sortedAscending(sortNumbers(values));
}

/**
 * Each group's values, sorted ascending: subarrays of one array, in group order — `into` when
 * given (as long as the values, and not the values themselves), else a new one. Groups are copied
 * out in value order, then sorted one by one through one scratch array of the largest's length
 * (fresh memory is what a million values cost most).
 */
export function sortedByGroup(values: Float64Array, groups: Int32Array, k: number, into?: Float64Array): Float64Array[] {
  const n = values.length;
  const starts = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) starts[groups[i]! + 1]!++;
  let largest = 0;
  for (let g = 0; g < k; g++) {
    largest = Math.max(largest, starts[g + 1]!);
    starts[g + 1]! += starts[g]!;
  }
  const out = into !== undefined && into !== values && into.length >= n ? into.subarray(0, n) : new Float64Array(n);
  const next = starts.slice(0, k);
  for (let i = 0; i < n; i++) out[next[groups[i]!]!++] = values[i]!;
  const scratch = new Float64Array(largest >= RADIX_MIN ? largest : 0);
  return Array.from({ length: k }, (_, g) => sortNumbers(out.subarray(starts[g]!, starts[g + 1]!), scratch));
}
