// Stable segment identities across retrains: a new model's segments are matched to the active
// model's by minimum-cost assignment on centroid distance in a common space; a matched segment
// keeps its id and name, an unmatched one gets a fresh id, and the active model's unmatched
// segments are reported as vanished.

import { linearSumAssignment } from 'linear-sum-assignment';
import * as z from 'zod';

/** Two centroids farther apart than this (in the reference's standard deviations) are different segments. */
export const SAME_SEGMENT_DISTANCE = 1;

export const LineageSchema = z.object({
  /** The model the segments were matched to (the active one at training), or null. */
  parent: z.string().nullable(),
  matched: z.array(z.object({ id: z.number().int().nonnegative(), distance: z.number().nonnegative() })),
  added: z.array(z.number().int().nonnegative()),
  vanished: z.array(z.number().int().nonnegative()),
  /** The next id never used in this model's line: vanished ids are not given out again. */
  nextId: z.number().int().nonnegative(),
});
export type Lineage = z.infer<typeof LineageSchema>;

/** What matching needs of a model: centroids in original units, and the scale of each column. */
export interface CentroidSpace {
  readonly columns: readonly string[];
  readonly original: readonly (readonly number[])[];
  readonly scale: readonly number[];
}

export interface ReferenceSegments extends CentroidSpace {
  readonly modelVersion: string;
  readonly ids: readonly number[];
  readonly names: readonly string[];
  readonly nextId: number;
}

export interface Matching {
  /** Segment id of each new centroid, by centroid index. */
  readonly ids: number[];
  /** The reference's name for matched centroids, by centroid index (undefined when new). */
  readonly names: (string | undefined)[];
  readonly lineage: Lineage;
}

/** Distance between centroids over the columns both models have, in the reference's units. */
function distance(a: readonly number[], b: readonly number[], pairs: readonly [number, number, number][]): number {
  let s = 0;
  for (const [i, j, scale] of pairs) {
    const d = (a[i]! - b[j]!) / scale;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Ids for a fresh line of models: 0..k−1. */
function firstGeneration(k: number): Matching {
  const ids = Array.from({ length: k }, (_, c) => c);
  return { ids, names: ids.map(() => undefined), lineage: { parent: null, matched: [], added: ids, vanished: [], nextId: k } };
}

/** Matches new centroids to the reference's segments (minimum total distance, then a distance cap). */
export function matchSegments(next: CentroidSpace, reference: ReferenceSegments | null): Matching {
  const k = next.original.length;
  if (reference === null) return firstGeneration(k);
  const pairs: [number, number, number][] = [];
  next.columns.forEach((column, i) => {
    const j = reference.columns.indexOf(column);
    if (j >= 0) pairs.push([i, j, reference.scale[j]! > 0 ? reference.scale[j]! : 1]);
  });
  const ids: number[] = new Array(k).fill(-1);
  const names: (string | undefined)[] = new Array(k).fill(undefined);
  const matched: Lineage['matched'] = [];
  if (pairs.length > 0) {
    const cost = next.original.map((a) => reference.original.map((b) => distance(a, b, pairs)));
    const { rowAssignments } = linearSumAssignment(cost, { maximaze: false });
    rowAssignments.forEach((r, c) => {
      if (r < 0 || cost[c]![r]! > SAME_SEGMENT_DISTANCE) return;
      ids[c] = reference.ids[r]!;
      names[c] = reference.names[r];
      matched.push({ id: reference.ids[r]!, distance: cost[c]![r]! });
    });
  }
  let nextId = reference.nextId;
  const added: number[] = [];
  for (let c = 0; c < k; c++) {
    if (ids[c]! >= 0) continue;
    ids[c] = nextId++;
    added.push(ids[c]!);
  }
  const kept = new Set(matched.map((m) => m.id));
  return {
    ids,
    names,
    lineage: {
      parent: reference.modelVersion,
      matched: matched.sort((a, b) => a.id - b.id),
      added,
      vanished: reference.ids.filter((id) => !kept.has(id)),
      nextId,
    },
  };
}
