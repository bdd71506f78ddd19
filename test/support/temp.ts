// Temporary directories that tests clean up after themselves.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function withTempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `segments-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
