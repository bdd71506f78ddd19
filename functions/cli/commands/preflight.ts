// `segments preflight`: registered here (its options); the checks live in ../preflight.ts and are
// loaded only when the command runs (the AWS SDK clients are large).

import { STACK_NAME } from '../../../infra/deployment.ts';
import { defineCommand, jsonOption, type OptionDefinition } from '../command.ts';

/** The deployment the AWS commands look at. */
export const REGION_OPTION = {
  type: 'string',
  value: '<region>',
  help: "the AWS region (default: the SDK's, e.g. AWS_REGION)",
} as const satisfies OptionDefinition;
export const STACK_OPTION = {
  type: 'string',
  value: '<name>',
  help: `the app's stack (default ${STACK_NAME})`,
} as const satisfies OptionDefinition;

export const preflight = defineCommand({
  name: 'preflight',
  args: [],
  summary: 'before cdk deploy: read-only AWS checks of what would make it fail',
  options: {
    region: REGION_OPTION,
    stack: STACK_OPTION,
    'toolkit-stack-name': { type: 'string', value: '<name>', help: 'the CDK bootstrap stack (default CDKToolkit)' },
    'assign-reserved-concurrency': { type: 'string', value: '<n>', help: 'the deploy parameter you mean to pass' },
    json: jsonOption('the findings'),
  },
  async run({ values }, { io }) {
    const { preflight: run } = await import('../preflight.ts');
    await run(values, io);
  },
});
