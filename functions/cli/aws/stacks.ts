// CloudFormation stacks as the CLI needs them: status and outputs by name, or null when the stack
// does not exist (CloudFormation says so with a ValidationError, not a 404).

import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { AwsCallError, callAws } from './errors.ts';

export interface StackDescription {
  readonly name: string;
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
}

const DESCRIBE_STACKS = { name: 'CloudFormation DescribeStacks', permission: 'cloudformation:DescribeStacks' } as const;

/** The stack's status and outputs; null when no stack of that name exists in the region. */
export async function describeStack(cloudFormation: CloudFormationClient, name: string): Promise<StackDescription | null> {
  try {
    const out = await callAws(DESCRIBE_STACKS, () => cloudFormation.send(new DescribeStacksCommand({ StackName: name })));
    const stack = out.Stacks?.[0];
    if (stack === undefined) return null;
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) if (o.OutputKey !== undefined && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return { name: stack.StackName ?? name, status: stack.StackStatus ?? 'UNKNOWN', outputs };
  } catch (error) {
    if (
      error instanceof AwsCallError &&
      error.code === 'ValidationError' &&
      /does not exist/i.test(String((error.cause as Error)?.message))
    )
      return null;
    throw error;
  }
}
