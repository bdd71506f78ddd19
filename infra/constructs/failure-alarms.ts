// The original project's failure email: CloudWatch alarms (function errors and throttles, events
// newly dead-lettered, failed uploads, no successful nightly run, the drift signal) to one SNS topic.

import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FailureAlarmsProps {
  /** Subscribed to the topic by email (the recipient confirms once). @default - no subscription */
  readonly alertEmail?: string;
}

/** A custom metric the functions emit with Powertools (names in shared/metrics.ts). */
export interface ServiceMetricProps {
  /** The custom metric's namespace (POWERTOOLS_METRICS_NAMESPACE of the function). */
  readonly namespace: string;
  readonly metricName: string;
  /** Powertools Metrics adds a `service` dimension holding POWERTOOLS_SERVICE_NAME. */
  readonly service: string;
}

export interface NightlyRunAlarmProps extends ServiceMetricProps {
  /** The alarm fires when no successful run was counted for this long. */
  readonly window: Duration;
}

/** An uploaded file that could not be processed: a metric counting them and where the reason is. */
export interface FailedFileAlarmProps extends ServiceMetricProps {
  readonly alarmDescription: string;
}

const FUNCTION_ALARM_PERIOD = Duration.minutes(5);
const NIGHTLY_RUN_PERIOD = Duration.hours(1);
const KEY_PENDING_WINDOW_DAYS = 7;

/** A Powertools metric of the functions (namespace, name, and the `service` dimension it adds). */
function serviceMetric(props: ServiceMetricProps, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: props.namespace,
    metricName: props.metricName,
    dimensionsMap: { service: props.service },
    statistic,
    period,
  });
}

export class FailureAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: FailureAlarmsProps = {}) {
    super(scope, id);
    // a customer managed key: CloudWatch cannot publish to a topic under the AWS managed SNS key
    this.key = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the alarm topic of customer segmentation',
      removalPolicy: RemovalPolicy.DESTROY, // it protects nothing once the topic is gone
      pendingWindow: Duration.days(KEY_PENDING_WINDOW_DAYS),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" means this key
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { masterKey: this.key, enforceSSL: true, displayName: 'Customer segmentation alarms' });
    // a topic policy replaces SNS's default one, so the alarms of this account need their own allow
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.alertEmail !== undefined) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
    this.action = new actions.SnsAction(this.topic);
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(this.action);
    return alarm;
  }

  /** Errors > 0 and Throttles > 0 in any 5-minute period. */
  watchFunction(name: string, fn: lambda.IFunction): void {
    const common = {
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarm(`${name}Errors`, {
      ...common,
      metric: fn.metricErrors({ period: FUNCTION_ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      alarmDescription: `The ${name.toLowerCase()} function failed (an error it could not turn into a report).`,
    });
    this.alarm(`${name}Throttles`, {
      ...common,
      metric: fn.metricThrottles({ period: FUNCTION_ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      alarmDescription: `The ${name.toLowerCase()} function was throttled.`,
    });
  }

  /**
   * Events newly dead-lettered: ALARM in a 5-minute period in which an invocation failed after its
   * retries, OK again in the next period without one, however many messages the queue still holds
   * (a depth alarm would stay in ALARM for the 14 days of retention, and page for none of the later
   * failures).
   *
   * The metric is the queue's NumberOfMessagesSent. The SQS Developer Guide ("Using dead-letter
   * queues in Amazon SQS", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html#sqs-dlq-number-of-messages,
   * and the metric's row in "Available CloudWatch metrics for Amazon SQS") says a message sent to a
   * dead-letter queue manually (SendMessage) is counted, one moved there by a redrive policy after a
   * failed processing attempt is not. This queue is no redrive target: it is the functions'
   * on-failure destination, to which Lambda sends the invocation record with the function's
   * execution role (Lambda Developer Guide, "Capturing records of Lambda asynchronous
   * invocations": delivery fails without the permission, hence sqs:SendMessage on each function
   * role). Those are SendMessage calls, so they count. The guides do not name Lambda destinations
   * explicitly: that step is inferred, and worth one check on a real deployment.
   */
  watchDeadLetterQueue(queue: sqs.IQueue): void {
    this.alarm('EventsDeadLettered', {
      metric: queue.metricNumberOfMessagesSent({ period: FUNCTION_ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'An invocation failed after its retries; its event was sent to the dead-letter queue (the DeadLetterQueueUrl output). The alarm returns to OK after 5 minutes without a new one, even while the queue still holds events.',
    });
  }

  /** The nightly run's drift signal: any run that recommends retraining (missing data is no signal). */
  watchRetrainSignal(props: ServiceMetricProps): void {
    this.alarm('RetrainRecommended', {
      metric: serviceMetric(props, cloudwatch.Stats.MAXIMUM, NIGHTLY_RUN_PERIOD),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Retraining recommended: the customers labeled by the active model have drifted from its training population (PSI > 0.2 on a field, or an outlier rate above twice the training rate). See segments db status or the runs table.',
    });
  }

  /** Any uploaded file that could not be processed, in a 5-minute period (its summary says why). */
  watchFailedFiles(id: string, props: FailedFileAlarmProps): void {
    this.alarm(id, {
      metric: serviceMetric(props, cloudwatch.Stats.SUM, FUNCTION_ALARM_PERIOD),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: props.alarmDescription,
    });
  }

  /** Sum of the success metric < 1 over every hour of the window; no data counts as no run. */
  watchNightlyRun(props: NightlyRunAlarmProps): void {
    const periods = Math.ceil(props.window.toHours() / NIGHTLY_RUN_PERIOD.toHours());
    this.alarm('NoSuccessfulNightlyRun', {
      metric: serviceMetric(props, cloudwatch.Stats.SUM, NIGHTLY_RUN_PERIOD),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `No successful nightly assignment in the last ${props.window.toHours()} hours.`,
    });
  }
}
