// CDK app entry (cdk.json: "npx tsx infra/app.ts"). Parameters come from context: see
// infra/parameters.ts and the README's "Deploy to AWS".

import { createSegmentationApp } from './segmentation-app.ts';

createSegmentationApp().app.synth();
