// The model artifact (design.md "Model artifact"): its schema, canonical JSON, version naming,
// and validated reading that refuses foreign files with a clear message.

import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ModelError } from '../errors.ts';
import { ScalerSchema } from '../features/encode.ts';
import { FeatureSpecSchema } from '../features/spec.ts';
import { SweepSchema } from '../clustering/sweep.ts';
import { SegmentProfileSchema } from '../profile/profile.ts';
import { LineageSchema } from './lineage.ts';
import { BaselineSchema } from './drift.ts';

export const SCHEMA_VERSION = 1;

const VERSION_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{12}$/;
export const ModelVersionSchema = z.string().regex(VERSION_PATTERN, 'a model version looks like 20261126T153000Z-3fa2b9c01d4e');

const nullableNumber = z.number().nullable();

export const ModelSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  modelVersion: ModelVersionSchema,
  createdAt: z.string().datetime(),
  software: z.object({ package: z.string(), packageVersion: z.string(), mlKMeans: z.string() }),
  features: z.array(FeatureSpecSchema).min(1),
  scaler: ScalerSchema,
  k: z.number().int().positive(),
  seed: z.number().int(),
  restarts: z.number().int().positive(),
  maxIterations: z.number().int().positive(),
  centroids: z.object({
    columns: z.array(z.string()),
    model: z.array(z.array(z.number())),
    original: z.array(z.array(z.number())),
  }),
  metrics: z.object({
    inertia: z.number().nonnegative(),
    silhouette: nullableNumber,
    daviesBouldin: nullableNumber,
    calinskiHarabasz: nullableNumber,
    sweep: SweepSchema,
  }),
  segments: z.array(SegmentProfileSchema).min(1),
  warnings: z.array(z.string()),
  lineage: LineageSchema,
  /** The training population, for drift checks by the nightly run. */
  baseline: BaselineSchema,
  training: z.object({
    source: z.string(),
    rowsRead: z.number().int().nonnegative(),
    rowsAccepted: z.number().int().nonnegative(),
    rowsRejected: z.number().int().nonnegative(),
    duplicates: z.number().int().nonnegative(),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});
export type Model = z.infer<typeof ModelSchema>;
export type ModelBody = Omit<Model, 'modelVersion' | 'createdAt'>;

export const ActivePointerSchema = z.object({
  modelVersion: ModelVersionSchema,
  promotedAt: z.string().datetime(),
  previous: ModelVersionSchema.nullable(),
});
export type ActivePointer = z.infer<typeof ActivePointerSchema>;

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** SHA-256 hex digest of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const HASH_DIGITS = 12;

/** `YYYYMMDDTHHMMSSZ` of a date, in UTC. */
export function compactUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Stamps a model body with its creation time and content-derived version. */
export function stampModel(body: ModelBody, createdAt: Date): Model {
  const hash = sha256(canonicalJson(body)).slice(0, HASH_DIGITS);
  const { schemaVersion, ...rest } = body;
  return { schemaVersion, modelVersion: `${compactUtc(createdAt)}-${hash}`, createdAt: createdAt.toISOString(), ...rest };
}

/** The artifact as written: canonical (sorted keys), indented for people, ending in a newline. */
export function serializeModel(model: Model): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(model)), null, 2)}\n`;
}

/** Parses and validates an artifact; anything but a model of this schema version is refused. */
export function parseModel(text: string, origin: string): Model {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ModelError(`${origin} is not a model file (not JSON)`);
  }
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof value !== 'object' || value === null || version === undefined) {
    throw new ModelError(`${origin} is not a model file (no schemaVersion)`);
  }
  if (version !== SCHEMA_VERSION) {
    throw new ModelError(`${origin} has model schema version ${String(version)}; this version reads schema ${SCHEMA_VERSION}`);
  }
  const parsed = ModelSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(`${origin} is not a valid model: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const model = parsed.data;
  const d = model.scaler.columns.length;
  const ids = new Set(model.segments.map((s) => s.id));
  if (
    model.centroids.model.length !== model.k ||
    model.centroids.model.some((c) => c.length !== d) ||
    model.segments.length !== model.k ||
    ids.size !== model.k
  ) {
    throw new ModelError(`${origin} is not a valid model: centroids or segments do not match k = ${model.k}`);
  }
  return model;
}

/** Parses `models/active.json`. */
export function parseActivePointer(text: string, origin: string): ActivePointer {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ModelError(`${origin} is not an active-model pointer (not JSON)`);
  }
  const parsed = ActivePointerSchema.safeParse(value);
  if (!parsed.success) throw new ModelError(`${origin} is not an active-model pointer: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}
