// CLI plumbing: reading input files as byte streams, and customer schema files, with a clear error.

import type { ReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { InvalidFileError, NotFoundError, SchemaError } from '../../shared/errors.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../shared/schema/customer-schema.ts';

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

/** A customer schema file, read and validated: one line naming the file (and the field) when it is not one. */
export async function readSchema(path: string): Promise<CustomerSchema> {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`file not found: ${path}`);
    throw new SchemaError(`${path} cannot be read (${code ?? String(error)})`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SchemaError(`${path}: not JSON (${(error as Error).message.split('\n')[0]})`);
  }
  return parseCustomerSchema(json, path);
}
