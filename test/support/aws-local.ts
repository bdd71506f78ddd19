// The deployed functions' world, locally: an S3 server, a Data API emulator over a private
// PostgreSQL database, and the Lambda environment pointing at them through the SDK's variables.

import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../functions/config.ts';
import { createRuntime, type Runtime } from '../../functions/runtime.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startDataApiEmulator, type DataApiEmulator } from './data-api-emulator.ts';
import { startS3, type TestS3 } from './s3-server.ts';

export const CLUSTER_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:segments-test';
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:segments-test';

export interface LocalAws {
  readonly s3: TestS3;
  readonly db: TestDatabase;
  readonly dataApi: DataApiEmulator;
  readonly env: Record<string, string>;
  /** A fresh runtime (as on a cold start) over the local services. */
  runtime(overrides?: Record<string, string>): Runtime;
  put(key: string, body: string): Promise<string>;
  get(key: string): Promise<string | null>;
  close(): Promise<void>;
}

export interface LocalAwsOptions {
  /** A PostgreSQL server to create the database on (default: the test suite's); benchmarks start their own. */
  readonly server?: string;
  /** Added to every Data API call (see DataApiEmulatorOptions.latencyMs). */
  readonly latencyMs?: number;
}

export async function startLocalAws(label: string, options: LocalAwsOptions = {}): Promise<LocalAws> {
  const s3 = await startS3();
  const db = await createTestDatabase(label, options.server);
  const dataApi = await startDataApiEmulator({
    databaseUrl: db.url,
    resourceArn: CLUSTER_ARN,
    secretArn: SECRET_ARN,
    latencyMs: options.latencyMs,
  });
  process.env.AWS_ENDPOINT_URL_RDS_DATA = dataApi.endpoint;
  // Powertools reads these from the process environment: keep EMF output out of the test log
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const env = {
    DATA_BUCKET: s3.bucket,
    DB_CLUSTER_ARN: CLUSTER_ARN,
    DB_SECRET_ARN: SECRET_ARN,
    DB_NAME: new URL(db.url).pathname.slice(1),
    S3_FORCE_PATH_STYLE: 'true',
    LOG_LEVEL: 'WARN',
    POWERTOOLS_SERVICE_NAME: 'segments-test',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  return {
    s3,
    db,
    dataApi,
    env,
    runtime: (overrides = {}) => createRuntime(loadConfig({ ...env, ...overrides })),
    put: async (key, body) => {
      const out = await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
      return out.ETag!.replace(/"/g, '');
    },
    get: async (key) => {
      try {
        const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
        return await out.Body!.transformToString();
      } catch {
        return null;
      }
    },
    close: async () => {
      await dataApi.close();
      await db.drop();
      await s3.close();
    },
  };
}

/** An S3 notification for one or more uploaded objects, keys URL-encoded as S3 sends them. */
export function s3Event(bucket: string, objects: ReadonlyArray<{ key: string; etag: string }>): unknown {
  return {
    Records: objects.map(({ key, etag }) => ({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), eTag: etag } },
    })),
  };
}
