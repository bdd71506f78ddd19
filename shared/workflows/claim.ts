// Once per uploaded object: S3 delivers an upload's event at least once, and the same object (key
// and ETag) must be processed once. Train and ingest both go through here.

import type { UploadLedger } from '../ports.ts';

/** An uploaded object in the version its event names. */
export interface UploadRef {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
}

export type OnceOutcome<T> =
  | { readonly state: 'processed'; readonly result: T }
  | { readonly state: 'done'; readonly summary: unknown }
  | { readonly state: 'in-progress' };

/**
 * Claims `upload` and runs `work` when this delivery may process it; otherwise says what the ledger
 * holds (done, with the earlier summary, or another delivery in progress). `work` records its
 * outcome in the ledger itself (when it is final: a retry must not redo it). If `work` fails, the
 * claim is given back so that Lambda's retry processes the object, and the error is rethrown.
 */
export async function processOnce<T>(
  ledger: UploadLedger,
  upload: UploadRef,
  staleSeconds: number,
  work: () => Promise<T>,
): Promise<OnceOutcome<T>> {
  const { bucket, key, etag } = upload;
  const claim = await ledger.claimObject(bucket, key, etag, staleSeconds);
  if (claim.state !== 'claimed') return claim;
  try {
    return { state: 'processed', result: await work() };
  } catch (error) {
    // releasing is best effort: a claim that is not given back expires after staleSeconds
    await ledger.releaseObject(bucket, key, etag).catch(() => undefined);
    throw error;
  }
}
