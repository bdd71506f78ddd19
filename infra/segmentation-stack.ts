// The whole system in one environment-agnostic stack: data bucket, Aurora through the Data API,
// the train / ingest / assign functions and their triggers, failure handling, alarms, migrations.

import { AspectPriority, Aspects, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DataBucket } from './constructs/data-bucket.ts';
import {
  MODELS_PREFIX,
  RESULTS_PREFIX,
  TRAINING_RESULTS_PREFIX,
  UPLOAD_SUFFIX,
  UPLOADS_CUSTOMERS_PREFIX,
  UPLOADS_TRAINING_PREFIX,
} from '../shared/storage-layout.ts';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../shared/metrics.ts';
import { ADMIN_USER, READER_USER, STACK_OUTPUT } from './deployment.ts';
import { FunctionLogRetention } from './log-retention.ts';
import { Database } from './constructs/database.ts';
import { FailureAlarms } from './constructs/failure-alarms.ts';
import { NightlySchedule } from './constructs/nightly-schedule.ts';
import { SchemaMigrations } from './constructs/schema-migrations.ts';
import { LOG_RETENTION, SegmentationFunction } from './constructs/segmentation-function.ts';
import { DEFAULT_PARAMETERS, type SegmentationParameters } from './parameters.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../shared/schema/customer-schema.ts';
import { ASSIGN_LIMITS, INGEST_LIMITS, TRAIN_LIMITS, type FunctionLimits } from '../shared/function-limits.ts';

export const LOG_LEVEL = 'INFO';
/** A nightly run plus two hours of slack. */
const NIGHTLY_ALARM_WINDOW = Duration.hours(26);

/** Async invocations (S3 notifications, the schedule) are retried twice, then sent to the DLQ. */
const ASYNC_RETRY_ATTEMPTS = 2;
const MAX_EVENT_AGE = Duration.hours(6);
const DLQ_RETENTION = Duration.days(14);

// Memory and timeout per function: shared/function-limits.ts says why (the code that must agree
// with a timeout reads them there too).
const sized = (limits: FunctionLimits) => ({ memorySize: limits.memoryMb, timeout: Duration.seconds(limits.timeoutSeconds) });
const TRAIN = sized(TRAIN_LIMITS);
const INGEST = sized(INGEST_LIMITS);
const ASSIGN = sized(ASSIGN_LIMITS);

export interface SegmentationStackProps extends StackProps {
  /** @default DEFAULT_PARAMETERS */
  readonly parameters?: SegmentationParameters;
  /**
   * The customer schema, validated: built into every function that reads or writes customers,
   * and applied to the customers table by the migration. @default MALL_SCHEMA
   */
  readonly schema?: CustomerSchema;
}

export class SegmentationStack extends Stack {
  readonly data: DataBucket;
  readonly database: Database;
  readonly train: SegmentationFunction;
  readonly ingest: SegmentationFunction;
  readonly assign: SegmentationFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: FailureAlarms;
  readonly migrations: SchemaMigrations;

  constructor(scope: Construct, id: string, props: SegmentationStackProps = {}) {
    super(scope, id, props);
    const parameters = props.parameters ?? DEFAULT_PARAMETERS;
    const schema = props.schema ?? MALL_SCHEMA;

    this.data = new DataBucket(this, 'DataBucket', { retainData: parameters.retainData });
    this.database = new Database(this, 'Database', {
      minCapacity: parameters.minCapacity,
      maxCapacity: parameters.maxCapacity,
      deletionProtection: parameters.deletionProtection,
      retainData: parameters.retainData,
    });

    const environment = {
      DATA_BUCKET: this.data.bucket.bucketName,
      DB_CLUSTER_ARN: this.database.cluster.clusterArn,
      // the application role's secret: the functions cannot read the master secret
      DB_SECRET_ARN: this.database.appSecret.secretArn,
      DB_NAME: this.database.databaseName,
      AUTO_PROMOTE: String(parameters.autoPromote),
      LOG_LEVEL,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    this.train = new SegmentationFunction(this, 'Train', {
      ...TRAIN,
      schema,
      entry: 'functions/train/handler.ts',
      description: 'Trains a customer segmentation from an uploaded CSV or the customers table',
      environment,
    });
    this.ingest = new SegmentationFunction(this, 'Ingest', {
      ...INGEST,
      schema,
      entry: 'functions/ingest/handler.ts',
      description: 'Validates, upserts and labels an uploaded customers CSV',
      environment,
    });
    this.assign = new SegmentationFunction(this, 'Assign', {
      ...ASSIGN,
      schema,
      entry: 'functions/assign/handler.ts',
      description: 'Nightly: labels pending customers with the active model',
      environment,
      // none by default: the lease row serialises nightly runs (deploy parameter assignReservedConcurrency)
      reservedConcurrentExecutions: parameters.assignReservedConcurrency,
    });

    // least privilege: each function its prefixes and actions, the Data API on this cluster
    this.data.grantObjects(this.train.function, UPLOADS_TRAINING_PREFIX, ['s3:GetObject']);
    this.data.grantObjects(this.train.function, MODELS_PREFIX, ['s3:GetObject', 's3:PutObject']);
    this.data.grantListPrefixes(this.train.function, [MODELS_PREFIX, UPLOADS_TRAINING_PREFIX]);
    // the summary of each uploaded training file (a bad file is visible there, and alarms)
    this.data.grantObjects(this.train.function, TRAINING_RESULTS_PREFIX, ['s3:PutObject', 's3:AbortMultipartUpload']);
    this.data.grantObjects(this.ingest.function, UPLOADS_CUSTOMERS_PREFIX, ['s3:GetObject']);
    this.data.grantObjects(this.ingest.function, MODELS_PREFIX, ['s3:GetObject']);
    // delete: a failed re-upload removes the earlier labeled.csv / rejects.csv of the same name
    this.data.grantObjects(this.ingest.function, RESULTS_PREFIX, ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject']);
    this.data.grantListPrefixes(this.ingest.function, [MODELS_PREFIX, UPLOADS_CUSTOMERS_PREFIX]);
    this.data.grantObjects(this.assign.function, MODELS_PREFIX, ['s3:GetObject']);
    this.data.grantListPrefixes(this.assign.function, [MODELS_PREFIX]);
    for (const fn of [this.train, this.ingest, this.assign]) this.database.grantDataApi(fn.function, this.database.appSecret);

    // triggers
    this.data.notifyOnUpload(UPLOADS_TRAINING_PREFIX, UPLOAD_SUFFIX, this.train.function);
    this.data.notifyOnUpload(UPLOADS_CUSTOMERS_PREFIX, UPLOAD_SUFFIX, this.ingest.function);
    const nightly = new NightlySchedule(this, 'NightlySchedule', { schedule: parameters.schedule, target: this.assign.function });

    // failure handling: bounded retries, then the dead-letter queue; alarms to one topic
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue (the on-failure destination) of the functions; nothing consumes it automatically, so it needs no DLQ of its own.',
    });
    this.alarms = new FailureAlarms(this, 'Alarms', { alertEmail: parameters.alertEmail });
    for (const [name, fn] of [
      ['Train', this.train],
      ['Ingest', this.ingest],
      ['Assign', this.assign],
    ] as const) {
      fn.function.configureAsyncInvoke({
        retryAttempts: ASYNC_RETRY_ATTEMPTS,
        maxEventAge: MAX_EVENT_AGE,
        onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      });
      this.alarms.watchFunction(name, fn.function);
    }
    this.alarms.watchDeadLetterQueue(this.deadLetterQueue);
    const metrics = { namespace: METRICS_NAMESPACE, service: SERVICE_NAME };
    this.alarms.watchNightlyRun({ ...metrics, metricName: METRIC.successfulRuns, window: NIGHTLY_ALARM_WINDOW });
    this.alarms.watchRetrainSignal({ ...metrics, metricName: METRIC.retrainRecommended });
    this.alarms.watchFailedFiles('TrainingFileFailed', {
      ...metrics,
      metricName: METRIC.trainingFilesFailed,
      alarmDescription: 'An uploaded training file could not be trained on; results/training/<name>/summary.json says why.',
    });
    this.alarms.watchFailedFiles('IngestFileFailed', {
      ...metrics,
      metricName: METRIC.filesFailed,
      alarmDescription:
        'An uploaded customers file could not be read as the CSV contract (nothing was upserted); results/customers/<name>/summary.json says why.',
    });

    this.migrations = new SchemaMigrations(this, 'SchemaMigrations', {
      database: this.database,
      schema,
      dropColumns: parameters.dropColumns,
    });
    // deploy order: on an update, no new code runs before its schema and database roles exist
    // (the whole function constructs: their roles' policies too, so a role never loses the old
    // secret before the migration has created the user of the new one)
    for (const dependent of [this.train, this.ingest, this.assign, this.data.notifications(), nightly.rule]) {
      if (dependent !== undefined) dependent.node.addDependency(this.migrations.resource);
    }

    // every Lambda function's logs expire, CDK's own helper functions included
    Aspects.of(this).add(new FunctionLogRetention(LOG_RETENTION), { priority: AspectPriority.MUTATING });

    this.outputs();
  }

  private outputs(): void {
    const bucket = this.data.bucket.bucketName;
    new CfnOutput(this, STACK_OUTPUT.bucketName, { value: bucket, description: 'The data bucket' });
    new CfnOutput(this, 'TrainCommand', {
      value: `aws s3 cp customers.csv s3://${bucket}/${UPLOADS_TRAINING_PREFIX}customers.csv`,
      description: 'Upload a training file: trains a new model version (and promotes it unless autoPromote=false)',
    });
    new CfnOutput(this, 'IngestCommand', {
      value: `aws s3 cp new.csv s3://${bucket}/${UPLOADS_CUSTOMERS_PREFIX}new.csv`,
      description: `Upload new customers: labeled under s3://<bucket>/${RESULTS_PREFIX}customers/new/`,
    });
    new CfnOutput(this, 'ReportUrlPattern', {
      value: `s3://${bucket}/${MODELS_PREFIX}<version>/report.html`,
      description: 'Where each model version report is written',
    });
    // The commands that run a function invoke it asynchronously (--invocation-type Event): Lambda
    // queues the event, answers 202 at once and runs it once, with the same retries, dead-letter
    // queue and alarms as the scheduled run. A synchronous `aws lambda invoke` gives up reading
    // after 60 s and sends the request again, so a long nightly run or table training ran twice;
    // `--cli-read-timeout 0` would avoid that but holds the terminal for up to 15 minutes and still
    // retries on a dropped connection. The result is in the function's log (the *LogsCommand
    // outputs) and in what the run writes.
    new CfnOutput(this, 'RunNightlyCommand', {
      value: asyncInvoke(this.assign.function.functionName, '{}'),
      description:
        'Run the nightly assignment now, once (asynchronous: returns StatusCode 202 at once). Result: AssignLogsCommand, or the latest row of the runs table.',
    });
    new CfnOutput(this, 'RollbackCommand', {
      value: asyncInvoke(this.train.function.functionName, '{"rollback":true}'),
      description:
        'Make the previous model active again (or {"promote":"<version>"}), asynchronously; the next nightly run relabels. Result: TrainLogsCommand, or models/active.json.',
    });
    new CfnOutput(this, 'ExportSegmentCommand', {
      value: asyncInvoke(this.ingest.function.functionName, '{"export":{"segment":0}}'),
      description:
        'Write segment 0 of the active model to results/exports/segment-0/customers.csv, asynchronously. Result: IngestLogsCommand, or that object.',
    });
    for (const [name, fn] of [
      ['Train', this.train],
      ['Ingest', this.ingest],
      ['Assign', this.assign],
    ] as const) {
      new CfnOutput(this, `${name}LogGroup`, {
        value: fn.logGroup.logGroupName,
        description: `The ${name.toLowerCase()} function's log group`,
      });
      new CfnOutput(this, `${name}LogsCommand`, {
        value: `aws logs tail ${fn.logGroup.logGroupName} --since 10m`,
        description: `The ${name.toLowerCase()} function's log of the last 10 minutes (add --follow to keep watching)`,
      });
    }
    new CfnOutput(this, STACK_OUTPUT.trainFunctionName, { value: this.train.function.functionName, description: 'The train function' });
    new CfnOutput(this, STACK_OUTPUT.ingestFunctionName, { value: this.ingest.function.functionName, description: 'The ingest function' });
    new CfnOutput(this, STACK_OUTPUT.assignFunctionName, {
      value: this.assign.function.functionName,
      description: 'The nightly assign function',
    });
    new CfnOutput(this, STACK_OUTPUT.clusterArn, {
      value: this.database.cluster.clusterArn,
      description: 'Aurora cluster (Data API enabled)',
    });
    new CfnOutput(this, STACK_OUTPUT.secretArn, {
      value: this.database.readerSecret.secretArn,
      description: `Read-only database credentials (${READER_USER}) for analysts and downstream tools, with aws rds-data execute-statement --resource-arn <ClusterArn> --secret-arn <SecretArn> --database <DatabaseName>`,
    });
    new CfnOutput(this, STACK_OUTPUT.adminSecretArn, {
      value: this.database.secret.secretArn,
      description: `The master user's secret (${ADMIN_USER}): for migrations and segments smoke cleanup, never for applications`,
    });
    new CfnOutput(this, STACK_OUTPUT.databaseName, { value: this.database.databaseName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Alarm notifications' });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Events that failed after their retries',
    });
  }
}

/** `aws lambda invoke` of one asynchronous run; nothing comes back but the 202, so no output file. */
function asyncInvoke(functionName: string, payload: string): string {
  return `aws lambda invoke --function-name ${functionName} --invocation-type Event --cli-binary-format raw-in-base64-out --payload '${payload}' /dev/null`;
}
