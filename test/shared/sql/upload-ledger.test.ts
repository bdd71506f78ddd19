// The UploadLedger contract, over every SqlClient (pg, and the Data API through the emulator): an
// uploaded object (bucket, key, ETag) is claimed by one delivery, then answers with its outcome.

import { beforeEach, describe, expect, it } from 'vitest';
import { SqlUploadLedger } from '../../../shared/sql/upload-ledger.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const STALE_SECONDS = 360;
const object = ['bucket', 'uploads/customers/batch 1.csv', 'etag-1'] as const;

const clients = useSqlClients('upload_ledger', ['ingested_objects', 'ingest_batches']);

/** Records batches of `object` done, as storeUploadBatch does. */
async function markDone(...batches: number[]): Promise<void> {
  for (const batch of batches)
    await clients.db.repo.pool.query('INSERT INTO ingest_batches (bucket, key, etag, batch) VALUES ($1, $2, $3, $4)', [...object, batch]);
}

describe.each(SQL_CLIENTS)('SqlUploadLedger over %s', (name) => {
  let ledger: SqlUploadLedger;
  beforeEach(() => {
    ledger = new SqlUploadLedger(clients.client(name));
  });

  it('lets one delivery claim an object; another delivery finds it in progress', async () => {
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'claimed', startedWith: undefined });
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'in-progress' });
  });

  it('answers later deliveries with the outcome recorded, as it was recorded', async () => {
    const summary = { status: 'ok', rowsRead: 3, segments: { '0': 2, '1': 1 }, warnings: ['a warning'] };
    await ledger.claimObject(...object, STALE_SECONDS);
    await ledger.recordIngested(...object, summary);
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'done', summary });
  });

  it('gives a released claim to the next delivery, but never releases a recorded outcome', async () => {
    await ledger.claimObject(...object, STALE_SECONDS);
    await ledger.releaseObject(...object);
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'claimed', startedWith: undefined });
    await ledger.recordIngested(...object, { status: 'superseded' });
    await ledger.releaseObject(...object);
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'done', summary: { status: 'superseded' } });
  });

  it('lets a claim older than staleSeconds (its run died) be taken over', async () => {
    await ledger.claimObject(...object, STALE_SECONDS);
    await clients.db.repo.pool.query("UPDATE ingested_objects SET processed_at = now() - interval '10 minutes'");
    expect(await ledger.claimObject(...object, 11 * 60)).toEqual({ state: 'in-progress' });
    expect(await ledger.claimObject(...object, 9 * 60)).toEqual({ state: 'claimed', startedWith: undefined });
    expect(await ledger.claimObject(...object, 9 * 60)).toEqual({ state: 'in-progress' });
  });

  it('claims again for the same claim id: a claim retried after an error that hid its success', async () => {
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-1')).toEqual({ state: 'claimed', startedWith: undefined });
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-1')).toEqual({ state: 'claimed', startedWith: undefined });
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-2')).toEqual({ state: 'in-progress' });
  });

  it('answers what the first claim started with to every claim after it, until the outcome is recorded', async () => {
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-1', { modelVersion: 'v1' })).toEqual({
      state: 'claimed',
      startedWith: { modelVersion: 'v1' },
    });
    // the same invocation again, after a newer model was promoted: it continues with the first one's
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-1', { modelVersion: 'v2' })).toEqual({
      state: 'claimed',
      startedWith: { modelVersion: 'v1' },
    });
    // another delivery once the claim is stale: the same
    await clients.db.repo.pool.query("UPDATE ingested_objects SET processed_at = now() - interval '1 hour'");
    expect(await ledger.claimObject(...object, STALE_SECONDS, 'claim-2', { modelVersion: 'v2' })).toEqual({
      state: 'claimed',
      startedWith: { modelVersion: 'v1' },
    });
    // a null start is kept as such (no model), not replaced
    const [bucket, key] = object;
    await ledger.claimObject(bucket, key, 'etag-null', STALE_SECONDS, 'claim-3', { modelVersion: null });
    expect(await ledger.claimObject(bucket, key, 'etag-null', STALE_SECONDS, 'claim-3', { modelVersion: 'v2' })).toEqual({
      state: 'claimed',
      startedWith: { modelVersion: null },
    });
  });

  it('answers the batches done, and forgets them with the outcome or with the claim given up', async () => {
    await ledger.claimObject(...object, STALE_SECONDS, 'claim-1');
    expect(await ledger.doneBatches(...object)).toEqual(new Set());
    await markDone(0, 1, 4);
    expect(await ledger.doneBatches(...object)).toEqual(new Set([0, 1, 4]));
    const [bucket, key] = object;
    expect(await ledger.doneBatches(bucket, key, 'etag-2')).toEqual(new Set());
    await ledger.recordIngested(...object, { status: 'ok' });
    expect(await ledger.doneBatches(...object)).toEqual(new Set());
    // given up: the next claim starts afresh, with what it starts with
    await ledger.claimObject(bucket, key, 'etag-2', STALE_SECONDS, 'claim-2', { modelVersion: 'v1' });
    await clients.db.repo.pool.query("INSERT INTO ingest_batches VALUES ($1, $2, 'etag-2', 0)", [bucket, key]);
    await ledger.releaseObject(bucket, key, 'etag-2');
    expect(await ledger.doneBatches(bucket, key, 'etag-2')).toEqual(new Set());
    expect(await ledger.claimObject(bucket, key, 'etag-2', STALE_SECONDS, 'claim-3', { modelVersion: 'v2' })).toEqual({
      state: 'claimed',
      startedWith: { modelVersion: 'v2' },
    });
  });

  it('keeps the versions of a key apart: a new ETag is a new object', async () => {
    await ledger.claimObject(...object, STALE_SECONDS);
    await ledger.recordIngested(...object, { status: 'ok' });
    const [bucket, key] = object;
    expect(await ledger.claimObject(bucket, key, 'etag-2', STALE_SECONDS)).toEqual({ state: 'claimed', startedWith: undefined });
  });

  it('claims an object whose record was given up between its claim and its reading of the record', async () => {
    const holder = new SqlUploadLedger(clients.client(name));
    await holder.claimObject(...object, STALE_SECONDS);
    // the holder gives its claim up (its run failed) just after this delivery's claim lost to it
    const sql = clients.client(name);
    let released = false;
    const racing = new SqlUploadLedger({
      query: async (text, params) => {
        if (!released && text.startsWith('SELECT CAST(summary AS text)')) {
          released = true;
          await holder.releaseObject(...object);
        }
        return await sql.query(text, params);
      },
      transaction: (work) => sql.transaction(work),
    });
    expect(await racing.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'claimed', startedWith: undefined });
    expect(released).toBe(true);
    expect(await ledger.claimObject(...object, STALE_SECONDS)).toEqual({ state: 'in-progress' });
  });
});
