// Facts of the deployment that code outside the CDK app needs too (the `segments preflight` and
// `segments smoke` commands): plain values, no aws-cdk-lib import, so the CLI stays light.

/** The CloudFormation stack name of `cdk deploy`. */
export const STACK_NAME = 'CustomerSegmentation';
/** Aurora PostgreSQL engine version the stack pins (auto-pause needs 16.3 or later). */
export const AURORA_POSTGRES_VERSION = '16.13';
/** The instance class of an Aurora Serverless v2 writer. */
export const SERVERLESS_INSTANCE_CLASS = 'db.serverless';
/** Availability zones the database VPC spans (an Aurora subnet group needs at least two). */
export const AVAILABILITY_ZONES = 2;
/** Usernames of the database roles the stack creates secrets for. */
export const ADMIN_USER = 'segments_admin';
export const APP_USER = 'segments_app';
export const READER_USER = 'segments_reader';

/**
 * Names of the stack outputs other tools read (`segments smoke`, scripts): values from
 * `aws cloudformation describe-stacks --stack-name CustomerSegmentation`.
 */
export const STACK_OUTPUT = {
  /** The data bucket. */
  bucketName: 'BucketName',
  /** The Aurora cluster (Data API enabled). */
  clusterArn: 'ClusterArn',
  /** The read-only role's secret (segments_reader), for analysts and downstream tools. */
  secretArn: 'SecretArn',
  /** The master user's secret: migrations and `segments smoke` cleanup, never applications. */
  adminSecretArn: 'AdminSecretArn',
  databaseName: 'DatabaseName',
  trainFunctionName: 'TrainFunctionName',
  ingestFunctionName: 'IngestFunctionName',
  assignFunctionName: 'AssignFunctionName',
  /** The functions' log groups (`aws logs tail <name>`): CDK names them, not /aws/lambda/<function>. */
  trainLogGroup: 'TrainLogGroup',
  ingestLogGroup: 'IngestLogGroup',
  assignLogGroup: 'AssignLogGroup',
} as const;
