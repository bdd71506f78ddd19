// CDK app entry (cdk.json: "npx tsx infra/app.ts"). Parameters come from context: see
// infra/parameters.ts and the README's "Deploy to AWS".

import { ParameterError } from './parameters.ts';
import { createSegmentationApp } from './segmentation-app.ts';

try {
  createSegmentationApp().app.synth();
} catch (error) {
  if (!(error instanceof ParameterError)) throw error;
  console.error(`error: ${error.message}`);
  process.exitCode = 1;
}
