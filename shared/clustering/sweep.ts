// The k sweep: fit k = 1..K, measure each, and suggest k with a stated rule.

import * as z from 'zod';
import { InvalidOptionError } from '../errors.ts';
import type { Matrix } from '../features/encode.ts';
import { countDistinctRows, fitKMeans, type KMeansFit, type KMeansOptions } from './kmeans.ts';
import { clusterMetrics } from './metrics.ts';

export const DEFAULT_MAX_K = 10;

const SweepEntrySchema = z.object({
  k: z.number().int().positive(),
  inertia: z.number().nonnegative(),
  silhouette: z.number().nullable(),
  daviesBouldin: z.number().nullable(),
  calinskiHarabasz: z.number().nullable(),
});
export type SweepEntry = z.infer<typeof SweepEntrySchema>;

export const SweepSchema = z.object({
  entries: z.array(SweepEntrySchema),
  suggestedK: z.number().int().positive(),
  elbowK: z.number().int().positive(),
  rule: z.string(),
  /** Rows the sweep ran on: all of them, or a uniform sample above the sample size (SAMPLE_ROWS by default). */
  rows: z.number().int().positive(),
});
export type Sweep = z.infer<typeof SweepSchema>;

export interface SweepResult {
  readonly sweep: Sweep;
  readonly fits: ReadonlyMap<number, KMeansFit>;
}

/**
 * Elbow by the "kneedle" rule: on inertia normalised to [0, 1] over k, the k farthest below the
 * straight line from the first to the last point. Returns the first k when the curve is flat.
 */
export function elbowK(entries: readonly SweepEntry[]): number {
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  if (entries.length < 3 || first.inertia === last.inertia) return first.k;
  let best = first.k;
  let bestGap = 0;
  for (const e of entries) {
    const x = (e.k - first.k) / (last.k - first.k);
    const y = (e.inertia - last.inertia) / (first.inertia - last.inertia);
    const gap = 1 - x - y;
    if (gap > bestGap + 1e-12) {
      bestGap = gap;
      best = e.k;
    }
  }
  return best;
}

const TIE = 1e-9;

/**
 * Suggests k: the highest mean silhouette among k ≥ 2 (ties to the smaller k). With fewer than two
 * candidates, the elbow decides. The rule is returned as a sentence for the report.
 */
export function suggestK(entries: readonly SweepEntry[]): Pick<Sweep, 'suggestedK' | 'elbowK' | 'rule'> {
  const elbow = elbowK(entries);
  let best: SweepEntry | undefined;
  for (const e of entries) {
    if (e.silhouette === null) continue;
    if (best === undefined || e.silhouette > best.silhouette! + TIE) best = e;
  }
  if (best === undefined) {
    return { suggestedK: elbow, elbowK: elbow, rule: `only k = ${elbow} could be fitted` };
  }
  const kMax = entries[entries.length - 1]!.k;
  return {
    suggestedK: best.k,
    elbowK: elbow,
    rule: `highest mean silhouette among k = 2..${kMax} (${best.silhouette!.toFixed(3)} at k = ${best.k}); the inertia elbow is at k = ${elbow}`,
  };
}

export interface SweepOptions extends KMeansOptions {
  readonly maxK?: number;
  /** Called after each k is fitted and measured. */
  readonly onK?: (entry: SweepEntry) => void;
}

/** Fits k = 1..min(maxK, distinct rows) and measures each; `fits` keeps every fitted model. */
export function sweepK(x: Matrix, options: SweepOptions): SweepResult {
  const maxK = options.maxK ?? DEFAULT_MAX_K;
  if (!Number.isInteger(maxK) || maxK < 1) throw new InvalidOptionError(`max k must be a whole number ≥ 1 (got ${maxK})`);
  const top = Math.min(maxK, countDistinctRows(x, maxK));
  const entries: SweepEntry[] = [];
  const fits = new Map<number, KMeansFit>();
  for (let k = 1; k <= top; k++) {
    const fit = fitKMeans(x, k, options);
    const metrics = clusterMetrics(x, fit.labels, fit.centroids, k, options.seed);
    const entry = {
      k,
      inertia: fit.inertia,
      silhouette: metrics.silhouette,
      daviesBouldin: metrics.daviesBouldin,
      calinskiHarabasz: metrics.calinskiHarabasz,
    };
    entries.push(entry);
    fits.set(k, fit);
    options.onK?.(entry);
  }
  return { sweep: { entries, ...suggestK(entries), rows: x.rows }, fits };
}
