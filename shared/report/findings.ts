// Findings: three to five plain-language observations computed from the model and its training
// customers, each with the numbers behind it — the sentences an analyst would otherwise write.

import type { Customers } from '../csv/columns.ts';
import { NUMERIC_FIELDS, type NumericField } from '../csv/contract.ts';
import type { Model } from '../model/artifact.ts';
import { numericColumns, type NumericColumns } from '../model/assign.ts';
import { fieldMeanStd } from '../profile/profile.ts';
import { quantiles } from './analysis.ts';
import { formatInt, formatNumber, formatPercent } from './format.ts';

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
  const women = model.segments[0]!.categories.gender!.Female ?? 0;
  return {
    id: 'single-segment',
    text:
      `With one segment there is nothing to compare: the average customer is ${num(overall.age.mean)} years old, earns ${num(overall.annual_income_thousands.mean)} k$ a year` +
      ` and has a spending score of ${num(overall.spending_score.mean)}; ${formatPercent(women)} are women.`,
    numbers: { age: overall.age.mean, income: overall.annual_income_thousands.mean, spending: overall.spending_score.mean, women },
  };
}

/** Share of a field's variance explained by the segments (η²), for every numeric field. */
function explainedByField(customers: Customers, values: NumericColumns, labels: Int32Array, k: number): Record<NumericField, number> {
  const out = {} as Record<NumericField, number>;
  for (const f of NUMERIC_FIELDS) out[f] = etaSquaredOf(values[f]!, labels, k, fieldMeanStd(customers, f, values[f]!));
  return out;
}

/** η² as profile's etaSquared computes it, from the field's mean and deviation (known already). */
function etaSquaredOf(values: Float64Array, labels: Int32Array, k: number, { mean, std }: { mean: number; std: number }): number {
  if (std === 0) return 0;
  const sums = new Float64Array(k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < values.length; i++) {
    sums[labels[i]!]! += values[i]!;
    sizes[labels[i]!]!++;
  }
  let between = 0;
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) between += sizes[c]! * (sums[c]! / sizes[c]! - mean) ** 2;
  return between / (values.length * std * std);
}

function dominantFinding(customers: Customers, values: NumericColumns, labels: Int32Array, k: number): Finding {
  const eta = explainedByField(customers, values, labels, k);
  const ranked = [...NUMERIC_FIELDS].sort((a, b) => eta[b] - eta[a]);
  const top = ranked[0]!;
  const others = ranked
    .slice(1)
    .map((f) => `${FIELD_WORDS[f].name} ${formatPercent(eta[f])}`)
    .join(', ');
  return {
    id: 'dominant-feature',
    text:
      `${capitalise(FIELD_WORDS[top].name)} separates the segments most: the segments explain ${formatPercent(eta[top])} of its variance (${others}).` +
      (eta[top] >= 0.9 && ranked.slice(1).every((f) => eta[f] < 0.5) ? ` It alone nearly determines the segments.` : ''),
    numbers: Object.fromEntries(NUMERIC_FIELDS.map((f) => [`eta2.${f}`, eta[f]])),
  };
}

/**
 * The report's findings, in reading order: who spends least and why, low- vs high-spending
 * segments by age, the age-and-income test, the largest segment, the dominant field (with one
 * segment: the average customer, the age-and-income test, the segment).
 * `labels` are the training customers' segments; `values` their numeric fields, when the caller
 * already holds them.
 */
export function computeFindings(
  model: Model,
  customers: Customers,
  labels: Int32Array,
  values: NumericColumns = numericColumns(customers),
): Finding[] {
  const n = model.segments.reduce((s, g) => s + g.size, 0);
  const overall = Object.fromEntries(
    NUMERIC_FIELDS.map((f) => {
      const mean = model.segments.reduce((s, g) => s + g.size * g.stats[f]!.mean, 0) / n;
      // training has usually measured it already; if not, reading the field into values[f]! rewrites the same values
      return [f, { mean, std: fieldMeanStd(customers, f, values[f]!).std }];
    }),
  ) as Record<NumericField, { mean: number; std: number }>;
  const findings: Finding[] = [];
  if (model.segments.length === 1) findings.push(singleSegmentFinding(model, overall));
  else {
    findings.push(lowestSpendingFinding(model, overall));
    const groups = spendingGroupsFinding(model, overall.spending_score.mean);
    if (groups) findings.push(groups);
  }
  findings.push(ageIncomeFinding(customers, values));
  findings.push(largestFinding(model));
  if (model.segments.length > 1) findings.push(dominantFinding(customers, values, labels, model.k));
  return findings;
}
