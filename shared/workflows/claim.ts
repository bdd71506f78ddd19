// Once per uploaded object: S3 delivers an upload's event at least once, and the same object (key
// and ETag) must be processed once. Train and ingest both go through here.

import type { UploadLedger, UploadRef } from '../ports.ts';

export type { UploadRef } from '../ports.ts';

export type OnceOutcome<T> =
  | { readonly state: 'processed'; readonly result: T }
  | { readonly state: 'done'; readonly summary: unknown }
  | { readonly state: 'in-progress' };

export interface ClaimOptions {
  /**
   * The invocation's id (Lambda's request id, which Lambda's own retries of an invocation keep): a
   * retry of the invocation that holds the claim takes it again at once, and a failed run keeps
   * its claim for that retry. Without one, each call is a claim of its own, given back on failure.
   */
  readonly claimId?: string;
  /** What the run starts with, recorded by the first claim; a run taking over is handed the first one's. */
  readonly startedWith?: unknown;
}

/**
 * Claims `upload` and runs `work` (with what the object's first claim started with) when this
 * delivery may process it; otherwise says what the ledger holds (done, with the earlier summary,
 * or another delivery in progress). `work` records its outcome in the ledger itself (when it is
 * final: a retry must not redo it). If `work` fails, the error is rethrown for Lambda to retry: a
 * claim of the invocation is kept for its retry, any other is given back so that the next
 * delivery processes the object.
 */
export async function processOnce<T>(
  ledger: UploadLedger,
  upload: UploadRef,
  staleSeconds: number,
  work: (startedWith: unknown) => Promise<T>,
  options: ClaimOptions = {},
): Promise<OnceOutcome<T>> {
  const { bucket, key, etag } = upload;
  const claim = await ledger.claimObject(bucket, key, etag, staleSeconds, options.claimId, options.startedWith);
  if (claim.state !== 'claimed') return claim;
  try {
    return { state: 'processed', result: await work(claim.startedWith) };
  } catch (error) {
    // releasing is best effort: a claim that is not given back expires after staleSeconds
    if (options.claimId === undefined) await ledger.releaseObject(bucket, key, etag).catch(() => undefined);
    throw error;
  }
}
