// cdk-nag acknowledgements for the functions CDK itself adds once per stack (the S3 bucket
// notifications handler), whose code and role are CDK's, not this project's.

import { Validations, type Stack } from 'aws-cdk-lib';

/** Construct id of the singleton behind `bucket.addEventNotification` (fixed in aws-cdk-lib). */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

export function acknowledgeCdkSingletons(stack: Stack): void {
  const notifications = stack.node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
  if (notifications !== undefined) {
    Validations.of(notifications).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's bucket notifications handler runs once per deploy to configure the data bucket's notifications; its role and managed logging policy are set by aws-cdk-lib.",
    });
  }
}
