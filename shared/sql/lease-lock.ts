// LeaseLock over SqlClient: named leases with an expiry (the `locks` table). The Data API has no
// session, so neither a session-level advisory lock nor a lock held across calls would survive.

import type { LeaseLock, SqlClient } from '../ports.ts';

export class SqlLeaseLock implements LeaseLock {
  constructor(private readonly sql: SqlClient) {}

  async acquireLease(name: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO locks AS l (name, owner, expires_at) VALUES (CAST(:name AS text), CAST(:owner AS text), now() + make_interval(secs => CAST(:ttl AS double precision)))
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
       RETURNING owner`,
      { name, owner, ttl: ttlSeconds },
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.sql.query('DELETE FROM locks WHERE name = CAST(:name AS text) AND owner = CAST(:owner AS text)', { name, owner });
  }
}
