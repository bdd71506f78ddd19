// The train function's summaries, and where an uploaded training file's summary goes.

import type { ActivePointer } from '../../shared/model/artifact.ts';
import { TRAINING_RESULTS_PREFIX, UPLOADS_TRAINING_PREFIX } from '../../shared/storage-layout.ts';
import type { TrainSummary } from '../../shared/workflows/train-upload.ts';

/** `uploads/training/2026/members.csv` → `results/training/2026/members/summary.json`. */
export function trainingSummaryKey(key: string): string {
  const name = (
    key.startsWith(UPLOADS_TRAINING_PREFIX) ? key.slice(UPLOADS_TRAINING_PREFIX.length) : key.slice(key.lastIndexOf('/') + 1)
  ).replace(/\.csv$/i, '');
  return `${TRAINING_RESULTS_PREFIX}${name}/summary.json`;
}

export interface LifecycleSummary {
  readonly status: 'ok' | 'failed';
  readonly error: string | null;
  readonly active: ActivePointer | null;
}

/** What the train function returns for one event. */
export type TrainResponse = TrainSummary | LifecycleSummary | { results: TrainSummary[] };
