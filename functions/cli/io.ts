// CLI plumbing: reading input files as byte streams with a clear error.

import type { ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InvalidFileError, NotFoundError } from '../../shared/errors.ts';

/**
 * Opens a local file as a byte stream, failing with one line when it is missing, a directory, or
 * cannot be opened (opened here, not lazily by the stream, whose error would have no listener yet).
 */
export async function openInput(path: string): Promise<ReadStream> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new NotFoundError(`file not found: ${path}`);
  }
  if (info.isDirectory()) throw new InvalidFileError(`${path} is a directory, not a CSV file`);
  try {
    return (await open(path, 'r')).createReadStream();
  } catch (error) {
    throw new InvalidFileError(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
