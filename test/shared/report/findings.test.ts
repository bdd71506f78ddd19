// Findings: hand-checkable customers whose answers are worked out in the comments, the mall's
// and another schema's.

import { describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { etaSquared, profileSegments } from '../../../shared/profile/profile.ts';
import { numericValues } from '../../../shared/features/spec.ts';
import { NUMERIC_FIELDS } from '../../../shared/csv/contract.ts';
import { ageIncomeTest, computeFindings } from '../../../shared/report/findings.ts';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';

type Row = readonly [age: number, income: number, spending: number, segment: number];

// Incomes fall into clean thirds (10–12, 50–52, 90–92); the median age is 40, so "older" means 41+.
// Within each third, the older customers spend less: lower 20 vs 75, middle 30 vs 55, upper 25 vs 90.
const ROWS: readonly Row[] = [
  [20, 10, 80, 0],
  [30, 11, 70, 0],
  [60, 12, 20, 2],
  [22, 50, 60, 0],
  [40, 51, 50, 1],
  [65, 52, 30, 2],
  [25, 90, 90, 0],
  [41, 91, 40, 1],
  [70, 92, 10, 2],
];

function customersOf(rows: readonly Row[]): Customer[] {
  return rows.map(([age, annual_income_thousands, spending_score], i) => ({
    customerId: String(i + 1),
    gender: i % 2 === 0 ? 'Female' : 'Male',
    age,
    annual_income_thousands,
    spending_score,
  }));
}

/** The parts of a model the findings read, profiled by the real profile code. */
function modelOf(rows: readonly Row[], k: number): { model: Model; customers: Customer[]; labels: Int32Array } {
  const customers = customersOf(rows);
  const labels = Int32Array.from(rows, (r) => r[3]);
  const profiles = profileSegments(customers, labels, new Float64Array(rows.length), k);
  const model = { k, segments: profiles.map((p) => ({ ...p, name: `Segment name ${p.id}` })) } as unknown as Model;
  return { model, customers, labels };
}

const withSpending = (rows: readonly Row[], changes: Readonly<Record<number, number>>): Row[] =>
  rows.map((r, i) => (changes[i] === undefined ? r : [r[0], r[1], changes[i]!, r[3]]));

describe('ageIncomeTest', () => {
  it('splits income into terciles and age at the median, and compares mean spending within each tercile', () => {
    const test = ageIncomeTest(customersOf(ROWS));
    expect(test.medianAge).toBe(40);
    expect(test.tiers.map((t) => [t.older.count, t.younger.count])).toEqual([
      [1, 2],
      [1, 2],
      [2, 1],
    ]);
    expect(test.tiers.map((t) => [t.older.meanSpending, t.younger.meanSpending])).toEqual([
      [20, 75],
      [30, 55],
      [25, 90],
    ]);
    expect(test.olderSpendLess).toEqual([true, true, true]);
  });

  it('reports a tier as not comparable when one age group is empty there', () => {
    // everybody in the upper tier is young: ages 25, 26, 27 (median age becomes 30)
    const rows: Row[] = ROWS.map((r, i) => (i >= 6 ? [25 + i - 6, r[1], r[2], r[3]] : r));
    const test = ageIncomeTest(customersOf(rows));
    expect(test.olderSpendLess[2]).toBeNull();
  });
});

describe('computeFindings', () => {
  it('states that older customers spend less at every income level when the data says so, with the numbers', () => {
    const { model, customers, labels } = modelOf(ROWS, 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'age-within-income')!;
    expect(finding.text).toMatch(/^Older customers spend less at every income level\./);
    expect(finding.text).toContain('median age (40.0 years)');
    expect(finding.text).toContain('lower incomes (up to 37.3 k$): 20.0 vs 75.0');
    expect(finding.text).toContain('middle incomes (37.3–64.7 k$): 30.0 vs 55.0');
    expect(finding.text).toContain('upper incomes (above 64.7 k$): 25.0 vs 90.0');
    expect(finding.numbers).toMatchObject({ medianAge: 40, 'lower.older': 20, 'lower.younger': 75, tiersWhereOlderSpendLess: 3 });
  });

  it('says what is true instead when older customers spend more in one tier', () => {
    // upper tier: the 41- and 70-year-olds now spend 95 and 99 (mean 97) against 90 for the 25-year-old
    const { model, customers, labels } = modelOf(withSpending(ROWS, { 7: 95, 8: 99 }), 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'age-within-income')!;
    expect(finding.text).toMatch(
      /^Older customers do not spend less at every income level: they spend less at lower and middle incomes but not at upper incomes\./,
    );
    expect(finding.text).toContain('upper incomes (above 64.7 k$): 97.0 vs 90.0');
    expect(finding.numbers.tiersWhereOlderSpendLess).toBe(2);
  });

  it('says older customers spend more when they do at every income level', () => {
    const { model, customers, labels } = modelOf(withSpending(ROWS, { 0: 10, 1: 10, 2: 90, 3: 10, 4: 10, 5: 90, 6: 10, 7: 90, 8: 90 }), 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'age-within-income')!;
    expect(finding.text).toMatch(/^Older customers do not spend less: they spend more at every income level\./);
  });

  it('names the lowest-spending segment and the field that sets it apart most', () => {
    // segment 2 (ages 60, 65, 70) spends 20 on average against 50 overall; its mean age 65 is
    // (65 − 41.44) / 18.51 = 1.27 standard deviations above; its income (52 vs 51) barely differs
    const { model, customers, labels } = modelOf(ROWS, 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'lowest-spending')!;
    expect(finding.text).toMatch(
      /^Segment 2 \("Segment name 2"\) spends least: mean spending score 20\.0 against 50\.0 overall \(3 customers, 33\.3\u00a0%\)\./,
    );
    expect(finding.text).toContain(
      'What sets it apart most is age: mean 65.0 years against 41.4 years overall, 1.3 standard deviations above.',
    );
    expect(finding.numbers.segment).toBe(2);
    expect(finding.numbers.meanSpending).toBe(20);
    expect(finding.numbers.overallSpending).toBeCloseTo(50, 12);
    expect(finding.numbers.deviation).toBeCloseTo((65 - 373 / 9) / Math.sqrt(ROWS.reduce((s, r) => s + (r[0] - 373 / 9) ** 2, 0) / 9), 12);
  });

  it('compares the mean age of the segments that spend below and above average', () => {
    // below average: segments 1 and 2 (ages 40, 41, 60, 65, 70 → 55.2); above: segment 0 (20, 30, 22, 25 → 24.25)
    const { model, customers, labels } = modelOf(ROWS, 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'spending-groups')!;
    expect(finding.text).toMatch(
      /^Customers in the segments that spend below average \(1, 2; 55\.6\u00a0% of customers\) are older than those in the segments that spend above average \(0\): mean age 55\.2 vs 24\.3 years/,
    );
    expect(finding.numbers.ageLow).toBeCloseTo(55.2, 12);
    expect(finding.numbers.ageHigh).toBeCloseTo(24.25, 12);
  });

  it('names the largest and the smallest segment with sizes and shares', () => {
    const { model, customers, labels } = modelOf(ROWS, 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'largest')!;
    expect(finding.text).toBe(
      'The largest segment is segment 0 ("Segment name 0"): 4 customers, 44.4\u00a0% of all; the smallest is segment 1 ("Segment name 1") with 2 (22.2\u00a0%).',
    );
  });

  it('names the field the segments explain most (η²) with the others for comparison', () => {
    // spending: between 4·25² + 2·5² + 3·30² = 5250 of a total 6000 → 87.5 %
    // age: segment means 24.25, 40.5, 65 around 373/9; between ≈ 2849 of a total ≈ 2956 → 96.4 %
    const { model, customers, labels } = modelOf(ROWS, 3);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'dominant-feature')!;
    const mean = 373 / 9;
    const between = 4 * (24.25 - mean) ** 2 + 2 * (40.5 - mean) ** 2 + 3 * (65 - mean) ** 2;
    const total = ROWS.reduce((s, r) => s + (r[0] - mean) ** 2, 0);
    expect(finding.numbers['eta2.spending_score']).toBeCloseTo(0.875, 12);
    expect(finding.numbers['eta2.age']).toBeCloseTo(between / total, 12);
    expect(finding.text).toBe(
      'Age separates the segments most: the segments explain 96.4\u00a0% of its variance (spending score 87.5\u00a0%, annual income 13.2\u00a0%).',
    );
  });

  it('gives exactly profile’s η² for every field', () => {
    const rows: Row[] = Array.from({ length: 300 }, (_, i) => [
      18 + ((i * 37) % 53),
      15 + ((i * 13) % 101) / 4,
      1 + ((i * 29) % 99),
      (i * 7) % 4,
    ]);
    const { model, customers, labels } = modelOf(rows, 4);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'dominant-feature')!;
    for (const f of NUMERIC_FIELDS) expect(finding.numbers[`eta2.${f}`]).toBe(etaSquared(numericValues(customers, f), labels, 4));
  });

  it('says when one field alone nearly determines the segments', () => {
    // segments split on age only (between 2400 of a total 2404: 99.8 %); spending and income are
    // the same pattern in every segment (0 %)
    const rows: Row[] = [20, 21, 22, 60, 61, 62].map((age, i) => [age, 10 + (i % 3) * 40, 30 + (i % 3) * 20, age < 40 ? 0 : 1]);
    const { model, customers, labels } = modelOf(rows, 2);
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'dominant-feature')!;
    expect(finding.numbers['eta2.annual_income_thousands']).toBe(0);
    expect(finding.text).toMatch(
      /^Age separates the segments most: the segments explain 99\.8\u00a0% of its variance .* It alone nearly determines the segments\.$/,
    );
  });

  it('gives five findings in reading order for several segments, and three for one segment', () => {
    const several = modelOf(ROWS, 3);
    expect(computeFindings(several.model, several.customers, several.labels).map((f) => f.id)).toEqual([
      'lowest-spending',
      'spending-groups',
      'age-within-income',
      'largest',
      'dominant-feature',
    ]);
    const one = modelOf(
      ROWS.map((r) => [r[0], r[1], r[2], 0] as const),
      1,
    );
    const findings = computeFindings(one.model, one.customers, one.labels);
    expect(findings.map((f) => f.id)).toEqual(['single-segment', 'age-within-income', 'largest']);
    // ages sum to 373, incomes to 459, spending to 450 over 9 customers; 5 of 9 are women
    expect(findings[0]!.text).toBe(
      'With one segment there is nothing to compare: the average customer is 41.4 years old, earns 51.0 k$ a year and has a spending score of 50.0; 55.6\u00a0% are women.',
    );
    expect(findings[2]!.text).toBe('All 9 customers are in one segment ("Segment name 0").');
  });
});

describe('computeFindings for another schema', () => {
  // visits per month and spend in € (log1p), a web/store channel; two segments of three customers
  const SHOP = parseCustomerSchema(
    {
      name: 'shop',
      id: { header: 'id' },
      features: [
        { name: 'visits', header: 'visits', label: 'Visits', kind: 'numeric', unit: 'a month' },
        { name: 'spend', header: 'spend', label: 'Spend', kind: 'numeric', unit: '€', transform: 'log1p', min: 0 },
        { name: 'channel', header: 'channel', label: 'Channel', kind: 'categorical', categories: ['web', 'store'] },
      ],
    },
    'shop.json',
  );
  const rows: readonly [visits: number, spend: number, channel: string, segment: number][] = [
    [1, 10, 'web', 0],
    [3, 30, 'web', 0],
    [2, 20, 'web', 0],
    [10, 100, 'store', 1],
    [12, 110, 'store', 1],
    [14, 90, 'web', 1],
  ];
  const customers = CustomerColumns.from(
    rows.map(([visits, spend, channel], i) => ({ customerId: String(i + 1), visits, spend, channel })),
    SHOP,
  );
  const labels = Int32Array.from(rows, (r) => r[3]);
  const profiles = profileSegments(customers, labels, new Float64Array(rows.length), 2);
  const model = { k: 2, customerSchema: SHOP, segments: profiles.map((p) => ({ ...p, name: `Segment name ${p.id}` })) } as unknown as Model;

  it('describes the segments that stand out by their features, in the schema’s labels and units', () => {
    // visits: mean 7, std √(160/6) = 5.16; spend: mean 60, std √(10000/6) = 40.8. Both segments are
    // 0.98 standard deviations from the mean in spend, 0.97 in visits: segment 0 first (the lower id)
    const findings = computeFindings(model, customers, labels);
    expect(findings.map((f) => f.id)).toEqual(['stands-out-0', 'stands-out-1', 'one-value', 'largest', 'dominant-feature']);
    expect(findings[0]!.text).toBe(
      'Segment 0 ("Segment name 0") (3 customers, 50.0\u00a0%) is set apart most by spend: mean 20.0 € against 60.0 € overall, 1.0 standard deviations below;' +
        ' then by visits: mean 2.0 a month against 7.0 a month overall, 1.0 standard deviations below.',
    );
    expect(findings[0]!.numbers).toMatchObject({ segment: 0, size: 3, 'mean.spend': 20, 'overall.spend': 60, 'mean.visits': 2 });
    expect(findings[0]!.numbers['deviation.spend']).toBeCloseTo(-40 / Math.sqrt(10000 / 6), 12);
    expect(findings[1]!.text).toContain('by spend: mean 100.0 € against 60.0 € overall, 1.0 standard deviations above');
  });

  it('names a segment (almost) all of one category, and the category’s share of everyone', () => {
    // segment 0 is all web; segment 1 is two thirds store (below 90 %); web is 4 of 6 customers
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'one-value')!;
    expect(finding.text).toBe('Channel: segment 0 is 100.0\u00a0% web (of all customers, 66.7\u00a0% are web).');
    expect(finding.numbers).toEqual({ 'share.0.channel': 1, 'overall.channel.web': 4 / 6 });
  });

  it('names the feature the segments explain most (η²) in its label', () => {
    // spend: between 3·40² + 3·40² = 9600 of 10000 → 96 %; visits: 3·5² + 3·5² = 150 of 160 → 93.75 %
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'dominant-feature')!;
    expect(finding.text).toBe('Spend separates the segments most: the segments explain 96.0\u00a0% of its variance (visits 93.8\u00a0%).');
    expect(finding.numbers['eta2.spend']).toBeCloseTo(0.96, 12);
    expect(finding.numbers['eta2.visits']).toBeCloseTo(0.9375, 12);
  });

  it('gives the average customer and the most common values with one segment', () => {
    const one = profileSegments(customers, new Int32Array(rows.length), new Float64Array(rows.length), 1);
    const single = { k: 1, customerSchema: SHOP, segments: one.map((p) => ({ ...p, name: 'Everyone' })) } as unknown as Model;
    const findings = computeFindings(single, customers, new Int32Array(rows.length));
    expect(findings.map((f) => f.text)).toEqual([
      'With one segment there is nothing to compare. The average customer: visits 7.0 a month, spend 60.0 €.',
      'Most common values: channel web (66.7\u00a0%).',
      'All 6 customers are in one segment ("Everyone").',
    ]);
  });
});
