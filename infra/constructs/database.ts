// Aurora PostgreSQL 16 Serverless v2 reached only through the RDS Data API: a VPC with isolated
// subnets (no NAT, no internet), a generated secret, encrypted storage, auto-pause at 0 ACUs.

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Pinned: auto-pause (minimum 0 ACUs) needs Aurora PostgreSQL 16.3 or later. */
export const ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13;
export const DATABASE_NAME = 'segments';
export const ADMIN_USER = 'segments_admin';

/** The Data API operations the functions use (design.md "RDS Data API"). */
export const DATA_API_ACTIONS = [
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:ExecuteStatement',
  'rds-data:RollbackTransaction',
] as const;

export interface DatabaseProps {
  /** Minimum ACUs; 0 pauses the cluster after `autoPauseAfter` without connections. @default 0 */
  readonly minCapacity?: number;
  /** Maximum ACUs. @default 4 */
  readonly maxCapacity?: number;
  /** @default false */
  readonly deletionProtection?: boolean;
  /** Take a final snapshot on stack deletion (else delete the cluster). @default true */
  readonly retainData?: boolean;
  /** Idle time before an auto-pause (only with minCapacity 0). @default 5 minutes */
  readonly autoPauseAfter?: Duration;
  /** Automated backup retention. @default 7 days */
  readonly backupRetention?: Duration;
}

const AVAILABILITY_ZONES = 2;
const SUBNET_CIDR_MASK = 24;
const DEFAULT_BACKUP_DAYS = 7;
const DEFAULT_AUTO_PAUSE_MINUTES = 5;
const DEFAULT_MAX_ACU = 4;
const FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

export class Database extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: rds.DatabaseCluster;
  readonly secret: secretsmanager.ISecret;
  readonly databaseName = DATABASE_NAME;

  constructor(scope: Construct, id: string, props: DatabaseProps = {}) {
    super(scope, id);
    const retain = props.retainData ?? true;
    const deletionProtection = props.deletionProtection ?? false;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: AVAILABILITY_ZONES,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: SUBNET_CIDR_MASK }],
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: FLOW_LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY }),
      ),
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: ENGINE_VERSION }),
      writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false, autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: props.minCapacity ?? 0,
      serverlessV2MaxCapacity: props.maxCapacity ?? DEFAULT_MAX_ACU,
      ...(props.minCapacity === 0 || props.minCapacity === undefined
        ? { serverlessV2AutoPauseDuration: props.autoPauseAfter ?? Duration.minutes(DEFAULT_AUTO_PAUSE_MINUTES) }
        : {}),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      credentials: rds.Credentials.fromGeneratedSecret(ADMIN_USER),
      defaultDatabaseName: DATABASE_NAME,
      enableDataApi: true,
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection,
      backup: { retention: props.backupRetention ?? Duration.days(DEFAULT_BACKUP_DAYS) },
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    this.secret = this.cluster.secret!;

    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'Nothing connects to the PostgreSQL port: the functions use the RDS Data API, and the cluster security group has no ingress rule, so a non-default port would add nothing.',
    });
    if (!deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is the deployment parameter deletionProtection (set it to true for production); it is off by default so that a trial stack can be destroyed. The default retainData=true still keeps a final snapshot.',
      });
    }
    // the generated DatabaseSecret; `cluster.secret` is its attachment to the cluster
    Validations.of(this.cluster.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation needs a rotation Lambda inside the VPC plus a Secrets Manager interface endpoint, since the subnets are isolated. The secret is read only by the RDS Data API on behalf of the functions; no person or client holds the password.',
    });
  }

  /** Data API statements on this cluster only, and reading its secret (what the Data API needs). */
  grantDataApi(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...DATA_API_ACTIONS], resources: [this.cluster.clusterArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }),
    );
  }
}
