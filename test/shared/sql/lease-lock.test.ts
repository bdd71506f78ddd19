// The LeaseLock contract, over every SqlClient (pg, and the Data API through the emulator): a named
// lease belongs to one owner until it expires or is released.

import { beforeEach, describe, expect, it } from 'vitest';
import { SqlLeaseLock } from '../../../shared/sql/lease-lock.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const TTL_SECONDS = 60;

const clients = useSqlClients('lease_lock', ['locks']);

describe.each(SQL_CLIENTS)('SqlLeaseLock over %s', (name) => {
  let leases: SqlLeaseLock;
  beforeEach(() => {
    leases = new SqlLeaseLock(clients.client(name));
  });

  it('gives a lease to one owner at a time, and renews it for that owner', async () => {
    expect(await leases.acquireLease('nightly', 'a', TTL_SECONDS)).toBe(true);
    expect(await leases.acquireLease('nightly', 'b', TTL_SECONDS)).toBe(false);
    expect(await leases.acquireLease('nightly', 'a', TTL_SECONDS)).toBe(true);
  });

  it('renews for the full time: a renewed lease expires ttlSeconds after the renewal', async () => {
    await leases.acquireLease('nightly', 'a', 1);
    await leases.acquireLease('nightly', 'a', TTL_SECONDS);
    const { rows } = await clients.db.repo.pool.query("SELECT expires_at > now() + interval '50 seconds' AS renewed FROM locks");
    expect(rows).toEqual([{ renewed: true }]);
  });

  it('lets another owner take an expired lease; the former owner has lost it', async () => {
    await leases.acquireLease('nightly', 'a', TTL_SECONDS);
    await clients.db.repo.pool.query("UPDATE locks SET expires_at = now() - interval '1 second'");
    expect(await leases.acquireLease('nightly', 'b', TTL_SECONDS)).toBe(true);
    expect(await leases.acquireLease('nightly', 'a', TTL_SECONDS)).toBe(false);
  });

  it('is released only by its owner', async () => {
    await leases.acquireLease('nightly', 'a', TTL_SECONDS);
    await leases.releaseLease('nightly', 'b');
    expect(await leases.acquireLease('nightly', 'b', TTL_SECONDS)).toBe(false);
    await leases.releaseLease('nightly', 'a');
    expect(await leases.acquireLease('nightly', 'b', TTL_SECONDS)).toBe(true);
  });

  it('keeps leases of different names apart', async () => {
    expect(await leases.acquireLease('nightly', 'a', TTL_SECONDS)).toBe(true);
    expect(await leases.acquireLease('other', 'b', TTL_SECONDS)).toBe(true);
  });
});
