// Builds the CDK app: parameters and the customer schema from context, the one stack, and cdk-nag's AwsSolutions checks
// (findings fail the synth). Used by infra/app.ts, the tests and the bundle-size benchmark.

import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from './deployment.ts';
import type { CustomerSchema } from '../shared/schema/customer-schema.ts';
import { readParameters, readSchema, type SegmentationParameters } from './parameters.ts';
import { SegmentationStack } from './segmentation-stack.ts';
import { acknowledgeCdkSingletons } from './singletons.ts';

export interface SegmentationApp {
  readonly app: App;
  readonly stack: SegmentationStack;
  readonly parameters: SegmentationParameters;
  /** The customer schema the functions are built with (context `schema`, else the mall's). */
  readonly schema: CustomerSchema;
}

/** A new app with the stack; throws a ParameterError naming a bad context value. */
export function createSegmentationApp(props: AppProps = {}): SegmentationApp {
  const app = new App(props);
  const schema = readSchema(app.node.tryGetContext('schema'));
  const parameters = readParameters((name) => app.node.tryGetContext(name), schema);
  const stack = new SegmentationStack(app, STACK_NAME, {
    parameters,
    schema,
    description: 'Customer segmentation: k-means segments for member customers, trained and assigned on AWS Lambda with Aurora PostgreSQL',
  });
  acknowledgeCdkSingletons(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, parameters, schema };
}
