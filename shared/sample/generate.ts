// Mall-like synthetic customers with planted segments, for demos, tests and scale runs.
// Deterministic for a seed; each planted segment has its own age, income and spending profile.

import { Random } from 'ml-random';
import type { Gender } from '../csv/contract.ts';

export interface PlantedSegment {
  readonly name: string;
  readonly weight: number;
  readonly age: readonly [mean: number, sd: number];
  readonly income: readonly [mean: number, sd: number];
  readonly spending: readonly [mean: number, sd: number];
  readonly femaleShare: number;
}

/** Five archetypes like the ones the original analysis found in the Mall Customers data. */
export const PLANTED_SEGMENTS: readonly PlantedSegment[] = [
  { name: 'young high spenders', weight: 0.2, age: [25, 3], income: [28, 5], spending: [80, 6], femaleShare: 0.6 },
  { name: 'affluent high spenders', weight: 0.2, age: [32, 3], income: [88, 6], spending: [84, 5], femaleShare: 0.55 },
  { name: 'average middle-aged', weight: 0.25, age: [46, 4], income: [56, 5], spending: [50, 5], femaleShare: 0.55 },
  { name: 'affluent careful', weight: 0.17, age: [40, 4], income: [90, 6], spending: [16, 5], femaleShare: 0.45 },
  { name: 'older thrifty', weight: 0.18, age: [62, 4], income: [30, 5], spending: [18, 5], femaleShare: 0.6 },
];

export interface GenerateOptions {
  readonly rows: number;
  readonly seed?: number;
  /** Number of the first customer (IDs are zero-padded to 7 digits: 0000001). */
  readonly firstId?: number;
  /** Years added to every age (to simulate drift). */
  readonly ageShift?: number;
  readonly segments?: readonly PlantedSegment[];
}

export interface GeneratedCustomer {
  readonly customerId: string;
  readonly gender: Gender;
  readonly age: number;
  readonly annualIncomeThousands: number;
  readonly spendingScore: number;
  /** Index of the planted segment the customer was drawn from. */
  readonly planted: number;
}

const ID_DIGITS = 7;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Generates customers one by one (constant memory), deterministically for the seed. */
export function* generateCustomers(options: GenerateOptions): Generator<GeneratedCustomer> {
  const random = new Random(options.seed ?? 1);
  const segments = options.segments ?? PLANTED_SEGMENTS;
  const cumulative: number[] = [];
  let total = 0;
  for (const s of segments) cumulative.push((total += s.weight));
  const normal = (mean: number, sd: number): number => {
    const u = 1 - random.random();
    const v = random.random();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const first = options.firstId ?? 1;
  for (let i = 0; i < options.rows; i++) {
    const draw = random.random() * total;
    let planted = cumulative.findIndex((c) => draw < c);
    if (planted < 0) planted = segments.length - 1;
    const s = segments[planted]!;
    yield {
      customerId: String(first + i).padStart(ID_DIGITS, '0'),
      gender: random.random() < s.femaleShare ? 'Female' : 'Male',
      age: clamp(Math.round(normal(s.age[0], s.age[1]) + (options.ageShift ?? 0)), 18, 120),
      annualIncomeThousands: clamp(Math.round(normal(s.income[0], s.income[1])), 1, 500),
      spendingScore: clamp(Math.round(normal(s.spending[0], s.spending[1])), 1, 100),
      planted,
    };
  }
}

const GENERATED_HEADER = 'customer_id,gender,age,annual_income_thousands,spending_score\n';
const LINES_PER_CHUNK = 5000;

/** The generated customers as CSV text chunks (header first), ready to stream to a file. */
export function* generateCsv(options: GenerateOptions): Generator<string> {
  yield GENERATED_HEADER;
  let chunk = '';
  let lines = 0;
  for (const c of generateCustomers(options)) {
    chunk += `${c.customerId},${c.gender},${c.age},${c.annualIncomeThousands},${c.spendingScore}\n`;
    if (++lines === LINES_PER_CHUNK) {
      yield chunk;
      chunk = '';
      lines = 0;
    }
  }
  if (chunk !== '') yield chunk;
}
