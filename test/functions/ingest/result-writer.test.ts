// Ingest's results on S3 (S3ResultWriter): a result streams through a multipart upload, so a run
// that fails while labeled.csv streams leaves no half-written object, and its own error is rethrown.

import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ResultWriter } from '../../../functions/adapters/s3-objects.ts';
import { startS3, type TestS3 } from '../../support/s3-server.ts';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

/** More than one 5 MiB part (lib-storage's smallest), so the upload is a multipart one. */
const LINES_BEFORE_FAILURE = 80_000;
const LINE = `${'x'.repeat(99)}\n`;

/** The names of the S3 commands the client sends (observed, not changed). */
function observed(client: S3Client): string[] {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? '');
      return await next(args);
    },
    { step: 'initialize', name: 'observeCommands' },
  );
  return names;
}

async function readText(key: string): Promise<string | null> {
  try {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch {
    return null;
  }
}

describe('S3ResultWriter', () => {
  it('streams a large result as a multipart upload, visible once complete', async () => {
    const client = new S3Client({ forcePathStyle: true });
    const commands = observed(client);
    const writer = new S3ResultWriter(s3.bucket, 'results/customers/whole/', client);
    await writer.write(
      'labeled.csv',
      (async function* () {
        for (let i = 0; i < LINES_BEFORE_FAILURE; i++) yield LINE;
      })(),
    );
    expect(commands).toContain('CompleteMultipartUploadCommand');
    expect((await readText('results/customers/whole/labeled.csv'))?.length).toBe(LINES_BEFORE_FAILURE * LINE.length);
  });

  it('aborts the multipart upload and rethrows the content’s own error when the content fails midway', async () => {
    const client = new S3Client({ forcePathStyle: true });
    const commands = observed(client);
    const writer = new S3ResultWriter(s3.bucket, 'results/customers/broken/', client);
    const failure = new Error('statement timed out');
    const content = (async function* () {
      for (let i = 0; i < LINES_BEFORE_FAILURE; i++) yield LINE;
      throw failure;
    })();
    await expect(writer.write('labeled.csv', content)).rejects.toBe(failure);
    expect(commands).toContain('UploadPartCommand');
    expect(commands).toContain('AbortMultipartUploadCommand');
    expect(commands).not.toContain('CompleteMultipartUploadCommand');
    expect(await readText('results/customers/broken/labeled.csv')).toBeNull();
  });
});
