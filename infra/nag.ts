// Helpers to acknowledge cdk-nag findings precisely: a finding about a resource ARN names the
// resource by its logical id, e.g. AwsSolutions-IAM5[Resource::<DataBucketBD860FE1.Arn>/models/*].

import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** How cdk-nag writes `Fn::GetAtt [<resource>, Arn]` in a finding id. */
export function arnInFinding(resource: IConstruct): string {
  const element = resource.node.defaultChild as CfnElement;
  return `<${Stack.of(resource).resolve(element.logicalId) as string}.Arn>`;
}

/** Acknowledges an IAM5 wildcard-resource finding on the construct that holds the policy. */
export function acknowledgeWildcardResource(holder: unknown, resource: string, reason: string): void {
  if (!(holder instanceof Construct)) return;
  Validations.of(holder).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
}
