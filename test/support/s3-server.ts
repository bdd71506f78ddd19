// An S3-protocol server (s3rver) for the tests, reached by the unmodified S3 client through
// AWS_ENDPOINT_URL_S3, with the settings s3rver needs (see design.md "Local parts"), behind the
// precondition layer (s3-preconditions.ts) that gives conditional writes S3's answers.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { startPreconditionLayer } from './s3-preconditions.ts';

export interface TestS3 {
  /** The endpoint clients use: the precondition layer. */
  readonly endpoint: string;
  /** s3rver itself, without the layer (to show what the layer adds). */
  readonly upstream: string;
  readonly bucket: string;
  readonly client: S3Client;
  close(): Promise<void>;
}

/** s3rver accepts only these credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Sets the SDK's standard variables for local S3 (checksums only when required: otherwise stream
 * uploads are stored with chunk framing) and starts a server with one bucket, behind the
 * precondition layer; AWS_ENDPOINT_URL_S3 points at the layer.
 */
export async function startS3(bucket = 'segments-test-bucket'): Promise<TestS3> {
  process.env.AWS_REQUEST_CHECKSUM_CALCULATION = 'WHEN_REQUIRED';
  process.env.AWS_RESPONSE_CHECKSUM_VALIDATION = 'WHEN_REQUIRED';
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
  const directory = await mkdtemp(join(tmpdir(), 'segments-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const upstream = `http://127.0.0.1:${port}`;
  const layer = await startPreconditionLayer(upstream);
  process.env.AWS_ENDPOINT_URL_S3 = layer.endpoint;
  return {
    endpoint: layer.endpoint,
    upstream,
    bucket,
    client: new S3Client({ forcePathStyle: true }),
    close: async () => {
      await layer.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
