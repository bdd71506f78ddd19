// Migrations on deploy: the onEvent handler of a CloudFormation custom resource (CDK Provider
// framework). Create and Update apply the pending migrations through the Data API as the master
// user, then set up the application and read-only roles from their secrets; Delete keeps the schema.
// The customer schema is the one built into this bundle (deployedSchema()); the resource's
// properties carry its hash, so that a schema change runs the migration again, and the columns the
// deploy may drop with their values (context dropColumns): the only ones holding values it drops.
// The configuration is read and the clients are built on the first event, so that a wrong
// environment fails that event naming the variable.

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import * as roles from '../../shared/sql/roles.ts';
import { SqlCustomerTable, type SchemaChangeResult } from '../../shared/sql/customer-table.ts';
import { SqlSchemaMigrator } from '../../shared/sql/schema-migrator.ts';
import { readDatabaseSecret } from '../adapters/database-secret.ts';
import { DataApiSqlClient, dataApiClient } from '../adapters/data-api-sql-client.ts';
import { deployedSchema, schemaSha256 } from '../adapters/deployed-schema.ts';
import { IDENTIFIER, type CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { isClusterStartingError, withRetry, type RetryOptions } from '../adapters/retry.ts';
import { scramSha256Verifier } from '../adapters/scram.ts';
import { ConfigError, loadMigrateConfig } from '../config.ts';
import { deferredHandler } from '../invocation.ts';
import { SERVICE_NAME } from '../../shared/metrics.ts';

/** The same physical id for the life of the stack: an update never replaces the resource. */
export const PHYSICAL_RESOURCE_ID = 'customer-segmentation-schema';
/**
 * How long a deploy waits, in all, for a cluster that cannot answer yet (created minutes ago, or
 * resuming). The last attempt may then take its own Data API retries (about 75 s at most) and the
 * work itself: the migration function's timeout (infra/constructs/schema-migrations.ts) leaves room.
 */
export const CLUSTER_WAIT_MS = 5 * 60 * 1000;
const CLUSTER_WAIT_BASE_MS = 1000;
const CLUSTER_WAIT_MAX_STEP_MS = 15_000;
const CLUSTER_WAIT_ATTEMPTS = 1000;

/** The Provider framework's onEvent request (the fields this handler reads). */
export interface MigrateEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Readonly<Record<string, unknown>>;
}

export interface MigrateResponse {
  readonly PhysicalResourceId: string;
  /** `CustomerSchema`: the SHA-256 of the customer schema the migration ran with ('' on Delete). */
  readonly Data: { readonly Applied: string; readonly Roles: string; readonly CustomerSchema: string };
}

/** The custom resource's properties this handler needs (set by infra/constructs/schema-migrations.ts). */
const ResourcePropertiesSchema = z.object({
  AppSecretArn: z.string().startsWith('arn:', 'must be a secret ARN'),
  ReaderSecretArn: z.string().startsWith('arn:', 'must be a secret ARN'),
  // absent in the properties of a stack synthesized before the schema existed (its rollback)
  CustomerSchemaSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex')
    .optional(),
  // absent when the deploy allows no drop, and in stacks synthesized before the permission existed
  DropColumns: z.array(z.string().regex(IDENTIFIER, 'must list plain column names')).optional(),
});

interface MigrateDeps {
  /** The deployment's customer schema (the bundle's). */
  readonly schema: CustomerSchema;
  /** Applies pending migrations; returns the versions applied now. */
  migrate(): Promise<string[]>;
  /** Brings the customers table to the schema (customer-table.ts), dropping values only of the columns in `dropColumns`. */
  applySchema(schema: CustomerSchema, dropColumns: ReadonlySet<string>): Promise<Pick<SchemaChangeResult, 'descriptions' | 'changes'>>;
  /** Creates or updates the role whose credentials are in `secretArn`; returns its name. */
  ensureRole(kind: 'app' | 'reader', secretArn: string): Promise<string>;
  /** Runs `work`, waiting (bounded, with a log line per attempt) while the cluster cannot answer yet. */
  untilClusterAnswers<T>(work: () => Promise<T>): Promise<T>;
  readonly logger: Logger;
}

function resourceProperties(event: MigrateEvent): z.infer<typeof ResourcePropertiesSchema> {
  const parsed = ResourcePropertiesSchema.safeParse(event.ResourceProperties ?? {});
  if (parsed.success) return parsed.data;
  throw new ConfigError(`custom resource properties: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
}

/** The handler over its dependencies, which createMigrateHandlerFromEnv builds from the environment. */
function createMigrateHandler(deps: MigrateDeps) {
  const { logger } = deps;
  return async (event: MigrateEvent, context?: Context): Promise<MigrateResponse> => {
    if (context) logger.addContext(context);
    const physicalId = event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID;
    if (event.RequestType === 'Delete') {
      logger.info('stack deletion: the schema, its data and the roles stay with the cluster');
      return { PhysicalResourceId: physicalId, Data: { Applied: '', Roles: '', CustomerSchema: '' } };
    }
    const { AppSecretArn, ReaderSecretArn, CustomerSchemaSha256, DropColumns = [] } = resourceProperties(event);
    const schemaHash = schemaSha256(deps.schema);
    if (CustomerSchemaSha256 !== undefined && CustomerSchemaSha256 !== schemaHash) {
      // CloudFormation updates this function before the resource, and on a rollback reverts the
      // resource (old properties) before the function (new code); the bundle's schema is the one used
      logger.warn("the custom resource names another customer schema than this bundle has; using the bundle's", {
        properties: CustomerSchemaSha256,
        bundle: schemaHash,
      });
    }
    logger.info('customer schema', { name: deps.schema.name, features: deps.schema.features.length, sha256: schemaHash });
    if (DropColumns.length > 0)
      logger.info('this deploy may drop these columns with their values (dropColumns)', { dropColumns: DropColumns });
    // one wait for the whole of it (every step is safe to run again): the budget is the deploy's, not each step's
    let applied: string[] = [];
    const roles = await deps.untilClusterAnswers(async () => {
      const now = await deps.migrate();
      if (now.length > 0) applied = now;
      logger.info(applied.length > 0 ? 'migrations applied' : 'schema up to date', { applied });
      // after the migrations (which create the table), before the roles (recreated scratch tables
      // get their grants from ensureRole)
      const { descriptions, changes } = await deps.applySchema(deps.schema, new Set(DropColumns));
      const outcome =
        descriptions.length > 0 ? 'customers table changed to the customer schema' : 'customers table matches the customer schema';
      logger.info(outcome, { changes: descriptions });
      const dropped = changes.filter((c) => c.change === 'dropped').map((c) => c.name);
      if (dropped.length > 0) logger.warn('dropped columns of the customers table, and their values', { dropped });
      const unused = DropColumns.filter((name) => !dropped.includes(name));
      if (unused.length > 0) {
        logger.info('dropColumns names columns this deploy did not drop (gone already, or never in the table); remove them', { unused });
      }
      return [await deps.ensureRole('app', AppSecretArn), await deps.ensureRole('reader', ReaderSecretArn)];
    });
    logger.info('database roles set up', { roles });
    return {
      PhysicalResourceId: physicalId,
      Data: { Applied: applied.join(','), Roles: roles.join(','), CustomerSchema: schemaHash },
    };
  };
}

export interface MigrateClients {
  readonly rdsData?: RDSDataClient;
  readonly secrets?: SecretsManagerClient;
  /** Overrides of the wait for a starting cluster (tests shorten it). */
  readonly clusterWait?: Partial<RetryOptions>;
  /** The customer schema to migrate to. @default deployedSchema() */
  readonly schema?: CustomerSchema;
}

/** Builds the dependencies from the environment on the first event (once per cold start). */
export function createMigrateHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, clients: MigrateClients = {}) {
  return deferredHandler(async () => {
    const settings = loadMigrateConfig(env);
    const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: settings.LOG_LEVEL });
    const sql = new DataApiSqlClient(
      { resourceArn: settings.DB_CLUSTER_ARN, secretArn: settings.DB_SECRET_ARN, database: settings.DB_NAME },
      clients.rdsData ?? dataApiClient(),
    );
    const migrator = new SqlSchemaMigrator(sql);
    const secretsClient = clients.secrets ?? new SecretsManagerClient({});
    return createMigrateHandler({
      schema: clients.schema ?? deployedSchema(),
      logger,
      migrate: () => migrator.migrate(),
      // a deploy drops a column holding values only when it names it (dropColumns), never all of them as --allow-drop does
      applySchema: (schema, dropColumns) => new SqlCustomerTable(sql).apply(schema, { allowDrop: dropColumns }),
      ensureRole: async (kind, secretArn) => {
        const { username, password } = await readDatabaseSecret(secretArn, secretsClient);
        const grants = kind === 'app' ? roles.APP_GRANTS : roles.READER_GRANTS;
        await roles.ensureRole(sql, username, scramSha256Verifier(password), grants);
        return username;
      },
      untilClusterAnswers: (work) =>
        withRetry(work, {
          attempts: CLUSTER_WAIT_ATTEMPTS,
          baseDelayMs: CLUSTER_WAIT_BASE_MS,
          maxDelayMs: CLUSTER_WAIT_MAX_STEP_MS,
          maxElapsedMs: CLUSTER_WAIT_MS,
          retryable: isClusterStartingError,
          onRetry: (error, attempt, delayMs) =>
            logger.warn('the cluster cannot answer yet; waiting', {
              attempt,
              delayMs,
              error: (error as { name?: string }).name ?? String(error),
            }),
          ...clients.clusterWait,
        }),
    });
  });
}

export const handler = createMigrateHandlerFromEnv();
