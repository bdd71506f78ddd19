// The whole system in one environment-agnostic stack: data bucket, Aurora through the Data API,
// the train / ingest / assign functions and their triggers, failure handling, alarms, migrations.

import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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

import { Database } from './constructs/database.ts';
import { FailureAlarms } from './constructs/failure-alarms.ts';
import { NightlySchedule } from './constructs/nightly-schedule.ts';
import { SchemaMigrations } from './constructs/schema-migrations.ts';
import { SegmentationFunction } from './constructs/segmentation-function.ts';
import { DEFAULT_PARAMETERS, type SegmentationParameters } from './parameters.ts';

export const SERVICE_NAME = 'customer-segmentation';
export const METRICS_NAMESPACE = 'CustomerSegmentation';
export const SUCCESSFUL_RUNS_METRIC = 'SuccessfulRuns';
/** Emitted by the assign function: 1 when a nightly run recommends retraining. */
export const RETRAIN_RECOMMENDED_METRIC = 'RetrainRecommended';
/** Emitted by the train function for an uploaded training file that could not be trained on. */
export const TRAINING_FILES_FAILED_METRIC = 'TrainingFilesFailed';
export const LOG_LEVEL = 'INFO';
/** A nightly run plus two hours of slack. */
export const NIGHTLY_ALARM_WINDOW = Duration.hours(26);

/** Async invocations (S3 notifications, the schedule) are retried twice, then sent to the DLQ. */
export const ASYNC_RETRY_ATTEMPTS = 2;
export const MAX_EVENT_AGE = Duration.hours(6);
const DLQ_RETENTION = Duration.days(14);

// Memory and timeout per function. Lambda gives CPU in proportion to memory.
// train: the k sweep (k = 1..10, 100 restarts each) is CPU-bound and holds the training rows in
//   memory: 2048 MB (~1.2 vCPU), and the 15-minute maximum for large tables.
const TRAIN = { memorySize: 2048, timeout: Duration.minutes(15) };
// ingest: streams the CSV and upserts in 1,000-row statements; 5 minutes covers ~100k rows.
const INGEST = { memorySize: 1024, timeout: Duration.minutes(5) };
// assign: PostgreSQL does the labeling (one UPDATE per bounded key range); the function mostly
//   waits on the Data API, so 512 MB, and 15 minutes for a large backlog after a promotion.
const ASSIGN = { memorySize: 512, timeout: Duration.minutes(15) };

export interface SegmentationStackProps extends StackProps {
  /** @default DEFAULT_PARAMETERS */
  readonly parameters?: SegmentationParameters;
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
      DB_SECRET_ARN: this.database.secret.secretArn,
      DB_NAME: this.database.databaseName,
      AUTO_PROMOTE: String(parameters.autoPromote),
      LOG_LEVEL,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    this.train = new SegmentationFunction(this, 'Train', {
      ...TRAIN,
      entry: 'functions/train/handler.ts',
      description: 'Trains a customer segmentation from an uploaded CSV or the customers table',
      environment,
    });
    this.ingest = new SegmentationFunction(this, 'Ingest', {
      ...INGEST,
      entry: 'functions/ingest/handler.ts',
      description: 'Validates, upserts and labels an uploaded customers CSV',
      environment,
    });
    this.assign = new SegmentationFunction(this, 'Assign', {
      ...ASSIGN,
      entry: 'functions/assign/handler.ts',
      description: 'Nightly: labels pending customers with the active model',
      environment,
      reservedConcurrentExecutions: 1, // one nightly run at a time (the lease row is the second guard)
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
    for (const fn of [this.train, this.ingest, this.assign]) this.database.grantDataApi(fn.function);

    // triggers
    this.data.notifyOnUpload(UPLOADS_TRAINING_PREFIX, UPLOAD_SUFFIX, this.train.function);
    this.data.notifyOnUpload(UPLOADS_CUSTOMERS_PREFIX, UPLOAD_SUFFIX, this.ingest.function);
    new NightlySchedule(this, 'NightlySchedule', { schedule: parameters.schedule, target: this.assign.function });

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
    this.alarms.watchNightlyRun({
      namespace: METRICS_NAMESPACE,
      metricName: SUCCESSFUL_RUNS_METRIC,
      service: SERVICE_NAME,
      window: NIGHTLY_ALARM_WINDOW,
    });
    this.alarms.watchRetrainSignal({ namespace: METRICS_NAMESPACE, metricName: RETRAIN_RECOMMENDED_METRIC, service: SERVICE_NAME });
    this.alarms.watchFailedTrainingFiles({ namespace: METRICS_NAMESPACE, metricName: TRAINING_FILES_FAILED_METRIC, service: SERVICE_NAME });

    this.migrations = new SchemaMigrations(this, 'SchemaMigrations', { database: this.database });

    this.outputs();
  }

  private outputs(): void {
    const bucket = this.data.bucket.bucketName;
    new CfnOutput(this, 'BucketName', { value: bucket, description: 'The data bucket' });
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
    new CfnOutput(this, 'RunNightlyCommand', {
      value: `aws lambda invoke --function-name ${this.assign.function.functionName} --cli-binary-format raw-in-base64-out --payload '{}' assign.json`,
      description: 'Run the nightly assignment now',
    });
    new CfnOutput(this, 'RollbackCommand', {
      value: `aws lambda invoke --function-name ${this.train.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"rollback":true}' rollback.json`,
      description: 'Make the previous model active again (or {"promote":"<version>"}); the next nightly run relabels',
    });
    new CfnOutput(this, 'ExportSegmentCommand', {
      value: `aws lambda invoke --function-name ${this.ingest.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"export":{"segment":0}}' export.json`,
      description: 'Write segment 0 of the active model to results/exports/segment-0/customers.csv',
    });
    new CfnOutput(this, 'ClusterArn', { value: this.database.cluster.clusterArn, description: 'Aurora cluster (Data API enabled)' });
    new CfnOutput(this, 'SecretArn', { value: this.database.secret.secretArn, description: 'Database credentials, for the Data API' });
    new CfnOutput(this, 'DatabaseName', { value: this.database.databaseName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Alarm notifications' });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Events that failed after their retries',
    });
  }
}
