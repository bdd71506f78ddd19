// Findings: three to five plain-language observations computed from the model and its training
// customers, each with the numbers behind it — the sentences an analyst would otherwise write.
// A schema with the mall's numeric features gets the mall's findings (who spends least, the
// age-and-income test); any other schema the same kinds of observation in its own labels: what
// sets segments apart, segments made of one category, the largest segment, the dominant feature.

import { columnsOf, type CustomerColumns, type Customers } from '../csv/columns.ts';
import { NUMERIC_FIELDS, type NumericField } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import { numericColumns, type NumericColumns } from '../model/assign.ts';
import { fieldEtaSquared, fieldMeanStd } from '../profile/profile.ts';
import type { CustomerSchema } from '../schema/customer-schema.ts';
import { quantiles } from './analysis.ts';
import { formatAmount, formatInt, formatNumber, formatPercent } from './format.ts';
import { categoricalViews, isMallShaped, numericViews, reportSchema, type NumericView } from './schema-view.ts';

export interface Finding {
  /** Stable identifier, e.g. `lowest-spending`. */
  readonly id: string;
  /** The observation as plain text (escaped when rendered). */
  readonly text: string;
  /** The numbers behind the sentence, unrounded. */
  readonly numbers: Readonly<Record<string, number>>;
}

/** How older and younger customers spend within one income tier. */
export interface IncomeTier {
  readonly label: 'lower' | 'middle' | 'upper';
  /** Incomes in the tier are in (low, high]; the lower tier includes its low end. */
  readonly low: number;
  readonly high: number;
  readonly older: { readonly count: number; readonly meanSpending: number };
  readonly younger: { readonly count: number; readonly meanSpending: number };
}

export interface AgeIncomeTest {
  readonly medianAge: number;
  readonly tiers: readonly IncomeTier[];
  /** Per tier: true when older customers spend less, false when not, null when not comparable. */
  readonly olderSpendLess: readonly (boolean | null)[];
}

const FIELD_WORDS: Record<NumericField, { name: string; unit: string }> = {
  age: { name: 'age', unit: ' years' },
  annual_income_thousands: { name: 'annual income', unit: ' k$' },
  spending_score: { name: 'spending score', unit: '' },
};
const TIER_LABELS = ['lower', 'middle', 'upper'] as const;
const DECIMALS = 1;

const num = (v: number): string => formatNumber(v, DECIMALS);
const segmentRef = (s: { id: number; name: string }): string => `segment ${s.id} ("${s.name}")`;
const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Tests "older customers spend less at every income level": incomes split into terciles, ages
 * split at the median (older = above it), mean spending score compared within each tercile.
 */
export function ageIncomeTest(customers: Customers, values: NumericColumns = numericColumns(customers)): AgeIncomeTest {
  const ages = values.age!;
  const incomes = values.annual_income_thousands!;
  const spending = values.spending_score!;
  // quantiles by selection, not a sort: the same numbers, a fraction of the time on a million rows
  const [medianAge] = quantiles(ages, [0.5]) as [number];
  const [lowest, cut1, cut2, highest] = quantiles(incomes, [0, 1 / 3, 2 / 3, 1]) as [number, number, number, number];
  const cuts = [cut1, cut2] as const;
  const sums = Array.from({ length: 3 }, () => ({ older: 0, olderN: 0, younger: 0, youngerN: 0 }));
  for (let i = 0; i < incomes.length; i++) {
    const income = incomes[i]!;
    const tier = income <= cuts[0] ? 0 : income <= cuts[1] ? 1 : 2;
    const s = sums[tier]!;
    if (ages[i]! > medianAge) {
      s.older += spending[i]!;
      s.olderN++;
    } else {
      s.younger += spending[i]!;
      s.youngerN++;
    }
  }
  const empty = incomes.length === 0;
  const bounds = [empty ? 0 : lowest, cuts[0], cuts[1], empty ? 0 : highest];
  const tiers = sums.map((s, t) => ({
    label: TIER_LABELS[t]!,
    low: bounds[t]!,
    high: bounds[t + 1]!,
    older: { count: s.olderN, meanSpending: s.olderN > 0 ? s.older / s.olderN : Number.NaN },
    younger: { count: s.youngerN, meanSpending: s.youngerN > 0 ? s.younger / s.youngerN : Number.NaN },
  }));
  return {
    medianAge,
    tiers,
    olderSpendLess: tiers.map((t) => (t.older.count > 0 && t.younger.count > 0 ? t.older.meanSpending < t.younger.meanSpending : null)),
  };
}

function ageIncomeFinding(customers: Customers, values: NumericColumns): Finding {
  const test = ageIncomeTest(customers, values);
  const numbers: Record<string, number> = { medianAge: test.medianAge };
  const parts = test.tiers.map((t) => {
    numbers[`${t.label}.older`] = t.older.meanSpending;
    numbers[`${t.label}.younger`] = t.younger.meanSpending;
    numbers[`${t.label}.high`] = t.high;
    const range =
      t.label === 'lower' ? `up to ${num(t.high)} k$` : t.label === 'upper' ? `above ${num(t.low)} k$` : `${num(t.low)}–${num(t.high)} k$`;
    const compared =
      t.older.count > 0 && t.younger.count > 0
        ? `${num(t.older.meanSpending)} vs ${num(t.younger.meanSpending)}`
        : 'not comparable (one age group is empty)';
    return `${t.label} incomes (${range}): ${compared}`;
  });
  const verdicts = test.olderSpendLess;
  const less = verdicts.filter((v) => v === true).length;
  const more = verdicts.filter((v) => v === false).length;
  let lead: string;
  if (less === TIER_LABELS.length) lead = 'Older customers spend less at every income level';
  else if (more === TIER_LABELS.length) lead = 'Older customers do not spend less: they spend more at every income level';
  else {
    const where = (wanted: boolean): string =>
      test.tiers
        .filter((_, t) => verdicts[t] === wanted)
        .map((t) => t.label)
        .join(' and ');
    lead =
      `Older customers do not spend less at every income level: they spend less at ${less > 0 ? `${where(true)} incomes` : 'no income level'}` +
      (more > 0 ? ` but not at ${where(false)} incomes` : '') +
      (less + more < TIER_LABELS.length ? '; one tier cannot be compared' : '');
  }
  numbers.tiersWhereOlderSpendLess = less;
  return {
    id: 'age-within-income',
    text: `${lead}. Mean spending score of customers older than the median age (${num(test.medianAge)} years) vs the rest, within each third of annual income: ${parts.join('; ')}.`,
    numbers,
  };
}

function lowestSpendingFinding(model: Model, overall: Record<NumericField, { mean: number; std: number }>): Finding {
  const segments = model.segments;
  const lowest = segments.reduce((a, b) => (b.stats.spending_score!.mean < a.stats.spending_score!.mean ? b : a));
  const apart = (['age', 'annual_income_thousands'] as const)
    .map((f) => ({ f, z: overall[f].std > 0 ? (lowest.stats[f]!.mean - overall[f].mean) / overall[f].std : 0 }))
    .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))[0]!;
  const words = FIELD_WORDS[apart.f];
  const direction = apart.z >= 0 ? 'above' : 'below';
  return {
    id: 'lowest-spending',
    text:
      `${capitalise(segmentRef(lowest))} spends least: mean spending score ${num(lowest.stats.spending_score!.mean)} against ${num(overall.spending_score.mean)} overall` +
      ` (${formatInt(lowest.size)} customers, ${formatPercent(lowest.share)}). What sets it apart most is ${words.name}: mean ${num(lowest.stats[apart.f]!.mean)}${words.unit}` +
      ` against ${num(overall[apart.f].mean)}${words.unit} overall, ${num(Math.abs(apart.z))} standard deviations ${direction}.`,
    numbers: {
      segment: lowest.id,
      meanSpending: lowest.stats.spending_score!.mean,
      overallSpending: overall.spending_score.mean,
      [`mean.${apart.f}`]: lowest.stats[apart.f]!.mean,
      [`overall.${apart.f}`]: overall[apart.f].mean,
      deviation: apart.z,
    },
  };
}

function spendingGroupsFinding(model: Model, overallSpending: number): Finding | undefined {
  const low = model.segments.filter((s) => s.stats.spending_score!.mean < overallSpending);
  const high = model.segments.filter((s) => s.stats.spending_score!.mean >= overallSpending);
  if (low.length === 0 || high.length === 0) return undefined;
  const weighted = (group: typeof low, f: NumericField): number =>
    group.reduce((s, g) => s + g.size * g.stats[f]!.mean, 0) / group.reduce((s, g) => s + g.size, 0);
  const ageLow = weighted(low, 'age');
  const ageHigh = weighted(high, 'age');
  const incomeLow = weighted(low, 'annual_income_thousands');
  const incomeHigh = weighted(high, 'annual_income_thousands');
  const ids = (group: typeof low): string => group.map((s) => s.id).join(', ');
  const share = (group: typeof low): number => group.reduce((s, g) => s + g.share, 0);
  const older = ageLow > ageHigh ? 'older' : ageLow < ageHigh ? 'younger' : 'the same age';
  return {
    id: 'spending-groups',
    text:
      `Customers in the segments that spend below average (${ids(low)}; ${formatPercent(share(low))} of customers) are ${older} than those in the segments that spend above average (${ids(high)}):` +
      ` mean age ${num(ageLow)} vs ${num(ageHigh)} years; mean annual income ${num(incomeLow)} vs ${num(incomeHigh)} k$.`,
    numbers: { ageLow, ageHigh, incomeLow, incomeHigh, shareLow: share(low) },
  };
}

function largestFinding(model: Model): Finding {
  const bySize = [...model.segments].sort((a, b) => b.size - a.size || a.id - b.id);
  const largest = bySize[0]!;
  const smallest = bySize[bySize.length - 1]!;
  const text =
    bySize.length === 1
      ? `All ${formatInt(largest.size)} customers are in one segment ("${largest.name}").`
      : `The largest segment is ${segmentRef(largest)}: ${formatInt(largest.size)} customers, ${formatPercent(largest.share)} of all;` +
        ` the smallest is ${segmentRef(smallest)} with ${formatInt(smallest.size)} (${formatPercent(smallest.share)}).`;
  return {
    id: 'largest',
    text,
    numbers: {
      largest: largest.id,
      largestSize: largest.size,
      largestShare: largest.share,
      smallest: smallest.id,
      smallestSize: smallest.size,
    },
  };
}

function singleSegmentFinding(model: Model, overall: Record<NumericField, { mean: number }>): Finding {
  const gender = model.segments[0]!.categories.gender;
  const women = gender?.Female ?? 0;
  return {
    id: 'single-segment',
    text:
      `With one segment there is nothing to compare: the average customer is ${num(overall.age.mean)} years old, earns ${num(overall.annual_income_thousands.mean)} k$ a year` +
      ` and has a spending score of ${num(overall.spending_score.mean)}` +
      (gender === undefined ? '.' : `; ${formatPercent(women)} are women.`),
    numbers: { age: overall.age.mean, income: overall.annual_income_thousands.mean, spending: overall.spending_score.mean, women },
  };
}

/**
 * Share of each numeric feature's variance explained by the model's segments (η²), in raw units (a
 * log1p feature's values as the file gives them): the dominant-feature finding's numbers, and the
 * report's choice of the box chart's feature. `values` holds each feature's values in customer
 * order, `labels` each customer's segment (an index into the model's arrays).
 */
export function explainedVariance(
  model: Model,
  customers: CustomerColumns,
  labels: Int32Array,
  values: NumericColumns,
  numeric: readonly NumericView[],
): Record<string, number> {
  const out: Record<string, number> = {};
  // profile remembers each field's per-segment totals for these labels: the second call (box chart, finding) is free
  for (const { name } of numeric) out[name] = fieldEtaSquared(customers, labels, model.k, name, values[name]!);
  return out;
}

/** The feature the segments explain most of, with every feature's η² (mall or any other schema). */
function dominantFinding(
  model: Model,
  customers: CustomerColumns,
  labels: Int32Array,
  values: NumericColumns,
  numeric: readonly NumericView[],
): Finding {
  const eta = explainedVariance(model, customers, labels, values, numeric);
  const ranked = [...numeric].sort((a, b) => eta[b.name]! - eta[a.name]!);
  const top = ranked[0]!;
  const others = ranked
    .slice(1)
    .map((f) => `${f.words} ${formatPercent(eta[f.name])}`)
    .join(', ');
  return {
    id: 'dominant-feature',
    text:
      `${capitalise(top.words)} separates the segments most: the segments explain ${formatPercent(eta[top.name])} of its variance` +
      (others === '' ? '.' : ` (${others}).`) +
      (ranked.length > 1 && eta[top.name]! >= 0.9 && ranked.slice(1).every((f) => eta[f.name]! < 0.5)
        ? ` It alone nearly determines the segments.`
        : ''),
    numbers: Object.fromEntries(numeric.map((f) => [`eta2.${f.name}`, eta[f.name]!])),
  };
}

/** The mall's findings (see computeFindings). */
function mallFindings(
  model: Model,
  customers: CustomerColumns,
  labels: Int32Array,
  values: NumericColumns,
  numeric: readonly NumericView[],
  everyone: Overall,
): Finding[] {
  const overall = everyone as Record<NumericField, { mean: number; std: number }>;
  const findings: Finding[] = [];
  if (model.segments.length === 1) findings.push(singleSegmentFinding(model, overall));
  else {
    findings.push(lowestSpendingFinding(model, overall));
    const groups = spendingGroupsFinding(model, overall.spending_score.mean);
    if (groups) findings.push(groups);
  }
  findings.push(ageIncomeFinding(customers, values));
  findings.push(largestFinding(model));
  if (model.segments.length > 1) {
    findings.push(dominantFinding(model, customers, labels, values, numeric));
  }
  return findings;
}

/** Segments whose features stand out this far (in standard deviations) are described. */
const STANDS_OUT = 0.5;
/** At most this many segments are described, and this many features of each. */
const SEGMENTS_DESCRIBED = 2;
const FEATURES_PER_SEGMENT = 2;
/** A segment with at least this share of one value of a categorical feature is said to be that value. */
const ONE_VALUE_SHARE = 0.9;

type Overall = Readonly<Record<string, { readonly mean: number; readonly std: number }>>;

/**
 * Every numeric feature's mean and standard deviation over all training customers: means of the
 * raw values (a log1p feature's money, not its logs) from the profiles, deviations from the values
 * (training has usually measured them already; if not, reading a field rewrites the same values).
 */
function overallOf(model: Model, customers: CustomerColumns, values: NumericColumns, numeric: readonly NumericView[]): Overall {
  const n = model.segments.reduce((s, g) => s + g.size, 0);
  return Object.fromEntries(
    numeric.map((f) => {
      const mean = model.segments.reduce((s, g) => s + g.size * g.stats[f.name]!.mean, 0) / n;
      return [f.name, { mean, std: fieldMeanStd(customers, f.name, values[f.name]!).std }];
    }),
  );
}

/** A value in a feature's units, in a sentence: `12,345.6 €`, `45.0 days`. */
const amount = (f: NumericView, value: number): string => `${formatAmount(value, DECIMALS)}${f.unitSuffix}`;

/** How the most distinct segments differ from everyone, feature by feature (in raw units). */
function standsOutFindings(model: Model, numeric: readonly NumericView[], overall: Overall): Finding[] {
  const deviations = model.segments.map((s) =>
    numeric
      .map((f) => {
        const { mean, std } = overall[f.name]!;
        return { f, z: std > 0 ? (s.stats[f.name]!.mean - mean) / std : 0 };
      })
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z)),
  );
  const ranked = model.segments
    .map((s, c) => ({ s, apart: deviations[c]! }))
    .sort((a, b) => Math.abs(b.apart[0]!.z) - Math.abs(a.apart[0]!.z) || a.s.id - b.s.id);
  const standing = ranked.filter((r) => Math.abs(r.apart[0]!.z) >= STANDS_OUT).slice(0, SEGMENTS_DESCRIBED);
  // the most distinct segment is described even when no segment stands out much
  return (standing.length > 0 ? standing : ranked.slice(0, 1)).map(({ s, apart }) => {
    const shown = apart.filter((a, i) => i === 0 || Math.abs(a.z) >= STANDS_OUT).slice(0, FEATURES_PER_SEGMENT);
    const numbers: Record<string, number> = { segment: s.id, size: s.size, share: s.share };
    const parts = shown.map(({ f, z }) => {
      numbers[`mean.${f.name}`] = s.stats[f.name]!.mean;
      numbers[`overall.${f.name}`] = overall[f.name]!.mean;
      numbers[`deviation.${f.name}`] = z;
      return (
        `${f.words}: mean ${amount(f, s.stats[f.name]!.mean)} against ${amount(f, overall[f.name]!.mean)} overall, ` +
        `${num(Math.abs(z))} standard deviations ${z >= 0 ? 'above' : 'below'}`
      );
    });
    return {
      id: `stands-out-${s.id}`,
      text:
        `${capitalise(segmentRef(s))} (${formatInt(s.size)} customers, ${formatPercent(s.share)}) is set apart most by ${parts[0]}` +
        (parts.length > 1 ? `; then by ${parts.slice(1).join('; ')}` : '') +
        '.',
      numbers,
    };
  });
}

/** Each value's share of all customers, from the segments' shares. */
function overallShares(model: Model, feature: string): Record<string, number> {
  const n = model.segments.reduce((s, g) => s + g.size, 0);
  const out: Record<string, number> = {};
  for (const s of model.segments) {
    for (const [value, share] of Object.entries(s.categories[feature] ?? {})) out[value] = (out[value] ?? 0) + (s.size * share) / n;
  }
  return out;
}

/**
 * Segments that are (almost) all one value of a categorical feature: per feature, one sentence
 * naming such segments by id with their share, by value, and the values' shares of all customers.
 */
function oneValueFinding(model: Model, schema: CustomerSchema): Finding | undefined {
  const numbers: Record<string, number> = {};
  const byId = [...model.segments].sort((a, b) => a.id - b.id);
  const sentences = categoricalViews(schema).flatMap((f) => {
    const overall = overallShares(model, f.name);
    const pairs = byId.flatMap((s) => {
      const top = Object.entries(s.categories[f.name] ?? {}).sort((a, b) => b[1] - a[1])[0];
      return top !== undefined && top[1] >= ONE_VALUE_SHARE ? [{ s, value: top[0], share: top[1] }] : [];
    });
    if (pairs.length === 0) return [];
    pairs.sort((a, b) => b.share - a.share || a.s.id - b.s.id);
    const values = [...new Set(pairs.map((p) => p.value))];
    for (const p of pairs) numbers[`share.${p.s.id}.${f.name}`] = p.share;
    for (const v of values) numbers[`overall.${f.name}.${v}`] = overall[v] ?? 0;
    const groups = values.map((v) => {
      const of = pairs.filter((p) => p.value === v);
      return of.length === 1
        ? `segment ${of[0]!.s.id} is ${formatPercent(of[0]!.share)} ${v}`
        : `segments ${listed(of.map((p) => `${p.s.id} (${formatPercent(p.share)})`))} are ${v}`;
    });
    const all = values.map((v, i) => `${formatPercent(overall[v] ?? 0)} ${i === 0 ? 'are ' : ''}${v}`);
    return [`${capitalise(f.words)}: ${groups.join('; ')} (of all customers, ${listed(all)}).`];
  });
  if (sentences.length === 0) return undefined;
  return { id: 'one-value', text: sentences.join(' '), numbers };
}

/** `a`, `a and b`, `a, b and c`. */
const listed = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;

/** With one segment: the average customer, and each categorical feature's most common value. */
function singleSegmentGeneric(model: Model, schema: CustomerSchema, numeric: readonly NumericView[], overall: Overall): Finding[] {
  const findings: Finding[] = [];
  if (numeric.length > 0) {
    findings.push({
      id: 'single-segment',
      text:
        `With one segment there is nothing to compare. The average customer: ` +
        `${numeric.map((f) => `${f.words} ${amount(f, overall[f.name]!.mean)}`).join(', ')}.`,
      numbers: Object.fromEntries(numeric.map((f) => [`mean.${f.name}`, overall[f.name]!.mean])),
    });
  }
  const segment = model.segments[0]!;
  const common = categoricalViews(schema).flatMap((f) => {
    const top = Object.entries(segment.categories[f.name] ?? {}).sort((a, b) => b[1] - a[1])[0];
    return top === undefined ? [] : [{ f, value: top[0], share: top[1] }];
  });
  if (common.length > 0) {
    findings.push({
      id: 'most-common',
      text: `Most common values: ${common.map((c) => `${c.f.words} ${c.value} (${formatPercent(c.share)})`).join(', ')}.`,
      numbers: Object.fromEntries(common.map((c) => [`share.${c.f.name}.${c.value}`, c.share])),
    });
  }
  return findings;
}

/** Any other schema's findings (see computeFindings). */
function schemaFindings(
  model: Model,
  schema: CustomerSchema,
  customers: CustomerColumns,
  labels: Int32Array,
  values: NumericColumns,
  numeric: readonly NumericView[],
  overall: Overall,
): Finding[] {
  if (model.segments.length === 1) return [...singleSegmentGeneric(model, schema, numeric, overall), largestFinding(model)];
  const findings: Finding[] = numeric.length > 0 ? standsOutFindings(model, numeric, overall) : [];
  const oneValue = oneValueFinding(model, schema);
  if (oneValue) findings.push(oneValue);
  findings.push(largestFinding(model));
  if (numeric.length > 0) {
    findings.push(dominantFinding(model, customers, labels, values, numeric));
  }
  return findings;
}

/**
 * The report's findings, in reading order. For a schema with the mall's numeric features: who
 * spends least and why, low- vs high-spending segments by age, the age-and-income test, the
 * largest segment, the dominant field (with one segment: the average customer, the age-and-income
 * test, the segment). For any other schema: the segments that stand out most and the features that
 * set them apart, segments (almost) all one category, the largest segment, the dominant feature
 * (with one segment: the average customer, the most common values, the segment).
 * `labels` are the training customers' segments; `values` their numeric features, when the caller
 * already holds them.
 */
export function computeFindings(model: Model, customers: Customers, labels: Int32Array, values?: NumericColumns): Finding[] {
  const schema = reportSchema(model, customers);
  const columns = columnsOf(customers, schema);
  const numeric = numericViews(schema);
  const held = values ?? numericColumns(columns);
  const overall = overallOf(model, columns, held, numeric);
  return isMallShaped(schema)
    ? mallFindings(model, columns, labels, held, numeric, overall)
    : schemaFindings(model, schema, columns, labels, held, numeric, overall);
}
