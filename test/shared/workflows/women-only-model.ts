// A test model that has never seen a man: the gender column keeps only `Female`, so a man is a row
// the model cannot place (an unseen category). The default features fix both genders, so such a
// model comes from a deployment's own schema; here it is derived from a trained one.

import type { Model } from '../../../shared/model/artifact.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { trainModel } from '../../../shared/workflows/train.ts';

const DROPPED = 'gender=Male';

/** A k = 3 model trained on generated customers, less its `gender=Male` column. */
export function womenOnlyModel(): Model {
  const trained = trainModel(
    { source: 'test', customers: [...generateCustomers({ rows: 300, seed: 1 })], rowsRead: 300, rowsRejected: 0, duplicates: 0 },
    { k: 3, maxK: 3, restarts: 2 },
    new Date('2026-01-01T00:00:00Z'),
  );
  const at = trained.scaler.columns.indexOf(DROPPED);
  const keep = <T>(values: readonly T[]): T[] => values.filter((_, i) => i !== at);
  return {
    ...trained,
    features: trained.features.map((f) => (f.kind === 'categorical' ? { ...f, categories: ['Female'] } : f)),
    scaler: {
      columns: keep(trained.scaler.columns),
      mean: keep(trained.scaler.mean),
      scale: keep(trained.scaler.scale),
      weight: keep(trained.scaler.weight),
    },
    centroids: {
      columns: keep(trained.centroids.columns),
      model: trained.centroids.model.map(keep),
      original: trained.centroids.original.map(keep),
    },
  };
}
