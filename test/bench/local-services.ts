// The deployed functions' world for benchmarks, outside vitest: a PostgreSQL server of its own
// (embedded, as the test suite starts one), then the S3 server and the Data API emulator over a
// fresh database on it (test/support/aws-local.ts), with a latency per Data API call.

import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../functions/adapters/embedded-postgres.ts';
import { startLocalAws, type LocalAws } from '../support/aws-local.ts';

/**
 * What 50 ms per call stands for: a Lambda function calling the Data API in the same region pays
 * an HTTPS request to the service endpoint, which then runs the statement on a pooled connection;
 * see the README's Scaling section for the figure's source.
 */
export const BENCH_LATENCY_MS = 50;

export interface BenchServices {
  readonly aws: LocalAws;
  close(): Promise<void>;
}

/** Starts PostgreSQL, S3 and the Data API emulator (with `latencyMs` per call); close() stops all. */
export async function startBenchServices(label: string, latencyMs: number): Promise<BenchServices> {
  const dir = await mkdtemp(join(tmpdir(), `segments-bench-${label}-`));
  await chmod(dir, 0o755); // as root, the server runs as the postgres user, which must reach the directory
  const server = await startEmbeddedPostgres(join(dir, 'data'));
  try {
    const aws = await startLocalAws(label, { server: server.url, latencyMs });
    return {
      aws,
      close: async () => {
        await aws.close();
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
