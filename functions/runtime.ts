// Adapters for the deployed functions, built once per cold start from the configuration:
// S3 for models, uploads and results; the RDS Data API for the customers table. The configuration
// is read on the first invocation, so that a wrong environment fails it naming the variable.

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig, type Config } from './config.ts';
import { deferredHandler, type Handler } from './invocation.ts';
import { METRICS_NAMESPACE } from '../shared/metrics.ts';
import { CUSTOMER_RESULTS_PREFIX } from '../shared/storage-layout.ts';
import { DataApiCustomerRepository } from './adapters/data-api-customer-repository.ts';
import { dataApiClient } from './adapters/data-api-sql-client.ts';
import { deployedSchema } from './adapters/deployed-schema.ts';
import { S3ModelStore } from './adapters/s3-model-store.ts';
import { S3ObjectSource, S3ResultWriter } from './adapters/s3-objects.ts';

export interface Runtime {
  readonly config: Config;
  readonly s3: S3Client;
  readonly store: S3ModelStore;
  readonly objects: S3ObjectSource;
  readonly repo: DataApiCustomerRepository;
  readonly results: (name: string) => S3ResultWriter;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
}

export interface RuntimeClients {
  readonly s3?: S3Client;
  readonly rdsData?: RDSDataClient;
}

export function createRuntime(config: Config, clients: RuntimeClients = {}): Runtime {
  const s3 = clients.s3 ?? new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE });
  // the deployment's customer schema, built into the bundle at synth (deployed-schema.ts): the table's
  const repo = new DataApiCustomerRepository(
    { resourceArn: config.DB_CLUSTER_ARN, secretArn: config.DB_SECRET_ARN, database: config.DB_NAME },
    clients.rdsData ?? dataApiClient(),
    undefined,
    deployedSchema(),
  );
  const logger = new Logger({ serviceName: config.POWERTOOLS_SERVICE_NAME, logLevel: config.LOG_LEVEL });
  return {
    config,
    s3,
    store: new S3ModelStore(config.DATA_BUCKET, s3),
    objects: new S3ObjectSource(config.DATA_BUCKET, s3),
    repo,
    results: (name) => new S3ResultWriter(config.DATA_BUCKET, `${CUSTOMER_RESULTS_PREFIX}${name}/`, s3),
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: config.POWERTOOLS_SERVICE_NAME }),
    clock: () => new Date(),
  };
}

/** A function's Lambda handler: `factory` over the runtime built from `env` on the first invocation. */
export function handlerFromEnv<E, R>(factory: (runtime: Runtime) => Handler<E, R>, env = process.env): Handler<E, R> {
  return deferredHandler(async () => factory(createRuntime(loadConfig(env))));
}
