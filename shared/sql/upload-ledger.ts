// UploadLedger over SqlClient: uploaded objects (bucket, key, ETag) processed once each — a claim
// while one delivery works on an object, then its summary (the `ingested_objects` table).

import * as z from 'zod';
import type { ObjectClaim, SqlClient, UploadLedger } from '../ports.ts';

/** The ledger's own record of an object being processed; any other record is the caller's summary. */
const ProcessingSchema = z.object({ status: z.literal('processing'), claim: z.string() });
type Processing = z.infer<typeof ProcessingSchema>;

/** How often a claim is tried when the record it lost to is given up in between (once more is enough unless claims churn). */
const CLAIM_ATTEMPTS = 2;

export class SqlUploadLedger implements UploadLedger {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Returns 'claimed' when this caller may process the object; otherwise what the record says:
   * 'done' (with its summary) or 'in-progress' (another delivery is on it). A claim older than
   * `staleSeconds` (its run died) may be taken over. The claim carries `claimId` (a new one per call
   * by default): the same statement retried after an error that hid its success finds its own claim
   * and still gets 'claimed', instead of 'in-progress'.
   */
  async claimObject(
    bucket: string,
    key: string,
    etag: string,
    staleSeconds: number,
    claimId: string = globalThis.crypto.randomUUID(),
  ): Promise<ObjectClaim> {
    const processing: Processing = { status: 'processing', claim: claimId };
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const claimed = await this.sql.query(
        `INSERT INTO ingested_objects AS o (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:processing AS jsonb))
         ON CONFLICT (bucket, key, etag) DO UPDATE SET processed_at = now(), summary = EXCLUDED.summary
         WHERE o.summary->>'status' = 'processing'
           AND (o.processed_at < now() - make_interval(secs => CAST(:stale AS double precision)) OR o.summary->>'claim' = CAST(:claim AS text))
         RETURNING 1 AS claimed`,
        { bucket, key, etag, processing: JSON.stringify(processing), stale: staleSeconds, claim: claimId },
      );
      if (claimed.length === 1) return { state: 'claimed' };
      const [row] = await this.sql.query(
        'SELECT CAST(summary AS text) AS summary FROM ingested_objects WHERE bucket = CAST(:bucket AS text) AND key = CAST(:key AS text) AND etag = CAST(:etag AS text)',
        { bucket, key, etag },
      );
      // gone between the two statements: the delivery that held it gave its claim up, so claim again
      if (row === undefined) continue;
      const summary: unknown = JSON.parse(String(row.summary));
      return ProcessingSchema.safeParse(summary).success ? { state: 'in-progress' } : { state: 'done', summary };
    }
    // claims given up again and again: the deliveries that give them up are retried by Lambda
    return { state: 'in-progress' };
  }

  async recordIngested(bucket: string, key: string, etag: string, summary: unknown): Promise<void> {
    await this.sql.query(
      `INSERT INTO ingested_objects (bucket, key, etag, summary) VALUES (CAST(:bucket AS text), CAST(:key AS text), CAST(:etag AS text), CAST(:summary AS jsonb))
       ON CONFLICT (bucket, key, etag) DO UPDATE SET summary = EXCLUDED.summary, processed_at = now()`,
      { bucket, key, etag, summary: JSON.stringify(summary) },
    );
  }

  async releaseObject(bucket: string, key: string, etag: string): Promise<void> {
    await this.sql.query(
      `DELETE FROM ingested_objects WHERE bucket = CAST(:bucket AS text) AND key = CAST(:key AS text) AND etag = CAST(:etag AS text) AND summary->>'status' = 'processing'`,
      { bucket, key, etag },
    );
  }
}
