// Segment profiles: who is in each segment (size, the mix of each categorical feature, six-number
// summaries of each numeric one), how far members sit from the centroid, a generated name, and
// warnings about dominant features.

import * as z from 'zod';
import { columnsOf, CustomerColumns, type Customers } from '../csv/columns.ts';
import { numericValues, type FeatureSpec } from '../features/spec.ts';
import { numericWords, type CustomerSchema } from '../schema/customer-schema.ts';
import {
  ascendingByGroup,
  ascendingInPlace,
  countWholeNumbers,
  meanStd,
  quantileSorted,
  sortedAscending,
  sortedByGroup,
  summarizeAscending,
  SummarySchema,
  type Ascending,
} from './stats.ts';

/** Training-distance percentile used as a segment's outlier threshold. */
export const OUTLIER_PERCENTILE = 0.99;

const DistanceStatsSchema = z.object({
  mean: z.number(),
  median: z.number(),
  p90: z.number(),
  p99: z.number(),
  max: z.number(),
});

export const SegmentProfileSchema = z.object({
  id: z.number().int().nonnegative(),
  name: z.string(),
  size: z.number().int().positive(),
  share: z.number(),
  /** Every categorical feature of the schema, whatever the feature set: each value's share of the segment. */
  categories: z.record(z.string(), z.record(z.string(), z.number())),
  /** Every numeric feature of the schema, whatever the feature set. */
  stats: z.record(z.string(), SummarySchema),
  distance: DistanceStatsSchema,
  outlierThreshold: z.number().nonnegative(),
});
export type SegmentProfile = z.infer<typeof SegmentProfileSchema>;

/** How a segment differs from everyone: per numeric feature, (segment mean − overall mean) / overall std. */
type Deviations = Readonly<Record<string, number>>;

/** A segment's share of each value, per categorical feature. */
type CategoryShares = Readonly<Record<string, Readonly<Record<string, number>>>>;

const NAME_THRESHOLD = 0.5;
/** Numeric features a name mentions at most (the mall has three: all of them). */
const NAME_FEATURES = 3;
/** A segment with at least this share of one value of a categorical feature is named by it. */
const CATEGORY_NAME_SHARE = 0.9;
const DOMINANT_SHARE = 0.95;
const NUMERIC_DOMINANT_ETA2 = 0.9;
const NUMERIC_OTHERS_ETA2 = 0.5;

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Words for a name: every numeric feature that stands out (in schema order), then each categorical
 * feature's value that (almost) the whole segment has.
 */
function descriptors(schema: CustomerSchema, dev: Deviations, shares: CategoryShares): { words: string[]; extra: string[] } {
  const numeric = schema.features.filter((f) => f.kind === 'numeric');
  // the features that stand out most, at most NAME_FEATURES of them, named in schema order
  const standing = numeric
    .filter((f) => Math.abs(dev[f.name] ?? 0) >= NAME_THRESHOLD)
    .sort((a, b) => Math.abs(dev[b.name]!) - Math.abs(dev[a.name]!))
    .slice(0, NAME_FEATURES);
  const words = numeric
    .filter((f) => standing.includes(f))
    .map((f) => (dev[f.name]! < 0 ? numericWords(f).low : numericWords(f).high));
  // for telling apart segments that would share a name: the features closest to average, by how close
  const extra = numeric
    .filter((f) => Math.abs(dev[f.name] ?? 0) < NAME_THRESHOLD)
    .sort((a, b) => Math.abs(dev[b.name] ?? 0) - Math.abs(dev[a.name] ?? 0))
    .map((f) => numericWords(f).mid);
  for (const f of schema.features) {
    if (f.kind !== 'categorical') continue;
    const dominant = Object.entries(shares[f.name] ?? {}).find(([, share]) => share >= CATEGORY_NAME_SHARE);
    if (dominant) words.push(f.words[dominant[0]] ?? dominant[0]);
  }
  return { words, extra };
}

/** Human-readable, unique names from how each segment differs from the whole population. */
export function nameSegments(schema: CustomerSchema, all: readonly { dev: Deviations; categories: CategoryShares }[]): string[] {
  const candidates = all.map((s) => descriptors(schema, s.dev, s.categories));
  const names = candidates.map((c) => c.words);
  const render = (words: string[]): string => (words.length === 0 ? 'Average customers' : capitalise(words.join(' · ')));
  const rounds = schema.features.filter((f) => f.kind === 'numeric').length;
  for (let round = 0; round < rounds; round++) {
    const rendered = names.map(render);
    const clashes = rendered.map((n) => rendered.filter((m) => m === n).length > 1);
    if (!clashes.some(Boolean)) break;
    clashes.forEach((clash, i) => {
      const next = candidates[i]!.extra.shift();
      if (clash && next !== undefined) names[i]!.push(next);
    });
  }
  const rendered = names.map(render);
  const seen = new Map<string, number>();
  return rendered.map((n) => {
    const count = (seen.get(n) ?? 0) + 1;
    seen.set(n, count);
    return count === 1 ? n : `${n} (${count})`;
  });
}

type MeanStd = { mean: number; std: number };

/** A numeric field over all the customers: mean and population std, and its sums and sizes per segment. */
interface FieldTotals extends MeanStd {
  readonly sums: Float64Array;
  readonly sizes: Float64Array;
}

/**
 * Mean and std as meanStd gives them, and the per-segment sums η² needs, added in customer order
 * as etaSquared always added them: the same figures in two passes instead of three.
 */
function totalsOf(values: Float64Array, labels: Int32Array, k: number): FieldTotals {
  const n = values.length;
  const sums = new Float64Array(k);
  const sizes = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    sums[labels[i]!]! += v;
    sizes[labels[i]!]!++;
  }
  const mean = n > 0 ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) * (values[i]! - mean);
  return { mean, std: n > 0 ? Math.sqrt(sq / n) : 0, sums, sizes };
}

/** η² from a field's totals over n customers. */
function etaOf({ mean, std, sums, sizes }: FieldTotals, n: number): number {
  if (std === 0) return 0;
  let between = 0;
  for (let c = 0; c < sums.length; c++) if (sizes[c]! > 0) between += sizes[c]! * (sums[c]! / sizes[c]! - mean) ** 2;
  return between / (n * std * std);
}

/** Share of between-segment variance (η²) of a numeric field: 1 when the segments alone explain it. */
export function etaSquared(values: Float64Array, labels: Int32Array, k: number): number {
  return etaOf(totalsOf(values, labels, k), values.length);
}

/**
 * A numeric field's values in row order. Customers held as columns are written into `into` (one
 * buffer of their length, reused field after field), not into a new array per call.
 */
export function fieldValues(customers: Customers, field: string, into: Float64Array): Float64Array {
  if (!(customers instanceof CustomerColumns)) return numericValues(customers, field);
  customers.copyNumeric(field, into, 0, 1);
  return into;
}

/**
 * What profileSegments learns of each field while its values are at hand, kept for the deviations,
 * the warnings and the report that ask again: per customers (which do not change once read, see
 * columnsOf) and per labels (which do not change once fitted).
 */
interface Remembered {
  readonly overall: Partial<Record<string, MeanStd>>;
  /** every customer's value in ascending order, when counted (a few counters, not a copy) */
  readonly ascending: Partial<Record<string, Ascending>>;
  readonly segments: WeakMap<Int32Array, { readonly k: number; readonly totals: Partial<Record<string, FieldTotals>> }>;
}
const remembered = new WeakMap<Customers, Remembered>();

function rememberedFor(customers: Customers): Remembered {
  let memo = remembered.get(customers);
  if (memo === undefined) remembered.set(customers, (memo = { overall: {}, ascending: {}, segments: new WeakMap() }));
  return memo;
}

function remember(customers: Customers, labels: Int32Array, k: number, field: string, totals: FieldTotals): FieldTotals {
  const memo = rememberedFor(customers);
  memo.overall[field] = { mean: totals.mean, std: totals.std };
  let bySegment = memo.segments.get(labels);
  if (bySegment?.k !== k) memo.segments.set(labels, (bySegment = { k, totals: {} }));
  bySegment.totals[field] = totals;
  return totals;
}

/**
 * Mean and population standard deviation of a numeric field over all the customers, as meanStd
 * gives them (remembered, see Remembered).
 */
export function fieldMeanStd(
  customers: Customers,
  field: string,
  /** where to put the values when they must be read (as fieldValues's `into`) */
  buffer?: Float64Array,
): MeanStd {
  const memo = rememberedFor(customers);
  return (memo.overall[field] ??= meanStd(fieldValues(customers, field, buffer ?? new Float64Array(customers.length))));
}

/**
 * Every customer's value of a numeric field in ascending order: remembered when profileSegments
 * counted it, else read into the buffer `into()` gives and put in order there (so valid until the
 * buffer is used again), counted ones remembered.
 */
export function fieldAscending(customers: Customers, field: string, into: () => Float64Array): Ascending {
  const memo = rememberedFor(customers);
  const known = memo.ascending[field];
  if (known !== undefined) return known;
  const values = fieldValues(customers, field, into());
  const counted = countWholeNumbers(values, null, 1);
  if (counted === null) return ascendingInPlace(values);
  return (memo.ascending[field] = counted.all!);
}

/** η² of a numeric field for the given labels, as etaSquared gives it (remembered, see Remembered). */
export function fieldEtaSquared(
  customers: Customers,
  labels: Int32Array,
  k: number,
  field: string,
  /** where to put the values when they must be read (as fieldValues's `into`) */
  buffer?: Float64Array,
): number {
  const known = rememberedFor(customers).segments.get(labels);
  const totals =
    (known?.k === k ? known.totals[field] : undefined) ??
    remember(customers, labels, k, field, totalsOf(fieldValues(customers, field, buffer ?? new Float64Array(customers.length)), labels, k));
  return etaOf(totals, customers.length);
}

/** Warnings when one feature alone determines the segments. */
export function dominanceWarnings(
  customers: Customers,
  labels: Int32Array,
  profiles: readonly Pick<SegmentProfile, 'categories'>[],
  features: readonly FeatureSpec[],
): string[] {
  const k = profiles.length;
  const eta = (f: FeatureSpec): number => (k >= 2 ? fieldEtaSquared(customers, labels, k, f.name) : 0);
  return dominanceWarningsOf(
    profiles,
    Object.fromEntries(features.filter((f) => f.kind === 'numeric').map((f) => [f.name, eta(f)])),
    features,
  );
}

/**
 * dominanceWarnings from the profiles' category shares and each used numeric feature's η²:
 * training from the table has η² from the database's sums (table-model.ts).
 */
export function dominanceWarningsOf(
  profiles: readonly Pick<SegmentProfile, 'categories'>[],
  etaSquaredOf: Readonly<Record<string, number>>,
  features: readonly FeatureSpec[],
): string[] {
  const warnings: string[] = [];
  const k = profiles.length;
  if (k < 2) return warnings;
  for (const f of features) {
    if (f.kind !== 'categorical') continue;
    const majority = profiles.map(
      (p): [string, number] => Object.entries(p.categories[f.name] ?? {}).sort((a, b) => b[1] - a[1])[0] ?? ['', 0],
    );
    const pure = majority.filter(([, share]) => share >= DOMINANT_SHARE).length;
    const distinctMajorities = new Set(majority.map(([g]) => g)).size;
    if (pure === k && distinctMajorities > 1) {
      const exact = majority.filter(([, share]) => share === 1).length;
      warnings.push(
        `${f.name} alone splits the customers: every segment is at least ${DOMINANT_SHARE * 100} % one ${f.name}` +
          ` (${exact} of ${k} are 100 %), so the segments say little beyond ${f.name}; reweight it (--weight ${f.name}=0.5) or drop it (--exclude ${f.name})`,
      );
    }
  }
  const eta = features.filter((f) => f.kind === 'numeric').map((f) => ({ f: f.name, eta: etaSquaredOf[f.name] ?? 0 }));
  const dominant = eta.filter((e) => e.eta >= NUMERIC_DOMINANT_ETA2);
  if (eta.length > 1 && dominant.length === 1 && eta.every((e) => e === dominant[0] || e.eta < NUMERIC_OTHERS_ETA2)) {
    const { f, eta: value } = dominant[0]!;
    warnings.push(
      `${f} alone splits the customers: it explains ${(value * 100).toFixed(0)} % of its variance across segments while no other feature explains half of its own; reweight or drop it`,
    );
  }
  return warnings;
}

/**
 * Profiles every segment from the customers, their labels and their distances to the centroid.
 * Segment ids are the label values 0..k−1. Each column is put in order once for all segments
 * (counted or radix-sorted, see stats.ts), with the figures a sort of each segment's copy gives.
 */
export function profileSegments(
  customers: Customers,
  labels: Int32Array,
  distances: Float64Array,
  k: number,
): Omit<SegmentProfile, 'name'>[] {
  const n = labels.length;
  const buffer = new Float64Array(n);
  const columns = columnsOf(customers);
  const numeric = columns.schema.features.filter((f) => f.kind === 'numeric').map((f) => f.name);
  const stats = numeric.map((f) => {
    const values = fieldValues(customers, f, buffer);
    remember(customers, labels, k, f, totalsOf(values, labels, k));
    const { byGroup, all } = ascendingByGroup(values, labels, k);
    if (all !== null) rememberedFor(customers).ascending[f] = all;
    return byGroup;
  });
  const memberDistances = sortedByGroup(distances, labels, k, buffer);
  const categorical = columns.schema.features.filter((f) => f.kind === 'categorical');
  const counts = categorical.map((f) => categoryCounts(columns, f.name, labels, k));
  const empty = sortedAscending(new Float64Array(0));
  return memberDistances.map((dist, id) => {
    const size = dist.length;
    let sum = 0;
    for (let i = 0; i < dist.length; i++) sum += dist[i]!;
    return {
      id,
      size,
      share: size / customers.length,
      categories: Object.fromEntries(categorical.map((f, c) => [f.name, counts[c]!.shares(id, size)])),
      stats: Object.fromEntries(numeric.map((f, j) => [f, summarizeAscending(size > 0 ? stats[j]![id]! : empty)])),
      distance: {
        mean: sum / dist.length,
        median: quantileSorted(dist, 0.5),
        p90: quantileSorted(dist, 0.9),
        p99: quantileSorted(dist, OUTLIER_PERCENTILE),
        max: dist[dist.length - 1]!,
      },
      outlierThreshold: quantileSorted(dist, OUTLIER_PERCENTILE),
    };
  });
}

/**
 * How many of each segment's customers have each value of a categorical feature; `shares` gives a
 * segment's shares of the values: every listed one, a learned one when some customer has it.
 */
function categoryCounts(columns: CustomerColumns, name: string, labels: Int32Array, k: number) {
  const values = columns.categories(name);
  const codes = columns.codes(name);
  const v = values.length;
  const counts = new Int32Array(k * v);
  const seen = new Int32Array(v);
  for (let i = 0; i < labels.length; i++) {
    counts[labels[i]! * v + codes[i]!]!++;
    seen[codes[i]!]!++;
  }
  const rule = columns.header.rules[columns.position(name)]!;
  const learned = rule.kind === 'categorical' && rule.categories.learned;
  const shown = values.flatMap((value, code) => (learned && seen[code] === 0 ? [] : [[value, code] as const]));
  return { shares: (id: number, size: number) => Object.fromEntries(shown.map(([value, code]) => [value, counts[id * v + code]! / size])) };
}

/** Deviations of each segment's means from the population, in population standard deviations. */
export function segmentDeviations(customers: Customers, profiles: readonly Pick<SegmentProfile, 'stats'>[]): Deviations[] {
  const buffer = new Float64Array(customers.length);
  const numeric = columnsOf(customers)
    .schema.features.filter((f) => f.kind === 'numeric')
    .map((f) => f.name);
  const overall = Object.fromEntries(numeric.map((f) => [f, fieldMeanStd(customers, f, buffer)]));
  return profiles.map((p) =>
    Object.fromEntries(
      numeric.map((f) => {
        const { mean, std } = overall[f]!;
        return [f, std > 0 ? (p.stats[f]!.mean - mean) / std : 0];
      }),
    ),
  );
}
