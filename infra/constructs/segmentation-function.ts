// Function defaults shared by every Lambda of the stack: a NodejsFunction bundled by the local
// esbuild (ESM, minified, source maps, arm64) with the deployment's customer schema built in, its
// own log group, and a role that may only write there.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { schemaDefine } from '../../functions/adapters/deployed-schema.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';

/** Node.js 24: the latest Lambda Node.js runtime (22 would also work; cdk-nag L1 asks for the latest). */
const RUNTIME = lambda.Runtime.NODEJS_24_X;
/** esbuild target matching RUNTIME. */
const BUNDLE_TARGET = 'node24';
const ARCHITECTURE = lambda.Architecture.ARM_64;
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** The project root: entry points are given relative to it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * ESM bundles that include CommonJS dependencies call `require` for Node built-ins; without this
 * banner they fail at load with "Dynamic require of … is not supported".
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __segmentsCreateRequire } from 'node:module'; const require = __segmentsCreateRequire(import.meta.url);";

/**
 * Bundling of every function. Nothing is external: the AWS SDK v3 clients are bundled too, so
 * the deployed code runs the SDK version the tests ran, not the one the runtime happens to have.
 * `test/bench/bundle-sizes.ts` reports what this produces.
 */
const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: BUNDLE_TARGET,
  minify: true,
  // class and function names survive minifying: errors name their class (this.name = new.target.name)
  // in logs and in a run's failure summary
  keepNames: true,
  sourceMap: true,
  sourceMapMode: nodejs.SourceMapMode.DEFAULT,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  externalModules: [],
  forceDockerBundling: false,
};

/**
 * BUNDLING with `schema` built in. An esbuild `define` rather than an environment variable (Lambda
 * caps all of a function's variables at 4 KB together, which a schema of a few dozen features
 * exceeds) or a generated source module (written into the working tree at synth time: two synths
 * with different schemas, as the tests run, would race on it). The constant's text is the
 * schema's canonical JSON, so the bundle, and with it the asset hash, changes exactly when the
 * validated schema does; functions/adapters/deployed-schema.ts reads and validates it again.
 */
export function functionBundling(schema: CustomerSchema): nodejs.BundlingOptions {
  return { ...BUNDLING, define: schemaDefine(schema) };
}

export interface SegmentationFunctionProps {
  /** Handler file relative to the project root, e.g. `functions/train/handler.ts` (exports `handler`). */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly description: string;
  /** The deployment's customer schema, built into the bundle (deployedSchema() returns it). */
  readonly schema: CustomerSchema;
  /** @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

export class SegmentationFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** How the function is bundled (the schema's `define` included), for tests and benchmarks. */
  readonly bundling: nodejs.BundlingOptions;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SegmentationFunctionProps) {
    super(scope, id);
    this.bundling = functionBundling(props.schema);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    // no AWS managed policy: writing to its own log group is all the role gets here
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: this.bundling,
    });
  }
}
