// Migrations on deploy: the onEvent handler of a CloudFormation custom resource (CDK Provider
// framework). Create and Update apply the pending migrations through the Data API; Delete keeps the schema.
// The SDK client, the logger and the configuration are loaded on the first event, so that importing
// this module (the cold start's init) stays cheap.

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import type { Logger } from '@aws-lambda-powertools/logger';
import { deferredHandler } from '../lazy.ts';

/** The same physical id for the life of the stack: an update never replaces the resource. */
export const PHYSICAL_RESOURCE_ID = 'customer-segmentation-schema';
const SERVICE_NAME = 'customer-segmentation';

/** The Provider framework's onEvent request (the fields this handler reads). */
export interface MigrateEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Readonly<Record<string, unknown>>;
}

export interface MigrateResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Applied: string };
}

export interface Migrator {
  migrate(): Promise<string[]>;
}

/** A handler over the given repository (tests pass one on a local Data API emulator). */
export function createMigrateHandler(repo: Migrator, logger: Logger) {
  return async (event: MigrateEvent): Promise<MigrateResponse> => {
    const physicalId = event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID;
    if (event.RequestType === 'Delete') {
      logger.info('stack deletion: the schema and its data stay with the cluster');
      return { PhysicalResourceId: physicalId, Data: { Applied: '' } };
    }
    const applied = await repo.migrate();
    logger.info(applied.length > 0 ? 'migrations applied' : 'schema up to date', { applied });
    return { PhysicalResourceId: physicalId, Data: { Applied: applied.join(',') } };
  };
}

/** Builds the repository from the environment on the first event (once per cold start). */
export function createMigrateHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, client?: RDSDataClient) {
  return deferredHandler(async () => {
    const [{ RDSDataClient }, { Logger }, { DataApiCustomerRepository }, { loadMigrateConfig }] = await Promise.all([
      import('@aws-sdk/client-rds-data'),
      import('@aws-lambda-powertools/logger'),
      import('../adapters/data-api-customer-repository.ts'),
      import('../config.ts'),
    ]);
    const config = loadMigrateConfig(env);
    const repo = new DataApiCustomerRepository(
      { resourceArn: config.DB_CLUSTER_ARN, secretArn: config.DB_SECRET_ARN, database: config.DB_NAME },
      client ?? new RDSDataClient({}),
    );
    return createMigrateHandler(repo, new Logger({ serviceName: SERVICE_NAME, logLevel: config.LOG_LEVEL }));
  });
}

export const handler = createMigrateHandlerFromEnv();
