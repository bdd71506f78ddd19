// The synthesized stack, property by property: storage, database and its role secrets, functions,
// triggers, least privilege, deploy order, failure handling, alarms, migrations, outputs, log
// retention of every function, and cdk-nag's verdict.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_WAIT_MS } from '../../functions/migrate/handler.ts';
import { APP_GRANTS } from '../../shared/sql/roles.ts';
import { Match } from 'aws-cdk-lib/assertions';
import { Token, Validations } from 'aws-cdk-lib';
import { DATA_API_ACTIONS, ENGINE_VERSION } from '../../infra/constructs/database.ts';
import { migrationsFingerprint } from '../../infra/constructs/schema-migrations.ts';
import { schemaSha256 } from '../../functions/adapters/deployed-schema.ts';
import { MALL_SCHEMA } from '../../shared/schema/customer-schema.ts';
import { AURORA_POSTGRES_VERSION, STACK_OUTPUT } from '../../infra/deployment.ts';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/metrics.ts';
import { synth, validationViolations, type Synthesized } from './synth.ts';

type Json = Record<string, unknown>;

let base: Synthesized;
let custom: Synthesized;

const CUSTOM_CONTEXT = {
  alertEmail: 'data-team@example.com',
  schedule: 'cron(30 2 * * ? *)',
  autoPromote: 'false',
  minCapacity: '0.5',
  maxCapacity: 8,
  deletionProtection: 'true',
  retainData: false,
  assignReservedConcurrency: '2',
};

beforeAll(() => {
  base = synth();
  custom = synth(CUSTOM_CONTEXT);
});

afterAll(() => {
  base?.remove();
  custom?.remove();
});

const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });
const objectsArn = (s: Synthesized, prefix: string) => ({ 'Fn::Join': ['', [getAtt(s.logicalId(s.stack.data.bucket)), `/${prefix}*`]] });
const clusterArn = (s: Synthesized) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':rds:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':cluster:',
      { Ref: s.logicalId(s.stack.database.cluster) },
    ],
  ],
});
/** The master secret, as the cluster's secret attachment (what `cluster.secret` is). */
const secretRef = (s: Synthesized) => ({
  Ref: s.logicalId(s.stack.database.cluster.node.findChild('Secret').node.findChild('Attachment') as never),
});
/** A role secret, as its attachment to the cluster (appSecret / readerSecret). */
const roleSecretRef = (s: Synthesized, id: 'AppSecret' | 'ReaderSecret') => ({
  Ref: s.logicalId(s.stack.database.node.findChild(id).node.findChild('Attachment') as never),
});
const appSecretRef = (s: Synthesized) => roleSecretRef(s, 'AppSecret');
const readerSecretRef = (s: Synthesized) => roleSecretRef(s, 'ReaderSecret');

function resource(s: Synthesized, logicalId: string) {
  const r = s.json.Resources[logicalId];
  if (r === undefined) throw new Error(`no resource ${logicalId}`);
  return r;
}

function policyStatements(s: Synthesized, role: { node: { findChild(id: string): unknown } }): Json[] {
  const policy = role.node.findChild('DefaultPolicy') as { node: { defaultChild: unknown } };
  const doc = resource(s, s.logicalId(policy as never)).Properties!.PolicyDocument as { Statement: Json[] };
  return doc.Statement;
}

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('data bucket', () => {
  it('is private, encrypted, TLS-only, versioned, logged, and retained by default', () => {
    const bucket = resource(base, base.logicalId(base.stack.data.bucket));
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: base.logicalId(base.stack.data.accessLogs) } },
    });
    expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    // a stable logical id: renaming it would replace the bucket and lose the data
    expect(base.logicalId(base.stack.data.bucket)).toBe('DataBucketBD860FE1');
  });

  it('denies every request that is not over TLS', () => {
    base.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: base.logicalId(base.stack.data.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires results after 90 days and old object versions after 30', () => {
    const rules = (resource(base, base.logicalId(base.stack.data.bucket)).Properties!.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toEqual([
      { Id: 'ExpireOldResults', Prefix: 'results/', ExpirationInDays: 90, Status: 'Enabled' },
      {
        Id: 'ExpireNoncurrentVersions',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        Status: 'Enabled',
      },
    ]);
  });

  it('is deleted with its objects when retainData is false', () => {
    expect(resource(custom, custom.logicalId(custom.stack.data.bucket))).toMatchObject({ DeletionPolicy: 'Delete' });
    custom.template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
      BucketName: { Ref: custom.logicalId(custom.stack.data.bucket) },
    });
    base.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('database', () => {
  it('is Aurora PostgreSQL 16 Serverless v2 with the Data API, encrypted, IAM auth, backups', () => {
    const cluster = resource(base, base.logicalId(base.stack.database.cluster));
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      EngineVersion: '16.13',
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: false,
      BackupRetentionPeriod: 7,
      DatabaseName: 'segments',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4, SecondsUntilAutoPause: 300 },
    });
    expect(cluster).toMatchObject({ DeletionPolicy: 'Snapshot' });
    base.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBClusterIdentifier: { Ref: base.logicalId(base.stack.database.cluster) },
      DBInstanceClass: 'db.serverless',
      PubliclyAccessible: false,
    });
  });

  it('uses a generated secret', () => {
    const cluster = resource(base, base.logicalId(base.stack.database.cluster));
    expect(JSON.stringify(cluster.Properties!.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
    base.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"segments_admin"}' }),
    });
  });

  it('pins the engine version the preflight checks (infra/deployment.ts)', () => {
    expect(ENGINE_VERSION.auroraPostgresFullVersion).toBe(AURORA_POSTGRES_VERSION);
  });

  it('generates a secret for the application role and one for the read-only role, attached to the cluster', () => {
    const secrets = base.template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(3);
    for (const [id, username] of [
      ['AppSecret', 'segments_app'],
      ['ReaderSecret', 'segments_reader'],
    ] as const) {
      const secret = base.stack.database.node.findChild(id);
      const generated = resource(base, base.logicalId(secret)).Properties!.GenerateSecretString as Json;
      // dbname in the secret; host, port, engine and the cluster id come from the attachment
      expect(JSON.parse(generated.SecretStringTemplate as string)).toEqual({ username, dbname: 'segments' });
      expect(generated.GenerateStringKey).toBe('password');
      // no character that needs escaping in a URL, a shell, JSON or SQL: all punctuation but - . _
      const excluded = generated.ExcludeCharacters as string;
      for (const c of '!"#$%&\'()*+,/:;<=>?@[\\]^`{|}~ ') expect(excluded, `excludes ${c}`).toContain(c);
      for (const c of '-._') expect(excluded).not.toContain(c);
      // encrypted with the Secrets Manager key (no KmsKeyId = aws/secretsmanager), like the master secret
      expect(resource(base, base.logicalId(secret)).Properties!.KmsKeyId).toBeUndefined();
      expect(resource(base, roleSecretRef(base, id).Ref)).toEqual({
        Type: 'AWS::SecretsManager::SecretTargetAttachment',
        Properties: {
          SecretId: { Ref: base.logicalId(secret) },
          TargetId: { Ref: base.logicalId(base.stack.database.cluster) },
          TargetType: 'AWS::RDS::DBCluster',
        },
      });
    }
    expect(base.stack.resolve(base.stack.database.appSecret.secretArn)).toEqual(appSecretRef(base));
    expect(base.stack.resolve(base.stack.database.readerSecret.secretArn)).toEqual(readerSecretRef(base));
  });

  it('lives in isolated subnets only: no internet or NAT gateway, no public subnet', () => {
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::Route']) base.template.resourceCountIs(type, 0);
    const subnets = base.template.findResources('AWS::EC2::Subnet');
    expect(Object.keys(subnets)).toHaveLength(2);
    for (const subnet of Object.values(subnets)) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Properties.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
    }
    base.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
  });

  it('takes capacity, deletion protection and retention from the parameters', () => {
    const cluster = resource(custom, custom.logicalId(custom.stack.database.cluster));
    expect(cluster.Properties).toMatchObject({
      DeletionProtection: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
    });
    expect((cluster.Properties!.ServerlessV2ScalingConfiguration as Json).SecondsUntilAutoPause).toBeUndefined();
    expect(cluster).toMatchObject({ DeletionPolicy: 'Delete' });
  });
});

describe('functions', () => {
  const sizes = { train: [2048, 900], ingest: [1769, 900], assign: [512, 900] } as const;

  for (const name of ['train', 'ingest', 'assign'] as const) {
    it(`${name}: Node.js 24 on arm64, ESM bundle with source maps, sized, with the configuration`, () => {
      const fn = resource(base, base.logicalId(base.stack[name].function));
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: sizes[name][0],
        Timeout: sizes[name][1],
        LoggingConfig: { LogGroup: { Ref: base.logicalId(base.stack[name].logGroup) } },
      });
      expect((fn.Properties!.Environment as { Variables: Json }).Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        DATA_BUCKET: { Ref: base.logicalId(base.stack.data.bucket) },
        DB_CLUSTER_ARN: clusterArn(base),
        DB_SECRET_ARN: appSecretRef(base),
        DB_NAME: 'segments',
        AUTO_PROMOTE: 'true',
        LOG_LEVEL: 'INFO',
        POWERTOOLS_SERVICE_NAME: 'customer-segmentation',
        POWERTOOLS_METRICS_NAMESPACE: 'CustomerSegmentation',
      });
      expect(resource(base, base.logicalId(base.stack[name].logGroup)).Properties).toEqual({ RetentionInDays: 30 });
    });
  }

  it('passes autoPromote=false to the functions', () => {
    const fn = resource(custom, custom.logicalId(custom.stack.train.function));
    expect((fn.Properties!.Environment as { Variables: Json }).Variables.AUTO_PROMOTE).toBe('false');
  });

  it('reserves no concurrency by default (any reservation fails the deploy where the quota is 10)', () => {
    for (const fn of Object.values(base.template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('reserves assignReservedConcurrency for the assign function only, when given', () => {
    expect(resource(custom, custom.logicalId(custom.stack.assign.function)).Properties!.ReservedConcurrentExecutions).toBe(2);
    const reserved = Object.values(custom.template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved).toHaveLength(1);
  });

  it('retries async invocations twice, then sends them to the dead-letter queue', () => {
    for (const name of ['train', 'ingest', 'assign'] as const) {
      base.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: base.logicalId(base.stack[name].function) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: getAtt(base.logicalId(base.stack.deadLetterQueue)) } },
      });
    }
  });

  it('has an encrypted, TLS-only dead-letter queue', () => {
    expect(resource(base, base.logicalId(base.stack.deadLetterQueue)).Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    base.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: base.logicalId(base.stack.deadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('triggers', () => {
  it('sends ObjectCreated under uploads/training/*.csv to train and uploads/customers/*.csv to ingest', () => {
    const notifications = Object.values(base.template.findResources('Custom::S3BucketNotifications'));
    expect(notifications).toHaveLength(1);
    const props = notifications[0]!.Properties;
    expect(props.BucketName).toEqual({ Ref: base.logicalId(base.stack.data.bucket) });
    expect(props.NotificationConfiguration).toEqual({
      LambdaFunctionConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: [
                { Name: 'suffix', Value: '.csv' },
                { Name: 'prefix', Value: 'uploads/training/' },
              ],
            },
          },
          LambdaFunctionArn: getAtt(base.logicalId(base.stack.train.function)),
        },
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: [
                { Name: 'suffix', Value: '.csv' },
                { Name: 'prefix', Value: 'uploads/customers/' },
              ],
            },
          },
          LambdaFunctionArn: getAtt(base.logicalId(base.stack.ingest.function)),
        },
      ],
    });
  });

  it('runs assign nightly at 00:00 UTC by default', () => {
    base.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 0 * * ? *)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: getAtt(base.logicalId(base.stack.assign.function)) })],
    });
  });

  it('takes the schedule from context', () => {
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 2 * * ? *)' });
  });
});

describe('deploy order', () => {
  const dependsOn = (s: Synthesized, logicalId: string) => (resource(s, logicalId) as { DependsOn?: string[] }).DependsOn ?? [];

  it('the functions, the bucket notifications and the nightly rule wait for the migrations (schema and roles)', () => {
    const migrations = base.logicalId(base.stack.migrations.resource);
    const notifications = Object.keys(base.template.findResources('Custom::S3BucketNotifications'));
    const rules = Object.keys(base.template.findResources('AWS::Events::Rule'));
    expect(notifications).toHaveLength(1);
    expect(rules).toHaveLength(1);
    for (const id of [
      base.logicalId(base.stack.train.function),
      base.logicalId(base.stack.ingest.function),
      base.logicalId(base.stack.assign.function),
      ...notifications,
      ...rules,
    ]) {
      expect(dependsOn(base, id), id).toContain(migrations);
    }
  });

  it("the functions' role policies wait for the migrations too: a role never loses the master secret before the app user exists", () => {
    const migrations = base.logicalId(base.stack.migrations.resource);
    for (const name of ['train', 'ingest', 'assign'] as const) {
      const policies = Object.keys(base.template.findResources('AWS::IAM::Policy')).filter((id) =>
        JSON.stringify(resource(base, id).Properties).includes(base.logicalId(base.stack[name].role)),
      );
      expect(policies.length, name).toBeGreaterThan(0);
      for (const id of policies) expect(dependsOn(base, id), `${name}: ${id}`).toContain(migrations);
    }
  });

  it('the migrations wait for the cluster and reference the role secrets, never the functions', () => {
    const migrations = resource(base, base.logicalId(base.stack.migrations.resource));
    expect(dependsOn(base, base.logicalId(base.stack.migrations.resource))).toContain(base.logicalId(base.stack.database.cluster));
    const text = JSON.stringify(migrations);
    for (const name of ['train', 'ingest', 'assign'] as const) expect(text).not.toContain(base.logicalId(base.stack[name].function));
  });
});

describe('least privilege', () => {
  const dataApi = (s: Synthesized) => [
    { Effect: 'Allow', Action: [...DATA_API_ACTIONS], Resource: clusterArn(s) },
    { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: appSecretRef(s) },
  ];
  const logsAndDlq = (s: Synthesized, name: 'train' | 'ingest' | 'assign') => [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(s.logicalId(s.stack[name].logGroup)) },
    {
      Effect: 'Allow',
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
      Resource: getAtt(s.logicalId(s.stack.deadLetterQueue)),
    },
  ];
  const list = (s: Synthesized, prefixes: string[]) => ({
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: getAtt(s.logicalId(s.stack.data.bucket)),
    Condition: { StringLike: { 's3:prefix': prefixes } },
  });
  const sorted = (statements: Json[]) => [...statements].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('train: reads uploads/training/, reads and writes models/, writes results/training/, the Data API', () => {
    expect(sorted(policyStatements(base, base.stack.train.role))).toEqual(
      sorted([
        ...logsAndDlq(base, 'train'),
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsArn(base, 'uploads/training/') },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectsArn(base, 'models/') },
        { Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:PutObject'], Resource: objectsArn(base, 'results/training/') },
        list(base, ['models/*', 'uploads/training/*']),
        ...dataApi(base),
      ]),
    );
  });

  it('ingest: reads uploads/customers/ and models/, writes results/, the Data API', () => {
    expect(sorted(policyStatements(base, base.stack.ingest.role))).toEqual(
      sorted([
        ...logsAndDlq(base, 'ingest'),
        { Effect: 'Allow', Action: 's3:GetObject', Resource: [objectsArn(base, 'models/'), objectsArn(base, 'uploads/customers/')] },
        { Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'], Resource: objectsArn(base, 'results/') },
        list(base, ['models/*', 'uploads/customers/*']),
        ...dataApi(base),
      ]),
    );
  });

  it('assign: reads models/, the Data API', () => {
    expect(sorted(policyStatements(base, base.stack.assign.role))).toEqual(
      sorted([
        ...logsAndDlq(base, 'assign'),
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsArn(base, 'models/') },
        list(base, ['models/*']),
        ...dataApi(base),
      ]),
    );
  });

  it("no role but the migration function's may use the master secret", () => {
    const master = [secretRef(base).Ref, base.logicalId(base.stack.database.cluster.node.findChild('Secret'))];
    const migrationRole = base.logicalId(base.stack.migrations.handler.role);
    const offending: string[] = [];
    let rolesChecked = 0;
    const mentionsMaster = (statements: Json[]) =>
      statements.filter((st) => master.some((id) => JSON.stringify(st.Resource ?? null).includes(`"${id}"`)));
    for (const [id, r] of Object.entries(base.json.Resources)) {
      if (r.Type === 'AWS::IAM::Policy') {
        const roles = (r.Properties!.Roles as Array<{ Ref: string }>).map((role) => role.Ref);
        const statements = (r.Properties!.PolicyDocument as { Statement: Json[] }).Statement;
        if (roles.some((role) => role !== migrationRole) && mentionsMaster(statements).length > 0) offending.push(id);
      }
      if (r.Type === 'AWS::IAM::Role') {
        rolesChecked += 1;
        const inline = (r.Properties!.Policies as Array<{ PolicyDocument: { Statement: Json[] } }>) ?? [];
        if (id !== migrationRole && mentionsMaster(inline.flatMap((p) => p.PolicyDocument.Statement)).length > 0) offending.push(id);
      }
    }
    expect(rolesChecked).toBeGreaterThanOrEqual(6);
    expect(offending).toEqual([]);
    // the check does see the master secret where it is granted
    expect(mentionsMaster(policyStatements(base, base.stack.migrations.handler.role))).toHaveLength(1);
  });

  it("the functions' roles carry no managed policy", () => {
    for (const name of ['train', 'ingest', 'assign'] as const) {
      expect(resource(base, base.logicalId(base.stack[name].role)).Properties!.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('no statement anywhere gives S3 object or Data API actions on "*"', () => {
    const offending: string[] = [];
    let checked = 0;
    for (const [id, r] of Object.entries(base.json.Resources)) {
      const documents: Array<{ Statement: Json[] }> = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') documents.push(r.Properties!.PolicyDocument as never);
      if (r.Type === 'AWS::IAM::Role')
        for (const p of (r.Properties!.Policies as Array<{ PolicyDocument: never }>) ?? []) documents.push(p.PolicyDocument);
      for (const statement of documents.flatMap((d) => d.Statement)) {
        const actions = asArray(statement.Action as string | string[]);
        const sensitive = actions.filter((a) => /^s3:.*Object/.test(a) || a.startsWith('rds-data:') || a === 's3:*' || a === '*');
        if (sensitive.length === 0) continue;
        checked += 1;
        if (asArray(statement.Resource as unknown).some((res) => res === '*')) offending.push(`${id}: ${sensitive.join(',')}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9);
    expect(offending).toEqual([]);
  });
});

describe('alarms', () => {
  const topicRef = (s: Synthesized) => ({ Ref: s.logicalId(s.stack.alarms.topic) });

  it('alarms on errors and throttles of every function, to the topic', () => {
    for (const name of ['train', 'ingest', 'assign'] as const) {
      for (const metric of ['Errors', 'Throttles']) {
        base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: base.logicalId(base.stack[name].function) } }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          AlarmActions: [topicRef(base)],
        });
      }
    }
  });

  it('alarms when events are newly dead-lettered, and not on what the queue still holds', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesSent',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(base.logicalId(base.stack.deadLetterQueue), 'QueueName') }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef(base)],
    });
    const depth = Object.values(base.template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      String(a.Properties.MetricName).startsWith('ApproximateNumberOfMessages'),
    );
    expect(depth).toEqual([]);
  });

  it('alarms when no nightly run succeeded in 26 hours (Powertools metric with the service dimension)', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CustomerSegmentation',
      MetricName: 'SuccessfulRuns',
      Dimensions: [{ Name: 'service', Value: 'customer-segmentation' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [topicRef(base)],
    });
  });

  it('alarms when a nightly run recommends retraining (the drift signal)', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CustomerSegmentation',
      MetricName: 'RetrainRecommended',
      Dimensions: [{ Name: 'service', Value: 'customer-segmentation' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef(base)],
    });
  });

  it('alarms when an uploaded training file could not be trained on', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CustomerSegmentation',
      MetricName: 'TrainingFilesFailed',
      Dimensions: [{ Name: 'service', Value: 'customer-segmentation' }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef(base)],
    });
  });

  it('alarms when an uploaded customers file could not be ingested', () => {
    const alarm = base.stack.alarms.node.findChild('IngestFileFailed');
    expect(resource(base, base.logicalId(alarm)).Properties).toMatchObject({
      Namespace: 'CustomerSegmentation',
      MetricName: 'FilesFailed',
      Dimensions: [{ Name: 'service', Value: 'customer-segmentation' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef(base)],
    });
  });

  it('watches only metrics the functions emit: names from shared/metrics.ts, its namespace, the service the functions run as', () => {
    const custom = Object.values(base.template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as Json)
      .filter((p) => !String(p.Namespace).startsWith('AWS/'));
    expect(custom.map((p) => p.MetricName).sort()).toEqual(
      [METRIC.filesFailed, METRIC.retrainRecommended, METRIC.successfulRuns, METRIC.trainingFilesFailed].sort(),
    );
    const emitted: string[] = Object.values(METRIC);
    for (const p of custom) {
      expect(emitted).toContain(p.MetricName);
      expect(p.Namespace).toBe(METRICS_NAMESPACE);
      expect(p.Dimensions).toEqual([{ Name: 'service', Value: SERVICE_NAME }]);
    }
    for (const name of ['train', 'ingest', 'assign'] as const) {
      const variables = (resource(base, base.logicalId(base.stack[name].function)).Properties!.Environment as { Variables: Json })
        .Variables;
      expect(variables).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME: SERVICE_NAME });
    }
  });

  it('every alarm notifies the topic', () => {
    const alarms = Object.values(base.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(11);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicRef(base)]);
  });

  it("the topic is encrypted with a rotating key CloudWatch may use, TLS-only, and open to this account's alarms", () => {
    base.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: getAtt(base.logicalId(base.stack.alarms.key)) });
    base.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Effect: 'Allow',
          }),
        ]),
      },
    });
    base.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef(base)],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'AllowCloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Resource: topicRef(base),
            Condition: {
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*'],
                  ],
                },
              },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          },
        ],
      },
    });
  });

  it('subscribes the alert email only when alertEmail is set', () => {
    base.template.resourceCountIs('AWS::SNS::Subscription', 0);
    custom.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data-team@example.com',
      TopicArn: topicRef(custom),
    });
  });
});

describe('migrations on deploy', () => {
  it('a custom resource runs the migrate handler after the cluster exists, keyed by the migrations and the customer schema', () => {
    const migrations = resource(base, base.logicalId(base.stack.migrations.resource));
    expect(migrations.Type).toBe('Custom::SchemaMigrations');
    expect(migrations.Properties).toMatchObject({
      MigrationsFingerprint: migrationsFingerprint(),
      Versions: expect.arrayContaining(['001_initial', '002_customers_fillfactor']),
      // the migration creates the roles with the passwords of these secrets
      AppSecretArn: appSecretRef(base),
      ReaderSecretArn: readerSecretRef(base),
      // no -c schema: the mall's (schema-context.test.ts changes it)
      CustomerSchemaSha256: schemaSha256(MALL_SCHEMA),
    });
    expect(migrationsFingerprint()).toMatch(/^[0-9a-f]{64}$/);
    expect((migrations as { DependsOn?: string[] }).DependsOn).toEqual(
      expect.arrayContaining([
        base.logicalId(base.stack.database.cluster),
        base.logicalId(base.stack.database.cluster.node.findChild('Writer') as never),
      ]),
    );
    const handler = resource(base, base.logicalId(base.stack.migrations.handler.function));
    expect(handler.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: { DB_CLUSTER_ARN: clusterArn(base), DB_SECRET_ARN: secretRef(base), DB_NAME: 'segments' } },
    });
    const statements = policyStatements(base, base.stack.migrations.handler.role);
    expect(sortedActions(statements)).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:ExecuteStatement',
      'rds-data:RollbackTransaction',
      'secretsmanager:GetSecretValue',
    ]);
    // it connects as the master user, and reads exactly the two role secrets besides
    const secrets = statements.filter((st) => st.Action === 'secretsmanager:GetSecretValue').flatMap((st) => asArray(st.Resource));
    const key = (v: unknown) => JSON.stringify(v);
    expect(secrets.map(key).sort()).toEqual([secretRef(base), appSecretRef(base), readerSecretRef(base)].map(key).sort());
  });

  it('gives the migration time to wait for a just-created cluster (CLUSTER_WAIT_MS) and still apply everything', () => {
    const handler = resource(base, base.logicalId(base.stack.migrations.handler.function));
    const timeoutSeconds = (handler.Properties as { Timeout: number }).Timeout;
    expect(timeoutSeconds * 1000).toBeGreaterThanOrEqual(CLUSTER_WAIT_MS + 3 * 60 * 1000);
  });

  it("runs the migration again when a role's grants change, not only a migration", () => {
    const before = migrationsFingerprint();
    const tables = APP_GRANTS.tables as Record<string, string[]>;
    const saved = tables.customers!;
    try {
      tables.customers = [...saved, 'DELETE'];
      expect(migrationsFingerprint()).not.toBe(before);
    } finally {
      tables.customers = saved;
    }
  });
});

function sortedActions(statements: Json[]): string[] {
  return statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
}

describe('outputs', () => {
  const join = (s: Synthesized, before: string, after: string) => ({
    'Fn::Join': ['', [before, { Ref: s.logicalId(s.stack.data.bucket) }, after]],
  });
  const outputs = () => base.template.findOutputs('*');
  const parts = (name: string) => (outputs()[name]!.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const description = (name: string) => outputs()[name]!.Description as string;

  it('prints the bucket, the exact upload commands, the report pattern and the cluster', () => {
    base.template.hasOutput('BucketName', { Value: { Ref: base.logicalId(base.stack.data.bucket) } });
    base.template.hasOutput('TrainCommand', { Value: join(base, 'aws s3 cp customers.csv s3://', '/uploads/training/customers.csv') });
    base.template.hasOutput('IngestCommand', { Value: join(base, 'aws s3 cp new.csv s3://', '/uploads/customers/new.csv') });
    base.template.hasOutput('ReportUrlPattern', { Value: join(base, 's3://', '/models/<version>/report.html') });
    base.template.hasOutput('ClusterArn', { Value: clusterArn(base) });
    base.template.hasOutput('DatabaseName', { Value: 'segments' });
  });

  it('SecretArn names the read-only secret; AdminSecretArn the master secret, for migrations and smoke cleanup only', () => {
    base.template.hasOutput('SecretArn', { Value: readerSecretRef(base) });
    expect(description('SecretArn')).toMatch(/read-only .*analysts and downstream tools.*aws rds-data execute-statement/i);
    base.template.hasOutput('AdminSecretArn', { Value: secretRef(base) });
    expect(description('AdminSecretArn')).toMatch(/master user.*migrations and segments smoke cleanup, never for applications/);
    // the application role's secret is for the functions only: no output hands it out
    expect(JSON.stringify(outputs())).not.toContain(`"${appSecretRef(base).Ref}"`);
  });

  it('names the three functions and their log groups (what `segments smoke` invokes, and where it points on a failure)', () => {
    for (const name of ['train', 'ingest', 'assign'] as const) {
      const title = `${name[0]!.toUpperCase()}${name.slice(1)}`;
      base.template.hasOutput(`${title}FunctionName`, { Value: { Ref: base.logicalId(base.stack[name].function) } });
      base.template.hasOutput(`${title}LogGroup`, { Value: { Ref: base.logicalId(base.stack[name].logGroup) } });
    }
  });

  it('every output segments smoke reads exists under its name in infra/deployment.ts', () => {
    expect(Object.keys(outputs())).toEqual(expect.arrayContaining(Object.values(STACK_OUTPUT)));
  });

  it('runs functions asynchronously, once (a synchronous CLI call times out after 60 s and invokes again)', () => {
    const commands = [
      ['RunNightlyCommand', 'assign', '{}', 'AssignLogsCommand'],
      ['RollbackCommand', 'train', '{"rollback":true}', 'TrainLogsCommand'],
      ['ExportSegmentCommand', 'ingest', '{"export":{"segment":0}}', 'IngestLogsCommand'],
    ] as const;
    for (const [output, name, payload, logs] of commands) {
      expect(parts(output)).toEqual([
        'aws lambda invoke --function-name ',
        { Ref: base.logicalId(base.stack[name].function) },
        ` --invocation-type Event --cli-binary-format raw-in-base64-out --payload '${payload}' /dev/null`,
      ]);
      // how to see the result of a run that returns nothing but 202
      expect(description(output)).toContain('asynchronous');
      expect(description(output)).toContain(logs);
    }
    for (const value of Object.values(outputs()).map((o) => JSON.stringify(o.Value))) {
      if (value.includes('aws lambda invoke')) expect(value).toContain('--invocation-type Event');
    }
  });

  it("prints where each function's log is: aws logs tail <its log group> --since 10m", () => {
    for (const name of ['Train', 'Ingest', 'Assign'] as const) {
      const fn = base.stack[name.toLowerCase() as 'train' | 'ingest' | 'assign'];
      expect(parts(`${name}LogsCommand`)).toEqual(['aws logs tail ', { Ref: base.logicalId(fn.logGroup) }, ' --since 10m']);
    }
  });
});

describe('log retention', () => {
  for (const [label, s] of [
    ['default parameters', () => base],
    ['every parameter changed (auto-delete of objects too)', () => custom],
  ] as const) {
    it(`every Lambda function, CDK's helpers included, logs to a log group that expires (${label})`, () => {
      const synthesized = s();
      const functions = synthesized.template.findResources('AWS::Lambda::Function');
      const ids = Object.keys(functions);
      // ours (train, ingest, assign, migrate), the provider framework, the bucket notifications handler, the VPC default SG restriction
      expect(ids.length).toBeGreaterThanOrEqual(7);
      expect(ids.some((id) => id.startsWith('BucketNotificationsHandler'))).toBe(true);
      expect(ids.some((id) => id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
      for (const [id, fn] of Object.entries(functions)) {
        const logGroup = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
        expect(logGroup, `${id} names its log group`).toBeDefined();
        const group = resource(synthesized, logGroup!);
        expect(group.Type, id).toBe('AWS::Logs::LogGroup');
        expect(group.Properties!.RetentionInDays, id).toBe(30);
      }
    });
  }

  it('auto-deleting objects (retainData=false) gets its log group too', () => {
    const ids = Object.keys(custom.template.findResources('AWS::Lambda::Function'));
    expect(ids.some((id) => id.startsWith('CustomS3AutoDeleteObjects'))).toBe(true);
  });
});

describe('environment-agnostic', () => {
  it('pins no account or region and needs no context lookups', () => {
    expect(Token.isUnresolved(base.stack.account)).toBe(true);
    expect(Token.isUnresolved(base.stack.region)).toBe(true);
    expect(base.assembly.manifest.missing ?? []).toEqual([]);
    const subnets = Object.values(base.template.findResources('AWS::EC2::Subnet'));
    for (const subnet of subnets) expect(JSON.stringify(subnet.Properties.AvailabilityZone)).toContain('Fn::GetAZs');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no finding, of any severity, with the default parameters', () => {
    expect(validationViolations(base.outdir)).toEqual([]);
  });

  it('leaves no finding with every parameter changed', () => {
    expect(validationViolations(custom.outdir)).toEqual([]);
  });

  it('acknowledges each finding on the narrowest construct, with a reason', () => {
    const acks: Array<{ path: string; id: string }> = [];
    for (const construct of base.app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          if (!id.includes('AwsSolutions')) continue;
          expect(reason.length, `${id} on ${construct.node.path}`).toBeGreaterThan(40);
          acks.push({ path: construct.node.path, id: id.replace(/^Annotation::/, '') });
        }
      }
    }
    const bucket = `<${base.logicalId(base.stack.data.bucket)}.Arn>`;
    const key = (a: { path: string; id: string }) => `${a.path} ${a.id}`;
    expect(acks.sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual([
      { path: 'CustomerSegmentation/Assign/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/models/*]` },
      {
        path: 'CustomerSegmentation/BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      },
      { path: 'CustomerSegmentation/DataBucket/AccessLogs', id: 'AwsSolutions-S1' },
      { path: 'CustomerSegmentation/Database/AppSecret', id: 'AwsSolutions-SMG4' },
      { path: 'CustomerSegmentation/Database/Cluster', id: 'AwsSolutions-RDS10' },
      { path: 'CustomerSegmentation/Database/Cluster', id: 'AwsSolutions-RDS11' },
      { path: 'CustomerSegmentation/Database/Cluster/Secret', id: 'AwsSolutions-SMG4' },
      { path: 'CustomerSegmentation/Database/ReaderSecret', id: 'AwsSolutions-SMG4' },
      { path: 'CustomerSegmentation/DeadLetterQueue', id: 'AwsSolutions-SQS3' },
      { path: 'CustomerSegmentation/Ingest/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/models/*]` },
      { path: 'CustomerSegmentation/Ingest/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/results/*]` },
      { path: 'CustomerSegmentation/Ingest/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/uploads/customers/*]` },
      {
        path: 'CustomerSegmentation/SchemaMigrations/ProviderRole',
        id: `AwsSolutions-IAM5[Resource::<${base.logicalId(base.stack.migrations.handler.function)}.Arn>:*]`,
      },
      { path: 'CustomerSegmentation/Train/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/models/*]` },
      { path: 'CustomerSegmentation/Train/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/results/training/*]` },
      { path: 'CustomerSegmentation/Train/Role', id: `AwsSolutions-IAM5[Resource::${bucket}/uploads/training/*]` },
    ]);
  });

  it('says why no secret rotates: the isolated subnets, who reads it, and for the roles the migration', () => {
    const reason = (construct: { node: { metadata: Array<{ type: string; data: unknown }> } }) =>
      construct.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .find(([id]) => id.includes('AwsSolutions-SMG4'))?.[1];
    const { database } = base.stack;
    for (const secret of [database.cluster.node.findChild('Secret'), database.node.findChild('AppSecret')]) {
      expect(reason(secret as never)).toMatch(/rotation Lambda inside the VPC plus a Secrets Manager interface endpoint.*isolated/);
      expect(reason(secret as never)).toMatch(/Data API reads this secret on behalf of .*no person holds the password/);
    }
    // the read-only secret is meant for people: the reason says so, and what to do about it
    expect(reason(database.node.findChild('ReaderSecret') as never)).toMatch(
      /rotation Lambda inside the VPC.*isolated.*whoever is granted secretsmanager:GetSecretValue on it can read the password.*grant it narrowly/,
    );
    for (const id of ['AppSecret', 'ReaderSecret']) {
      expect(reason(database.node.findChild(id) as never)).toMatch(/SCRAM verifier.*rotation would also have to run the migration/);
    }
  });

  it('acknowledges RDS10 only while deletion protection is off', () => {
    const ids = custom.stack.database.cluster.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as object));
    expect(ids.some((id) => id.includes('RDS11'))).toBe(true);
    expect(ids.some((id) => id.includes('RDS10'))).toBe(false);
  });
});
