// Migrations on deploy: a custom resource whose handler (functions/migrate/handler.ts) applies the
// pending migrations through the Data API as the master user, and creates the application and
// read-only roles with the passwords of their secrets, and brings the customers table to the
// customer schema. It reruns whenever the migrations, the role secrets, the schema or the columns a
// deploy may drop (context dropColumns) change.

import { createHash } from 'node:crypto';
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MIGRATIONS } from '../../shared/sql/migrations.ts';
import { APP_GRANTS, EXAMPLE_VERIFIER, READER_GRANTS, roleStatements } from '../../shared/sql/roles.ts';
import { APP_USER, READER_USER } from '../deployment.ts';
import { CLUSTER_WAIT_MS } from '../../functions/migrate/handler.ts';
import { schemaSha256 } from '../../functions/adapters/deployed-schema.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { acknowledgeWildcardResource, arnInFinding } from '../nag.ts';
import type { Database } from './database.ts';
import { LOG_RETENTION, SegmentationFunction } from './segmentation-function.ts';

/**
 * Changes exactly when a migration or a role's statements (its grants) are added or edited
 * (comments in the source do not count), so the custom resource runs again.
 */
export function migrationsFingerprint(): string {
  const roles = [roleStatements(APP_USER, EXAMPLE_VERIFIER, APP_GRANTS), roleStatements(READER_USER, EXAMPLE_VERIFIER, READER_GRANTS)];
  return createHash('sha256').update(JSON.stringify({ MIGRATIONS, roles })).digest('hex');
}

export interface SchemaMigrationsProps {
  readonly database: Database;
  /** The deployment's customer schema: built into the handler, and its hash into the resource's properties. */
  readonly schema: CustomerSchema;
  /**
   * Columns the migration may drop with their values (context dropColumns); any other column that
   * holds values and the schema no longer has fails the deploy. @default none
   */
  readonly dropColumns?: readonly string[];
}

// The handler waits up to CLUSTER_WAIT_MS (5 minutes) for a just-created cluster whose Data API
// endpoint is not answering yet, then applies the migrations (one transaction each) and the roles.
const MIGRATE_TIMEOUT = Duration.millis(CLUSTER_WAIT_MS).plus(Duration.minutes(5));
const MIGRATE_MEMORY_MB = 512;

export class SchemaMigrations extends Construct {
  readonly handler: SegmentationFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);
    const { database, schema, dropColumns = [] } = props;
    this.handler = new SegmentationFunction(this, 'Migrate', {
      entry: 'functions/migrate/handler.ts',
      description: 'Applies the customer segmentation database migrations (custom resource)',
      memorySize: MIGRATE_MEMORY_MB,
      timeout: MIGRATE_TIMEOUT,
      schema,
      environment: {
        DB_CLUSTER_ARN: database.cluster.clusterArn,
        DB_SECRET_ARN: database.secret.secretArn,
        DB_NAME: database.databaseName,
        LOG_LEVEL: 'INFO',
      },
    });
    database.grantDataApi(this.handler.function, database.secret);
    // the roles' passwords: read here to set them (as SCRAM verifiers) on the roles it creates
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [database.appSecret.secretArn, database.readerSecret.secretArn],
      }),
    );

    const frameworkLogs = new logs.LogGroup(this, 'ProviderLogs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Custom resource provider framework of the schema migrations (execution role)',
    });
    frameworkRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [frameworkLogs.logGroupArn] }),
    );
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    acknowledgeWildcardResource(
      frameworkRole,
      `${arnInFinding(this.handler.function)}:*`,
      'CDK\'s provider framework may invoke the migration handler by any version or alias ("<function ARN>:*"); the grant names that one function.',
    );

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigrations',
      properties: {
        MigrationsFingerprint: migrationsFingerprint(),
        Versions: MIGRATIONS.map((m) => m.version),
        AppSecretArn: database.appSecret.secretArn,
        ReaderSecretArn: database.readerSecret.secretArn,
        // a schema change is a deploy of the table too: the handler (whose bundle embeds the same
        // schema) runs again; the hash only, the schema itself travels in the bundle
        CustomerSchemaSha256: schemaSha256(schema),
        // a permission given is a property change too, so the handler runs again with it; absent
        // when none, so that a deploy without it changes nothing
        ...(dropColumns.length > 0 ? { DropColumns: [...new Set(dropColumns)].sort() } : {}),
      },
    });
    this.resource.node.addDependency(database.cluster);
  }
}
