// CLI plumbing: reading input files as byte streams with a clear error.

import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InvalidFileError, NotFoundError } from '../../shared/errors.ts';

/** Opens a local file as a byte stream, failing with one line when it is missing or a directory. */
export async function openInput(path: string): Promise<ReadStream> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new NotFoundError(`file not found: ${path}`);
  }
  if (info.isDirectory()) throw new InvalidFileError(`${path} is a directory, not a CSV file`);
  return createReadStream(path);
}
