// The events the functions accept (design.md "Events"), parsed with schemas.

import * as z from 'zod';

const S3RecordSchema = z.object({
  eventName: z.string().optional(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), eTag: z.string().optional() }),
  }),
});
export const S3EventSchema = z.object({ Records: z.array(S3RecordSchema).min(1) });

export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string | undefined;
}

/** S3 notification keys are URL-encoded with `+` for spaces. */
function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function s3Objects(event: z.infer<typeof S3EventSchema>): S3ObjectRef[] {
  return event.Records.map((r) => ({
    bucket: r.s3.bucket.name,
    key: decodeS3Key(r.s3.object.key),
    etag: r.s3.object.eTag?.replace(/"/g, ''),
  }));
}

export const TrainRequestSchema = z.object({
  source: z.union([z.literal('database'), z.object({ bucket: z.string(), key: z.string() })]),
  k: z.union([z.number().int().positive(), z.literal('auto')]).optional(),
  promote: z.boolean().optional(),
});
/** A train request; `etag` is set for upload events (the object version that triggered it). */
export type TrainRequest = z.infer<typeof TrainRequestSchema> & { readonly etag?: string | undefined };

/** The nightly schedule's event, or `{}` for a manual run. */
export const AssignEventSchema = z.union([z.object({ 'detail-type': z.literal('Scheduled Event') }).passthrough(), z.object({}).strict()]);

/** Direct invocations of the train function that move the active model instead of training. */
export const LifecycleRequestSchema = z.union([
  z.object({ promote: z.string().min(1) }).strict(),
  z.object({ rollback: z.literal(true) }).strict(),
]);
export type LifecycleRequest = z.infer<typeof LifecycleRequestSchema>;

/** Direct invocation of the ingest function: a segment's customers as a campaign list. */
export const ExportRequestSchema = z
  .object({ export: z.object({ segment: z.union([z.number().int().nonnegative(), z.string().min(1)]) }).strict() })
  .strict();
