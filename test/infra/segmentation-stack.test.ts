// The synthesized stack, property by property: storage, database, functions, triggers, least
// privilege, failure handling, alarms, migrations, outputs, and cdk-nag's verdict.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { Token, Validations } from 'aws-cdk-lib';
import { DATA_API_ACTIONS } from '../../infra/constructs/database.ts';
import { migrationsFingerprint } from '../../infra/constructs/schema-migrations.ts';
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
const secretRef = (s: Synthesized) => ({
  Ref: s.logicalId(s.stack.database.cluster.node.findChild('Secret').node.findChild('Attachment') as never),
});

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
  const sizes = { train: [2048, 900], ingest: [1024, 300], assign: [512, 900] } as const;

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
        DB_SECRET_ARN: secretRef(base),
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

  it('runs one nightly assignment at a time', () => {
    expect(resource(base, base.logicalId(base.stack.assign.function)).Properties!.ReservedConcurrentExecutions).toBe(1);
    for (const name of ['train', 'ingest'] as const) {
      expect(resource(base, base.logicalId(base.stack[name].function)).Properties!.ReservedConcurrentExecutions).toBeUndefined();
    }
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

describe('least privilege', () => {
  const dataApi = (s: Synthesized) => [
    { Effect: 'Allow', Action: [...DATA_API_ACTIONS], Resource: clusterArn(s) },
    { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretRef(s) },
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

  it('alarms when the dead-letter queue holds a message', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(base.logicalId(base.stack.deadLetterQueue), 'QueueName') }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef(base)],
    });
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

  it('every alarm notifies the topic', () => {
    const alarms = Object.values(base.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(10);
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
  it('a custom resource runs the migrate handler after the cluster exists, keyed by the migrations', () => {
    const migrations = resource(base, base.logicalId(base.stack.migrations.resource));
    expect(migrations.Type).toBe('Custom::SchemaMigrations');
    expect(migrations.Properties).toMatchObject({
      MigrationsFingerprint: migrationsFingerprint(),
      Versions: ['001_initial', '002_customers_fillfactor'],
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
    expect(sortedActions(policyStatements(base, base.stack.migrations.handler.role))).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:ExecuteStatement',
      'rds-data:RollbackTransaction',
      'secretsmanager:GetSecretValue',
    ]);
  });
});

function sortedActions(statements: Json[]): string[] {
  return statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
}

describe('outputs', () => {
  const join = (s: Synthesized, before: string, after: string) => ({
    'Fn::Join': ['', [before, { Ref: s.logicalId(s.stack.data.bucket) }, after]],
  });

  it('prints the bucket, the exact upload commands, the report pattern, the cluster and the secret', () => {
    base.template.hasOutput('BucketName', { Value: { Ref: base.logicalId(base.stack.data.bucket) } });
    base.template.hasOutput('TrainCommand', { Value: join(base, 'aws s3 cp customers.csv s3://', '/uploads/training/customers.csv') });
    base.template.hasOutput('IngestCommand', { Value: join(base, 'aws s3 cp new.csv s3://', '/uploads/customers/new.csv') });
    base.template.hasOutput('ReportUrlPattern', { Value: join(base, 's3://', '/models/<version>/report.html') });
    base.template.hasOutput('ClusterArn', { Value: clusterArn(base) });
    base.template.hasOutput('SecretArn', { Value: secretRef(base) });
  });

  it('prints the lifecycle commands: rollback on the train function, segment export on the ingest function', () => {
    const outputs = base.template.findOutputs('*');
    const parts = (name: string) => (outputs[name]!.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    expect(parts('RollbackCommand')).toEqual([
      'aws lambda invoke --function-name ',
      { Ref: base.logicalId(base.stack.train.function) },
      ` --cli-binary-format raw-in-base64-out --payload '{"rollback":true}' rollback.json`,
    ]);
    expect(parts('ExportSegmentCommand')).toEqual([
      'aws lambda invoke --function-name ',
      { Ref: base.logicalId(base.stack.ingest.function) },
      ` --cli-binary-format raw-in-base64-out --payload '{"export":{"segment":0}}' export.json`,
    ]);
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
      { path: 'CustomerSegmentation/Database/Cluster', id: 'AwsSolutions-RDS10' },
      { path: 'CustomerSegmentation/Database/Cluster', id: 'AwsSolutions-RDS11' },
      { path: 'CustomerSegmentation/Database/Cluster/Secret', id: 'AwsSolutions-SMG4' },
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

  it('acknowledges RDS10 only while deletion protection is off', () => {
    const ids = custom.stack.database.cluster.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as object));
    expect(ids.some((id) => id.includes('RDS11'))).toBe(true);
    expect(ids.some((id) => id.includes('RDS10'))).toBe(false);
  });
});
