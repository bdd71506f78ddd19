// The nightly assignment trigger: an EventBridge rule with a schedule expression (UTC), like the
// original Airflow DAG's 00:00 run. The function receives the Scheduled Event.

import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface NightlyScheduleProps {
  /** An EventBridge schedule expression, e.g. `cron(0 0 * * ? *)`. */
  readonly schedule: string;
  readonly target: lambda.IFunction;
}

export class NightlySchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: NightlyScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      schedule: events.Schedule.expression(props.schedule),
      description: 'Nightly assignment of new customers to segments',
    });
    this.rule.addTarget(new targets.LambdaFunction(props.target));
  }
}
