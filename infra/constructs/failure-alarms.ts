// The original project's failure email: CloudWatch alarms (function errors and throttles, failed
// invocations waiting in the dead-letter queue, no successful nightly run) to one SNS topic.

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

export interface NightlyRunAlarmProps {
  /** The custom metric's namespace (POWERTOOLS_METRICS_NAMESPACE of the function). */
  readonly namespace: string;
  /** The metric counting successful runs. */
  readonly metricName: string;
  /** Powertools Metrics adds a `service` dimension holding POWERTOOLS_SERVICE_NAME. */
  readonly service: string;
  /** The alarm fires when no successful run was counted for this long. */
  readonly window: Duration;
}

const FUNCTION_ALARM_PERIOD = Duration.minutes(5);
const NIGHTLY_RUN_PERIOD = Duration.hours(1);
const KEY_PENDING_WINDOW_DAYS = 7;

/** A Powertools metric of the functions (namespace, name, and the `service` dimension it adds). */
function serviceMetric(props: Omit<NightlyRunAlarmProps, 'window'>, statistic: string, period: Duration): cloudwatch.Metric {
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

  /** Any message in the dead-letter queue: an invocation failed after its retries. */
  watchDeadLetterQueue(queue: sqs.IQueue): void {
    this.alarm('DeadLetterQueueNotEmpty', {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: FUNCTION_ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'An invocation failed after its retries; the event is in the dead-letter queue.',
    });
  }

  /** The nightly run's drift signal: any run that recommends retraining (missing data is no signal). */
  watchRetrainSignal(props: Omit<NightlyRunAlarmProps, 'window'>): void {
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

  /** An uploaded training file that could not be trained on (its summary under results/training/ says why). */
  watchFailedTrainingFiles(props: Omit<NightlyRunAlarmProps, 'window'>): void {
    this.alarm('TrainingFileFailed', {
      metric: serviceMetric(props, cloudwatch.Stats.SUM, FUNCTION_ALARM_PERIOD),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'An uploaded training file could not be trained on; results/training/<name>/summary.json says why.',
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
