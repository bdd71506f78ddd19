// The summary of labeling a customers file (design.md "summary.json").

import * as z from 'zod';

export const SummarySchema = z.object({
  status: z.enum(['ok', 'failed']),
  error: z.string().nullable(),
  warnings: z.array(z.string()),
  source: z.string(),
  modelVersion: z.string().nullable(),
  rowsRead: z.number().int().nonnegative(),
  rowsAccepted: z.number().int().nonnegative(),
  rowsRejected: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  segments: z.record(z.string(), z.number().int().nonnegative()),
  outliers: z.number().int().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type LabelSummary = z.infer<typeof SummarySchema>;

/** A failed run's summary: nothing read into the result, the reason said once. */
export function failedSummary(source: string, error: string, startedAt: Date, finishedAt: Date): LabelSummary {
  return {
    status: 'failed',
    error,
    warnings: [],
    source,
    modelVersion: null,
    rowsRead: 0,
    rowsAccepted: 0,
    rowsRejected: 0,
    duplicates: 0,
    segments: {},
    outliers: 0,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
}
