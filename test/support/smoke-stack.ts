// A deployed stack, locally, for `segments smoke`: the control-plane stub answers DescribeStacks
// with the stack's outputs and runs the real train, ingest and assign handlers on Invoke; s3rver
// and the Data API emulator (startLocalAws) hold the data; an S3 client wrapper plays the bucket's
// upload notifications (ObjectCreated on uploads/customers/*.csv and uploads/training/*.csv).

import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { createAssignHandler } from '../../functions/assign/handler.ts';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { createTrainHandler } from '../../functions/train/handler.ts';
import { STACK_NAME, STACK_OUTPUT } from '../../infra/deployment.ts';
import { UPLOAD_SUFFIX, UPLOADS_CUSTOMERS_PREFIX, UPLOADS_TRAINING_PREFIX } from '../../shared/storage-layout.ts';
import { CLUSTER_ARN, SECRET_ARN, s3Event, type LocalAws } from './aws-local.ts';
import type { ControlPlaneStub, StubFunction } from './control-plane-stub.ts';
import { lambdaContext } from './lambda-invocation.ts';

export const FUNCTION_NAMES = {
  train: 'CustomerSegmentation-TrainFunction-smoke',
  ingest: 'CustomerSegmentation-IngestFunction-smoke',
  assign: 'CustomerSegmentation-AssignFunction-smoke',
} as const;
export type FunctionKind = keyof typeof FUNCTION_NAMES;
/** Log groups named as CDK names them (not /aws/lambda/<function>). */
export const LOG_GROUPS = {
  train: 'CustomerSegmentation-TrainLogs0C4E1B1D-smoke',
  ingest: 'CustomerSegmentation-IngestLogs5D2A9F3E-smoke',
  assign: 'CustomerSegmentation-AssignLogs7B6C8A20-smoke',
} as const satisfies Record<FunctionKind, string>;

type AnyHandler = (event: unknown, context: unknown) => Promise<unknown>;

export interface SmokeStack {
  readonly outputs: Record<string, string>;
  /** The real handlers as the stub runs them; replace `stub.account.functions[FUNCTION_NAMES.x]` to inject a fault. */
  readonly real: Record<FunctionKind, StubFunction>;
  /** Upload notifications delivered (key → what the function returned or threw). */
  readonly deliveries: Array<{ key: string; kind: 'train' | 'ingest'; result?: unknown; error?: unknown }>;
  /** Set to false to stop delivering upload notifications (an upload trigger that never runs). */
  notify: boolean;
  /** An S3 client on the local bucket whose PutObject calls produce the bucket's notifications. */
  s3Client(): S3Client;
  /** Waits for every notification delivered so far. */
  settled(): Promise<void>;
  /** Puts the stack's functions and outputs back as deployed. */
  reset(): void;
}

/** Deploys the "stack" into the stub: outputs as infra/ names them, functions running the real handlers. */
export function deploySmokeStack(aws: LocalAws, stub: ControlPlaneStub): SmokeStack {
  const handlers: Record<FunctionKind, AnyHandler> = {
    train: createTrainHandler(aws.runtime()) as AnyHandler,
    ingest: createIngestHandler(aws.runtime()) as AnyHandler,
    assign: createAssignHandler(aws.runtime()) as AnyHandler,
  };
  const real = Object.fromEntries(
    (Object.keys(FUNCTION_NAMES) as FunctionKind[]).map((kind) => [
      kind,
      (payload: unknown) => handlers[kind](payload, lambdaContext(FUNCTION_NAMES[kind], randomUUID())),
    ]),
  ) as Record<FunctionKind, StubFunction>;
  const outputs: Record<string, string> = {
    [STACK_OUTPUT.bucketName]: aws.s3.bucket,
    [STACK_OUTPUT.trainFunctionName]: FUNCTION_NAMES.train,
    [STACK_OUTPUT.ingestFunctionName]: FUNCTION_NAMES.ingest,
    [STACK_OUTPUT.assignFunctionName]: FUNCTION_NAMES.assign,
    [STACK_OUTPUT.trainLogGroup]: LOG_GROUPS.train,
    [STACK_OUTPUT.ingestLogGroup]: LOG_GROUPS.ingest,
    [STACK_OUTPUT.assignLogGroup]: LOG_GROUPS.assign,
    [STACK_OUTPUT.clusterArn]: CLUSTER_ARN,
    [STACK_OUTPUT.adminSecretArn]: SECRET_ARN,
    [STACK_OUTPUT.secretArn]: SECRET_ARN,
    [STACK_OUTPUT.databaseName]: new URL(aws.db.url).pathname.slice(1),
  };
  const pending = new Set<Promise<void>>();
  const deliveries: SmokeStack['deliveries'] = [];
  const stack: SmokeStack = {
    outputs,
    real,
    deliveries,
    notify: true,
    s3Client: () => {
      const client = new S3Client({ forcePathStyle: true });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          const { Bucket, Key } = args.input as { Bucket?: string; Key?: string };
          if (
            context.commandName !== 'PutObjectCommand' ||
            !stack.notify ||
            Bucket !== aws.s3.bucket ||
            Key === undefined ||
            !Key.endsWith(UPLOAD_SUFFIX)
          )
            return result;
          const kind = Key.startsWith(UPLOADS_CUSTOMERS_PREFIX) ? 'ingest' : Key.startsWith(UPLOADS_TRAINING_PREFIX) ? 'train' : null;
          if (kind === null) return result;
          const etag = String((result.output as { ETag?: string }).ETag ?? '').replace(/"/g, '');
          // delivered asynchronously, after the upload has returned, as S3 does
          const delivery = Promise.resolve()
            .then(() => stub.account.functions[FUNCTION_NAMES[kind]]!(s3Event(Bucket, [{ key: Key, etag }])))
            .then(
              (value) => void deliveries.push({ key: Key, kind, result: value }),
              (error: unknown) => void deliveries.push({ key: Key, kind, error }),
            );
          pending.add(delivery);
          void delivery.finally(() => pending.delete(delivery));
          return result;
        },
        { step: 'initialize', name: 'localUploadNotification' },
      );
      return client;
    },
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    reset: () => {
      stack.notify = true;
      stub.account.stacks[STACK_NAME] = { status: 'CREATE_COMPLETE', outputs: { ...outputs } };
      for (const kind of Object.keys(FUNCTION_NAMES) as FunctionKind[]) stub.account.functions[FUNCTION_NAMES[kind]] = real[kind];
      stub.account.errors = {};
    },
  };
  stack.reset();
  return stack;
}
