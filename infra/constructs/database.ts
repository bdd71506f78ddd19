// Aurora PostgreSQL 16 Serverless v2 reached only through the RDS Data API: a VPC with isolated
// subnets (no NAT, no internet), encrypted storage, auto-pause at 0 ACUs, and one generated secret
// per database role: the master user (migrations), the application role and the read-only role.

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { ADMIN_USER, APP_USER, AVAILABILITY_ZONES, READER_USER } from '../deployment.ts';

/** Pinned: auto-pause (minimum 0 ACUs) needs Aurora PostgreSQL 16.3 or later. */
export const ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13;
const DATABASE_NAME = 'segments';

/**
 * Characters kept out of the generated passwords of the application and reader roles: every ASCII
 * punctuation mark but the URL-unreserved `-`, `.` and `_`, so a password needs no escaping in a
 * connection URL, a shell, JSON or a libpq conninfo string, and still holds one punctuation mark
 * (Secrets Manager requires each included character type by default).
 */
const PASSWORD_EXCLUDED_CHARACTERS = ' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}~';

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

const SUBNET_CIDR_MASK = 24;
const DEFAULT_BACKUP_DAYS = 7;
const DEFAULT_AUTO_PAUSE_MINUTES = 5;
const DEFAULT_MAX_ACU = 4;
const FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/**
 * Why the secrets do not rotate (cdk-nag AwsSolutions-SMG4), for a secret read on behalf of
 * `readers`; `heldByPeople` when people are meant to be granted it (the read-only secret).
 */
function rotationTradeOff(readers: string, setByMigration: boolean, heldByPeople = false): string {
  return [
    'Rotation needs a rotation Lambda inside the VPC plus a Secrets Manager interface endpoint, since the subnets are isolated (no NAT).',
    heldByPeople
      ? `The RDS Data API reads this secret on behalf of ${readers}; whoever is granted secretsmanager:GetSecretValue on it can read the password of a role that may only SELECT, so grant it narrowly and replace the secret (a new ARN reruns the migration) when someone leaves.`
      : `The RDS Data API reads this secret on behalf of ${readers}; no person holds the password.`,
    ...(setByMigration
      ? [
          "The migration sets this role's password as a SCRAM verifier computed from the secret, so a rotation would also have to run the migration.",
        ]
      : []),
  ].join(' ');
}

export class Database extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: rds.DatabaseCluster;
  /** The master user's secret (attached to the cluster): migrations and smoke-test cleanup only. */
  readonly secret: secretsmanager.ISecret;
  /** The application role's secret (attached): DML on the project's tables; train, ingest, assign. */
  readonly appSecret: secretsmanager.ISecret;
  /** The read-only role's secret (attached): analysts and downstream tools (the SecretArn output). */
  readonly readerSecret: secretsmanager.ISecret;
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
    acknowledgeNoRotation(
      this.cluster.node.findChild('Secret'),
      rotationTradeOff('the migration function (and `segments smoke` cleanup)', false),
    );

    this.appSecret = this.roleSecret('AppSecret', {
      username: APP_USER,
      purpose: 'the application role (DML on the project tables), used by the train, ingest and assign functions through the Data API',
      readers: 'the train, ingest and assign functions',
    });
    this.readerSecret = this.roleSecret('ReaderSecret', {
      username: READER_USER,
      purpose: 'the read-only role, for analysts and downstream tools (aws rds-data execute-statement)',
      readers: 'analysts and downstream tools that query through it',
      heldByPeople: true,
    });
  }

  /**
   * A generated secret for a role the migration creates, attached to the cluster so that it carries
   * host, port, engine and cluster id like the master secret. A change of the password rules gives a
   * new secret (new ARN), so the migration, keyed by the ARN, sets the new password.
   */
  private roleSecret(
    id: string,
    role: { username: string; purpose: string; readers: string; heldByPeople?: boolean },
  ): secretsmanager.ISecret {
    const secret = new rds.DatabaseSecret(this, id, {
      username: role.username,
      dbname: DATABASE_NAME,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      replaceOnPasswordCriteriaChanges: true,
    });
    (secret.node.defaultChild as secretsmanager.CfnSecret).description =
      `Customer segmentation database credentials of ${role.username}: ${role.purpose}`;
    acknowledgeNoRotation(secret, rotationTradeOff(role.readers, true, role.heldByPeople));
    return secret.attach(this.cluster);
  }

  /**
   * Data API statements on this cluster only, and reading the one secret the grantee connects with
   * (the Data API reads it with the caller's permissions).
   */
  grantDataApi(grantee: iam.IGrantable, secret: secretsmanager.ISecret): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...DATA_API_ACTIONS], resources: [this.cluster.clusterArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
  }
}

function acknowledgeNoRotation(secret: IConstruct, reason: string): void {
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason });
}
