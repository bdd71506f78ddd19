// Synthetic customers of any customer schema, with planted segments, for demos, tests and scale runs.
// Deterministic for a seed. The mall keeps its five archetypes (and its exact output); any other
// schema gets segments derived from the schema itself, so k-means has structure to find.

import { Random } from 'ml-random';
import type { Customer, MallCustomer } from '../csv/contract.ts';
import { InvalidOptionError } from '../errors.ts';
import { MALL_SCHEMA, type CategoricalSchemaFeature, type CustomerSchema, type NumericSchemaFeature } from '../schema/customer-schema.ts';

/**
 * How a planted segment draws a numeric feature: `normal` for bounded values (an age, a score),
 * `logNormal` for skewed money columns. The value is then shifted (drift), rounded (to a whole number
 * when `round` or the feature is integer, else to cents) and clamped to the schema's bounds and
 * these narrower ones, so that every value passes the schema's own rules.
 */
export type NumericDraw = {
  readonly round?: boolean;
  readonly min?: number;
  readonly max?: number;
} & ({ readonly normal: readonly [mean: number, sd: number] } | { readonly logNormal: readonly [median: number, sigma: number] });

/** How a planted segment draws a categorical feature: each category's share (they need not sum to 1). */
export interface CategoricalDraw {
  readonly shares: Readonly<Record<string, number>>;
}

export type FeatureDraw = NumericDraw | CategoricalDraw;

export interface PlantedSegment {
  readonly name: string;
  readonly weight: number;
  /** One draw per feature of the schema, keyed by feature name. */
  readonly features: Readonly<Record<string, FeatureDraw>>;
}

// The mall's generation bounds, narrower than its schema's: adults only, whole thousands up to 500.
const AGE = { min: 18 } as const;
const INCOME = { round: true, min: 1, max: 500 } as const;

/** Five archetypes like the ones the original analysis found in the Mall Customers data. */
export const PLANTED_SEGMENTS: readonly PlantedSegment[] = [
  {
    name: 'young high spenders',
    weight: 0.2,
    features: {
      gender: { shares: { Female: 0.6, Male: 0.4 } },
      age: { normal: [25, 3], ...AGE },
      annual_income_thousands: { normal: [28, 5], ...INCOME },
      spending_score: { normal: [80, 6] },
    },
  },
  {
    name: 'affluent high spenders',
    weight: 0.2,
    features: {
      gender: { shares: { Female: 0.55, Male: 0.45 } },
      age: { normal: [32, 3], ...AGE },
      annual_income_thousands: { normal: [88, 6], ...INCOME },
      spending_score: { normal: [84, 5] },
    },
  },
  {
    name: 'average middle-aged',
    weight: 0.25,
    features: {
      gender: { shares: { Female: 0.55, Male: 0.45 } },
      age: { normal: [46, 4], ...AGE },
      annual_income_thousands: { normal: [56, 5], ...INCOME },
      spending_score: { normal: [50, 5] },
    },
  },
  {
    name: 'affluent careful',
    weight: 0.17,
    features: {
      gender: { shares: { Female: 0.45, Male: 0.55 } },
      age: { normal: [40, 4], ...AGE },
      annual_income_thousands: { normal: [90, 6], ...INCOME },
      spending_score: { normal: [16, 5] },
    },
  },
  {
    name: 'older thrifty',
    weight: 0.18,
    features: {
      gender: { shares: { Female: 0.6, Male: 0.4 } },
      age: { normal: [62, 4], ...AGE },
      annual_income_thousands: { normal: [30, 5], ...INCOME },
      spending_score: { normal: [18, 5] },
    },
  },
];

export interface GenerateOptions {
  readonly rows: number;
  readonly seed?: number;
  /** Number of the first customer (IDs are zero-padded to 7 digits: 0000001). */
  readonly firstId?: number;
  /** Years added to every age (to simulate drift): `shift: { age }` for the mall. */
  readonly ageShift?: number;
  /** Added to every value of these numeric features before rounding and clamping (to simulate drift). */
  readonly shift?: Readonly<Record<string, number>>;
  /** The population (default: the mall's archetypes for the mall's schema, else derived from the schema). */
  readonly segments?: readonly PlantedSegment[];
}

/** A customer of any schema: its id, one value per feature (canonical category text or number), its segment. */
export type GeneratedSchemaCustomer = Customer & { readonly planted: number };

/** A mall customer, with the index of the planted segment it was drawn from. */
export type GeneratedCustomer = MallCustomer & { readonly planted: number };

const ID_DIGITS = 7;
const DERIVED_SEGMENTS = [4, 6] as const;

interface NumericPlan {
  readonly kind: 'numeric';
  /** Per segment: mean (normal) or log of the median (log-normal), sd or sigma, whether log-normal. */
  readonly centre: Float64Array;
  readonly spread: Float64Array;
  readonly log: Uint8Array;
  readonly round: Uint8Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly shift: number;
}

interface CategoricalPlan {
  readonly kind: 'categorical';
  readonly values: readonly string[];
  /** Per segment: cumulative shares in `values` order, and their total. */
  readonly cumulative: readonly Float64Array[];
  readonly total: Float64Array;
}

type FeaturePlan = NumericPlan | CategoricalPlan;

const fail = (message: string): never => {
  throw new InvalidOptionError(message);
};

/** The values a categorical feature is generated with: its list, or for `"learned"` those the draws name. */
function categoriesOf(feature: CategoricalSchemaFeature, segments: readonly PlantedSegment[]): string[] {
  if (feature.categories !== 'learned') return [...feature.categories];
  const seen = new Set<string>();
  for (const s of segments) {
    const draw = s.features[feature.name];
    if (draw !== undefined && 'shares' in draw) for (const value of Object.keys(draw.shares)) seen.add(value);
  }
  return [...seen];
}

function categoricalPlan(feature: CategoricalSchemaFeature, segments: readonly PlantedSegment[]): CategoricalPlan {
  const values = categoriesOf(feature, segments);
  const cumulative: Float64Array[] = [];
  const total = new Float64Array(segments.length);
  segments.forEach((s, j) => {
    const draw = s.features[feature.name];
    const where = `planted segment "${s.name}": ${feature.name}`;
    if (draw === undefined || !('shares' in draw)) return fail(`${where}: needs { shares } (the feature is categorical)`);
    for (const [value, share] of Object.entries(draw.shares)) {
      if (!values.includes(value)) fail(`${where}: "${value}" is not one of the categories`);
      if (!(Number.isFinite(share) && share >= 0)) fail(`${where}: the share of "${value}" must be a number ≥ 0`);
    }
    const c = new Float64Array(values.length);
    let sum = 0;
    values.forEach((value, i) => (c[i] = sum += draw.shares[value] ?? 0));
    if (!(sum > 0)) fail(`${where}: the shares must not all be 0`);
    cumulative.push(c);
    total[j] = sum;
  });
  return { kind: 'categorical', values, cumulative, total };
}

function numericPlan(feature: NumericSchemaFeature, segments: readonly PlantedSegment[], shift: number): NumericPlan {
  const n = segments.length;
  const plan = {
    kind: 'numeric',
    centre: new Float64Array(n),
    spread: new Float64Array(n),
    log: new Uint8Array(n),
    round: new Uint8Array(n),
    lo: new Float64Array(n),
    hi: new Float64Array(n),
    shift,
  } as const;
  segments.forEach((s, j) => {
    const draw = s.features[feature.name];
    const where = `planted segment "${s.name}": ${feature.name}`;
    if (draw === undefined || 'shares' in draw) return fail(`${where}: needs { normal } or { logNormal } (the feature is numeric)`);
    const round = draw.round ?? feature.integer;
    if (feature.integer && !round) fail(`${where}: the feature is integer, its values must be rounded`);
    const lo = Math.max(feature.min ?? -Infinity, draw.min ?? -Infinity, feature.transform === 'log1p' ? 0 : -Infinity);
    const hi = Math.min(feature.max ?? Infinity, draw.max ?? Infinity);
    if (!(lo <= hi)) fail(`${where}: min ${lo} is above max ${hi}`);
    if (round && !Number.isInteger(lo) && lo !== -Infinity) fail(`${where}: min ${lo} must be a whole number (values are rounded)`);
    if (round && !Number.isInteger(hi) && hi !== Infinity) fail(`${where}: max ${hi} must be a whole number (values are rounded)`);
    if ('normal' in draw) {
      const [mean, sd] = draw.normal;
      if (!(Number.isFinite(mean) && Number.isFinite(sd) && sd >= 0)) fail(`${where}: normal needs a finite mean and an sd ≥ 0`);
      plan.centre[j] = mean;
      plan.spread[j] = sd;
    } else {
      const [median, sigma] = draw.logNormal;
      if (!(median > 0 && Number.isFinite(median) && Number.isFinite(sigma) && sigma >= 0)) {
        fail(`${where}: logNormal needs a median > 0 and a sigma ≥ 0`);
      }
      plan.centre[j] = Math.log(median);
      plan.spread[j] = sigma;
      plan.log[j] = 1;
    }
    plan.round[j] = round ? 1 : 0;
    plan.lo[j] = lo;
    plan.hi[j] = hi;
  });
  return plan;
}

/**
 * The rows' source: draws one customer at a time into a reused array, from one ml-random stream in a
 * fixed order (the segment, then each feature in schema order: one number for a category, two for a
 * numeric value), the order the mall-only generator used, so that the mall's bytes stay the same.
 */
class Population {
  private readonly random: Random;
  private readonly cumulative: Float64Array;
  private readonly total: number;
  readonly plans: readonly FeaturePlan[];

  constructor(
    readonly schema: CustomerSchema,
    options: GenerateOptions,
  ) {
    const segments = options.segments ?? plantedSegmentsFor(schema);
    if (segments.length === 0) fail('at least one planted segment is needed');
    const shift: Record<string, number> = { ...options.shift };
    if (options.ageShift !== undefined) shift.age = (shift.age ?? 0) + options.ageShift;
    for (const [name, by] of Object.entries(shift)) {
      if (!schema.features.some((f) => f.name === name && f.kind === 'numeric'))
        fail(`the schema has no numeric feature "${name}" to shift`);
      if (!Number.isFinite(by)) fail(`the shift of ${name} must be a number`);
    }
    this.random = new Random(options.seed ?? 1);
    this.cumulative = new Float64Array(segments.length);
    let total = 0;
    segments.forEach((s, j) => {
      if (!(Number.isFinite(s.weight) && s.weight >= 0)) fail(`planted segment "${s.name}": the weight must be a number ≥ 0`);
      this.cumulative[j] = total += s.weight;
      for (const name of Object.keys(s.features)) {
        if (!schema.features.some((f) => f.name === name)) fail(`planted segment "${s.name}": the schema has no feature "${name}"`);
      }
    });
    if (!(total > 0)) fail('the planted segments’ weights must not all be 0');
    this.total = total;
    this.plans = schema.features.map((f) =>
      f.kind === 'numeric' ? numericPlan(f, segments, shift[f.name] ?? 0) : categoricalPlan(f, segments),
    );
  }

  private normal(mean: number, sd: number): number {
    const u = 1 - this.random.random();
    const v = this.random.random();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with one customer's values (numbers, or the index of a category) and returns its segment. */
  next(out: number[]): number {
    const draw = this.random.random() * this.total;
    const last = this.cumulative.length - 1;
    let planted = 0;
    while (planted < last && !(draw < this.cumulative[planted]!)) planted++;
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i]!;
      if (p.kind === 'categorical') {
        const c = p.cumulative[planted]!;
        const d = this.random.random() * p.total[planted]!;
        let k = 0;
        while (k < c.length - 1 && !(d < c[k]!)) k++;
        out[i] = k;
      } else {
        let v = this.normal(p.centre[planted]!, p.spread[planted]!);
        if (p.log[planted] === 1) v = Math.exp(v);
        v += p.shift;
        v = p.round[planted] === 1 ? Math.round(v) : Math.round(v * 100) / 100;
        out[i] = Math.min(p.hi[planted]!, Math.max(p.lo[planted]!, v));
      }
    }
    return planted;
  }
}

const customerId = (n: number): string => String(n).padStart(ID_DIGITS, '0');

// Each generator below checks its options when called (a bad schema or segment throws before any
// row or file exists) and draws lazily, one customer at a time (constant memory).

/** Customers of any schema, one by one, deterministically for the seed. */
export function generateSchemaCustomers(schema: CustomerSchema, options: GenerateOptions): Generator<GeneratedSchemaCustomer> {
  if (schema.features.some((f) => f.name === 'planted'))
    fail('a feature named "planted" would hide the planted segment of a generated customer');
  return schemaCustomers(new Population(schema, options), options);
}

function* schemaCustomers(population: Population, options: GenerateOptions): Generator<GeneratedSchemaCustomer> {
  const { plans, schema } = population;
  const names = schema.features.map((f) => f.name);
  const categories = plans.map((p) => (p.kind === 'categorical' ? p.values : null));
  const values: number[] = [];
  const first = options.firstId ?? 1;
  for (let i = 0; i < options.rows; i++) {
    const planted = population.next(values);
    const customer: Record<string, string | number> = { customerId: customerId(first + i) };
    for (let f = 0; f < names.length; f++) {
      const c = categories[f];
      customer[names[f]!] = c ? c[values[f]!]! : values[f]!;
    }
    customer.planted = planted;
    yield customer as GeneratedSchemaCustomer;
  }
}

/**
 * The mall's customers, one by one, deterministically for the seed: the schema generator's, typed
 * by the mall's fixed fields (MALL_SCHEMA names them, and draws only its two genders).
 */
export function generateCustomers(options: GenerateOptions): Generator<GeneratedCustomer> {
  return generateSchemaCustomers(MALL_SCHEMA, options) as Generator<GeneratedCustomer>;
}

/** A header or category as a CSV field: quoted when it holds a comma, a quote or a line break. */
const csvField = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

const LINES_PER_CHUNK = 5000;

/**
 * The generated customers as CSV text chunks (the schema's headers first, the id's header leading;
 * default schema the mall's), ready to stream to a file. Whole numbers are written as such, others
 * with at most 2 decimals.
 */
export function generateCsv(options: GenerateOptions & { readonly schema?: CustomerSchema }): Generator<string> {
  return csvChunks(new Population(options.schema ?? MALL_SCHEMA, options), options);
}

function* csvChunks(population: Population, options: GenerateOptions): Generator<string> {
  const { plans, schema } = population;
  const texts = plans.map((p) => (p.kind === 'categorical' ? p.values.map(csvField) : []));
  yield `${[schema.id.header, ...schema.features.map((f) => f.header)].map(csvField).join(',')}\n`;
  const values: number[] = [];
  const first = options.firstId ?? 1;
  let chunk = '';
  let lines = 0;
  for (let i = 0; i < options.rows; i++) {
    population.next(values);
    let line = customerId(first + i);
    for (let f = 0; f < plans.length; f++) line += `,${plans[f]!.kind === 'categorical' ? texts[f]![values[f]!] : values[f]}`;
    chunk += `${line}\n`;
    if (++lines === LINES_PER_CHUNK) {
      yield chunk;
      chunk = '';
      lines = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

/** FNV-1a of a text: a small stable seed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** 3 significant digits: derived parameters a person can read back. */
const readable = (x: number): number => Number(x.toPrecision(3));

/**
 * The population of a schema: the mall's archetypes when the schema has the mall's features, else
 * 4–6 segments derived from the schema alone (its features' names, kinds, bounds and categories, not
 * the seed, so that files of different seeds — a training file and later customers — come from
 * the same population). Each feature places the segments at spread-out levels of its range in its
 * own order: bounded values normal with a modest sd, log1p money columns log-normal with medians
 * a factor of about 100 apart end to end, categories with one favoured value per segment.
 */
export function plantedSegmentsFor(schema: CustomerSchema): readonly PlantedSegment[] {
  if (schema === MALL_SCHEMA || fitsMall(schema)) return PLANTED_SEGMENTS;
  const shape = schema.features.map((f) =>
    f.kind === 'numeric'
      ? [f.name, f.kind, f.integer, f.transform, f.min, f.max]
      : [f.name, f.kind, f.categories, f.valueAliases, f.missing],
  );
  const random = new Random(hash32(JSON.stringify(shape)));
  const [fewest, most] = DERIVED_SEGMENTS;
  const n = fewest + Math.floor(random.random() * (most - fewest + 1));
  const draws: Record<string, FeatureDraw>[] = Array.from({ length: n }, () => ({}));
  for (const f of schema.features) {
    const order = shuffled(n, random);
    // the level of segment j in this feature's range: its place in `order`, jittered, in (0, 1)
    const level = (j: number): number => (order[j]! + 0.5 + (random.random() - 0.5) * 0.5) / n;
    if (f.kind === 'categorical') {
      const values = f.categories !== 'learned' ? f.categories : learnedValues(f);
      for (let j = 0; j < n; j++) {
        // a decisive favourite: one-hot columns, once scaled, outweigh numeric ones, and a category
        // shared evenly by two segments would be the split k-means prefers to the planted one
        const favoured = order[j]! % values.length;
        const share = values.length === 1 ? 1 : 0.85 + random.random() * 0.1;
        const others = values.map((_, i) => (i === favoured ? 0 : 0.5 + random.random()));
        const rest = others.reduce((a, b) => a + b, 0);
        draws[j]![f.name] = {
          shares: Object.fromEntries(values.map((v, i) => [v, readable(i === favoured ? share : ((1 - share) * others[i]!) / rest)])),
        };
      }
      continue;
    }
    const floor = Math.max(f.min ?? -Infinity, f.transform === 'log1p' ? 0 : -Infinity);
    const bottom = Math.max(floor, 1);
    const top = f.max !== undefined ? f.max / 4 : bottom * 10_000;
    if (f.transform === 'log1p' && top > bottom * 4) {
      const low = Math.max(bottom, top / 100);
      for (let j = 0; j < n; j++) {
        const median = Math.exp(Math.log(low) + level(j) * (Math.log(top) - Math.log(low)));
        draws[j]![f.name] = { logNormal: [readable(median), readable(0.35 + random.random() * 0.25)] };
      }
      continue;
    }
    const lo = f.min ?? (f.max !== undefined ? f.max - 100 : 0);
    const hi = f.max ?? lo + 100;
    const width = hi - lo;
    for (let j = 0; j < n; j++) {
      const mean = lo + width * (0.1 + 0.8 * level(j));
      draws[j]![f.name] = { normal: [readable(mean), readable(width * (0.03 + random.random() * 0.03))] };
    }
  }
  return draws.map((features, j) => ({ name: `planted ${j + 1}`, weight: readable(0.6 + random.random() * 0.8), features }));
}

/** 0..n-1 in a random order (Fisher–Yates). */
function shuffled(n: number, random: Random): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(random.random() * (i + 1));
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  return order;
}

/** Values to generate for a `"learned"` categorical feature: those the schema names (fill, aliases), else A, B, C. */
function learnedValues(f: CategoricalSchemaFeature): string[] {
  const named = new Set<string>(Object.values(f.valueAliases));
  if (f.missing !== 'reject' && typeof f.missing.fill === 'string') named.add(f.missing.fill);
  return named.size >= 2 ? [...named] : [...new Set([...named, 'A', 'B', 'C'])];
}

/** Whether the mall's archetypes can draw every feature of the schema (a copy of the mall's schema, say). */
function fitsMall(schema: CustomerSchema): boolean {
  const mall = MALL_SCHEMA.features;
  return (
    schema.features.length === mall.length &&
    schema.features.every((f) => {
      const m = mall.find((g) => g.name === f.name);
      if (m === undefined || m.kind !== f.kind) return false;
      if (f.kind === 'categorical')
        return f.categories === 'learned' || ['Female', 'Male'].every((c) => (f.categories as string[]).includes(c));
      return m.kind === 'numeric' && f.transform === m.transform;
    })
  );
}
