// Atomic file writes: content goes to a temporary file beside the target, which is renamed into
// place only when complete — a reader sees the old file or the new one, never half of it.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Buffer size of the large files' streams. Writing: a labeled million-row file comes in 100 kB
 * chunks, and with the default 16 kB every chunk waited for its write to finish instead of
 * overlapping it with labeling the next. Reading a whole file back (joining parts): a syscall per
 * 4 MB rather than per 64 kB.
 */
export const FILE_BUFFER_BYTES = 4 << 20;

/** Writes `content` (text, or chunks of text or bytes) to `path` atomically, creating parent directories. */
export async function writeFileAtomic(
  path: string,
  content: string | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const source = typeof content === 'string' ? Readable.from([content]) : Readable.from(content);
    await pipeline(source, createWriteStream(temp, { highWaterMark: FILE_BUFFER_BYTES }));
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
