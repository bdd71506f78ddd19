// The model artifact (design.md "Model artifact"): its schema, canonical JSON, version naming,
// and validated reading that refuses foreign files with a clear message.

import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ModelError } from '../errors.ts';
import { ENCODING_STEPS, ScalerSchema } from '../features/encode.ts';
import { CustomerSchemaSchema, MALL_SCHEMA, parseCustomerSchema } from '../schema/customer-schema.ts';
import { FeatureSpecSchema } from '../features/spec.ts';
import { SweepSchema } from '../clustering/sweep.ts';
import { SegmentProfileSchema } from '../profile/profile.ts';
import { LineageSchema } from './lineage.ts';
import { BaselineSchema } from './drift.ts';

/**
 * The artifact format written now. Version 2 embeds the customer schema and the encoding's steps;
 * version 1 (the mall's fixed fields) is still read, as the mall's schema and today's steps.
 */
export const SCHEMA_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];

const VERSION_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{12}$/;
export const ModelVersionSchema = z.string().regex(VERSION_PATTERN, 'a model version looks like 20261126T153000Z-3fa2b9c01d4e');

const nullableNumber = z.number().nullable();

const ModelV1Schema = z.object({
  schemaVersion: z.literal(1),
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

export const ModelSchema = ModelV1Schema.extend({
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** The customer schema the model was trained on: its CSV contract, labels and words. */
  customerSchema: CustomerSchemaSchema,
  /** The encoding's steps in the order they apply (ENCODING_STEPS). */
  encoding: z.tuple([z.literal('transform'), z.literal('one-hot'), z.literal('standard-scale'), z.literal('weight')]),
});

/** A model as read: a version 1 artifact stands for the mall's schema and the same steps. */
export type Model = Omit<z.infer<typeof ModelSchema>, 'schemaVersion'> & { readonly schemaVersion: 1 | 2 };
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
  if (typeof version !== 'number' || !READABLE_VERSIONS.includes(version)) {
    throw new ModelError(
      `${origin} has model schema version ${String(version)}; this version reads schema ${READABLE_VERSIONS.join(' and ')}`,
    );
  }
  const parsed = version === 1 ? ModelV1Schema.safeParse(value) : ModelSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(`${origin} is not a valid model: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const model: Model =
    parsed.data.schemaVersion === 1 ? { ...parsed.data, customerSchema: MALL_SCHEMA, encoding: [...ENCODING_STEPS] } : parsed.data;
  try {
    parseCustomerSchema(model.customerSchema, `${origin}: customerSchema`);
  } catch (error) {
    throw new ModelError(`${origin} is not a valid model: ${(error as Error).message}`);
  }
  const names = new Set(model.customerSchema.features.map((f) => f.name));
  const unknown = model.features.find((f) => !names.has(f.name));
  if (unknown !== undefined) throw new ModelError(`${origin} is not a valid model: feature ${unknown.name} is not in its customer schema`);
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
