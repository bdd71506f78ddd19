// UploadLedger over SqlClient: uploaded objects (bucket, key, ETag) processed once each — a claim
// while one delivery works on an object, then its summary (the `ingested_objects` table) — and the
// batches of the object stored so far (the `ingest_batches` table, written by storeUploadBatch).

import * as z from 'zod';
import type { ObjectClaim, SqlClient, UploadLedger } from '../ports.ts';

/** The ledger's own record of an object being processed; any other record is the caller's summary. */
const ProcessingSchema = z.object({ status: z.literal('processing'), claim: z.string() });

/** How often a claim is tried when the record it lost to is given up in between (once more is enough unless claims churn). */
const CLAIM_ATTEMPTS = 2;

const OBJECT = 'bucket = CAST(:bucket AS text) AND key = CAST(:key AS text) AND etag = CAST(:etag AS text)';

export class SqlUploadLedger implements UploadLedger {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Returns 'claimed' when this caller may process the object; otherwise what the record says:
   * 'done' (with its summary) or 'in-progress' (another delivery is on it). A claim older than
   * `staleSeconds` (its run died) may be taken over. The claim carries `claimId` (a new one per call
   * by default): a claim with the same id — the same statement retried after an error that hid its
   * success, or a retry of the invocation that holds it — still gets 'claimed', instead of
   * 'in-progress'. `startedWith` is kept from the first claim through every takeover.
   */
  async claimObject(
    bucket: string,
    key: string,
    etag: string,
    staleSeconds: number,
    claimId: string = globalThis.crypto.randomUUID(),
    startedWith?: unknown,
  ): Promise<ObjectClaim> {
    const processing = { status: 'processing', claim: claimId, startedWith };
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const claimed = await this.sql.query(
        `INSERT INTO ingested_objects AS o (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:processing AS jsonb))
         ON CONFLICT (bucket, key, etag) DO UPDATE SET processed_at = now(),
           summary = CASE WHEN o.summary->'startedWith' IS NULL THEN EXCLUDED.summary
             ELSE jsonb_set(EXCLUDED.summary, '{startedWith}', o.summary->'startedWith') END
         WHERE o.summary->>'status' = 'processing'
           AND (o.processed_at < now() - make_interval(secs => CAST(:stale AS double precision)) OR o.summary->>'claim' = CAST(:claim AS text))
         RETURNING CAST(summary->'startedWith' AS text) AS started_with`,
        { bucket, key, etag, processing: JSON.stringify(processing), stale: staleSeconds, claim: claimId },
      );
      const [mine] = claimed;
      if (mine !== undefined) {
        const recorded = mine.started_with;
        return { state: 'claimed', startedWith: recorded === null || recorded === undefined ? undefined : JSON.parse(String(recorded)) };
      }
      const [row] = await this.sql.query(`SELECT CAST(summary AS text) AS summary FROM ingested_objects WHERE ${OBJECT}`, {
        bucket,
        key,
        etag,
      });
      // gone between the two statements: the delivery that held it gave its claim up, so claim again
      if (row === undefined) continue;
      const summary: unknown = JSON.parse(String(row.summary));
      return ProcessingSchema.safeParse(summary).success ? { state: 'in-progress' } : { state: 'done', summary };
    }
    // claims given up again and again: the deliveries that give them up are retried by Lambda
    return { state: 'in-progress' };
  }

  async doneBatches(bucket: string, key: string, etag: string): Promise<Set<number>> {
    const rows = await this.sql.query(`SELECT batch FROM ingest_batches WHERE ${OBJECT}`, { bucket, key, etag });
    return new Set(rows.map((r) => Number(r.batch)));
  }

  async recordIngested(bucket: string, key: string, etag: string, summary: unknown): Promise<void> {
    // the outcome and the end of the progress in one statement: no progress outlives its object's outcome
    await this.sql.query(
      `WITH forgotten AS (DELETE FROM ingest_batches WHERE ${OBJECT})
       INSERT INTO ingested_objects (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:summary AS jsonb))
       ON CONFLICT (bucket, key, etag) DO UPDATE SET summary = EXCLUDED.summary, processed_at = now()`,
      { bucket, key, etag, summary: JSON.stringify(summary) },
    );
  }

  async releaseObject(bucket: string, key: string, etag: string): Promise<void> {
    // the progress goes with the claim: the next claim starts the object afresh
    await this.sql.query(
      `WITH released AS (DELETE FROM ingested_objects WHERE ${OBJECT} AND summary->>'status' = 'processing' RETURNING 1)
       DELETE FROM ingest_batches WHERE ${OBJECT} AND EXISTS (SELECT 1 FROM released)`,
      { bucket, key, etag },
    );
  }
}
