// Descriptive statistics used by segment profiles: quantiles with linear interpolation
// (as pandas' default), and the six-number summary the analysts read.

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

/** Quantile q ∈ [0, 1] of ascending-sorted values, interpolating linearly between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, n - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** min, p25, median, mean, p75 and max of the values (which must be non-empty). */
export function summarize(values: Float64Array): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    min: sorted[0]!,
    p25: quantileSorted(sorted, 0.25),
    median: quantileSorted(sorted, 0.5),
    mean: sum / sorted.length,
    p75: quantileSorted(sorted, 0.75),
    max: sorted[sorted.length - 1]!,
  };
}

/** Mean and population standard deviation. */
export function meanStd(values: Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = values.length > 0 ? sum / values.length : 0;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { mean, std: values.length > 0 ? Math.sqrt(sq / values.length) : 0 };
}
