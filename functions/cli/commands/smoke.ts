// `segments smoke`: registered here (its options); the run lives in ../smoke.ts and is loaded only
// when the command runs (the AWS SDK clients are large).

import { defineCommand } from '../command.ts';
import { REGION_OPTION, STACK_OPTION } from './preflight.ts';

export const smoke = defineCommand({
  name: 'smoke',
  args: [],
  summary: 'after cdk deploy: run each deployed function on tiny inputs, then remove what it added',
  options: {
    region: REGION_OPTION,
    stack: STACK_OPTION,
    json: { type: 'boolean', help: 'print the report as JSON on stdout (step lines then on stderr)' },
  },
  async run({ values }, { io }) {
    const { smoke: run } = await import('../smoke.ts');
    await run(values, io);
  },
});
